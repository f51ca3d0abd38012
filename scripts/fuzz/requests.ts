/**
 * The fuzzer's data requests: one session per symmetric service (cipher, hash, MAC, AEAD, algorithm chaining),
 * and requests for them with plausible or mutated lengths, in place or not, which `batches.ts` then submits with
 * a mutated header and a random chain shape.
 *
 * @module
 */

import {
  aeadRequest,
  buildRequest,
  chainRequest,
  cipherRequest,
  hashRequest,
  macRequest,
  type RequestParts,
  type SessionSpec,
  type VirtioCryptoDriver,
} from "../../src/frontend/mod.ts";
import {
  AeadAlgo,
  AlgChainOrder,
  CipherAlgo,
  HashAlgo,
  MacAlgo,
  SymHashMode,
} from "../../src/spec/virtio_crypto.ts";
import type { Rng } from "./mutate.ts";

/** A service's session, open for a batch. */
export interface FuzzSession {
  readonly service: SessionSpec["service"];
  readonly id: bigint;
}

function specs(rng: Rng): SessionSpec[] {
  return [
    { service: "cipher", algo: CipherAlgo.AES_CBC, key: rng.bytes(16), op: 1 },
    { service: "hash", algo: HashAlgo.SHA_256, resultLen: 32 },
    { service: "mac", algo: MacAlgo.HMAC_SHA_256, resultLen: 32, key: rng.bytes(32) },
    { service: "aead", algo: AeadAlgo.GCM, key: rng.bytes(16), tagLen: 16, aadLen: 16, op: 1 },
    {
      service: "chain",
      order: AlgChainOrder.CIPHER_THEN_HASH,
      cipherAlgo: CipherAlgo.AES_CBC,
      key: rng.bytes(16),
      op: 1,
      hashMode: SymHashMode.AUTH,
      authAlgo: MacAlgo.HMAC_SHA_256,
      resultLen: 32,
      authKey: rng.bytes(32),
      aadLen: 0,
    },
  ];
}

/**
 * Opens one session per service the daemon accepts.
 *
 * @param driver The driver.
 * @param rng The batch's PRNG (keys).
 * @returns The sessions made.
 */
export async function openSessions(driver: VirtioCryptoDriver, rng: Rng): Promise<FuzzSession[]> {
  const out: FuzzSession[] = [];
  for (const spec of specs(rng)) {
    const r = await driver.createSessionCtrl(spec);
    if (r.status === 0) out.push({ service: spec.service, id: r.id });
  }
  return out;
}

/**
 * Closes the sessions.
 *
 * @param driver The driver.
 * @param sessions What `openSessions` made.
 */
export async function closeSessions(
  driver: VirtioCryptoDriver,
  sessions: readonly FuzzSession[],
): Promise<void> {
  for (const s of sessions) await driver.closeSessionCtrl(s.service, s.id);
}

/**
 * A request for one of the sessions (sometimes a session id of another service or none), with lengths that fit
 * or not; null when the driver cannot even build it (lengths it refuses).
 *
 * @param driver The driver (its layout).
 * @param rng The batch's PRNG.
 * @param sessions The open sessions.
 * @returns The parts, or null.
 */
export function fuzzRequest(
  driver: VirtioCryptoDriver,
  rng: Rng,
  sessions: readonly FuzzSession[],
): RequestParts | null {
  const s = rng.pick(sessions);
  const id = rng.below(8) === 0 ? rng.pick(sessions).id + BigInt(rng.below(3)) : s.id;
  const len = rng.pick([16, 32, 64, 1024, 4096, 17, 0]);
  const iv = rng.bytes(16);
  const src = rng.bytes(len);
  try {
    switch (s.service) {
      case "cipher":
        return buildRequest(cipherRequest(id, rng.below(2) === 0, iv, len), driver.layout, {
          iv,
          src_data: src,
        }, rng.below(4) === 0);
      case "hash":
        return buildRequest(hashRequest(id, len, rng.pick([32, 16, 64])), driver.layout, { src_data: src });
      case "mac":
        return buildRequest(macRequest(id, len, rng.pick([32, 16, 64])), driver.layout, { src_data: src });
      case "aead":
        return aead(driver, rng, id, iv, src);
      default:
        return chain(driver, id, iv, src, rng.below(len + 2));
    }
  } catch {
    return null; // lengths the driver refuses to lay out: the header mutations reach such values anyway
  }
}

function aead(
  driver: VirtioCryptoDriver,
  rng: Rng,
  id: bigint,
  iv: Uint8Array,
  src: Uint8Array,
): RequestParts {
  const tag = rng.pick([16, 12, 0]);
  const l = {
    ivLen: rng.pick([12, 16, 0]),
    aadLen: rng.pick([16, 0, 3]),
    srcLen: src.length,
    dstLen: src.length + tag,
    tagLen: tag,
  };
  return buildRequest(aeadRequest(id, true, l), driver.layout, {
    iv,
    aad: rng.bytes(l.aadLen),
    src_data: src,
  });
}

// Cipher then hash, the hash starting at `cut` (past the end when cut > length).
function chain(
  driver: VirtioCryptoDriver,
  id: bigint,
  iv: Uint8Array,
  src: Uint8Array,
  cut: number,
): RequestParts {
  const len = src.length;
  const l = {
    ivLen: 16,
    srcLen: len,
    cipherStart: 0,
    cipherLen: len,
    hashStart: cut,
    hashLen: len - cut,
    aadLen: 0,
    resultLen: 32,
  };
  return buildRequest(chainRequest(id, true, l), driver.layout, { iv, src_data: src });
}
