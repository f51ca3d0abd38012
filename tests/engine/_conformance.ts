/**
 * The engine conformance suite: known-answer tests from published vectors (`src/selftest/vectors/`, which the
 * accelerator self-test runs too) for every algorithm an engine claims in `capabilities()`, plus the contract
 * every engine keeps (`_conformance_contract.ts`). The same suite runs on the software engine and on any
 * accelerator engine; what an engine does not claim is skipped (and, by the contract tests, refused with
 * `notsupp`).
 *
 * For each vector whose algorithm and key length the engine claims: encryption and decryption (or the digest)
 * with single ranges, in place, and with every list split at odd positions across separate memory blocks; for
 * AEADs also a wrong tag (BADMSG, no plaintext released). Every claimed algorithm must have vectors.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Status } from "../../src/spec/virtio_crypto.ts";
import type { AlgorithmInfo, Capabilities, CryptoEngine } from "../../src/engine/mod.ts";
import { buildOp, hex, read, toHex, withEngine } from "./_helpers.ts";
import { contractSuite } from "./_conformance_contract.ts";
import type { AeadVector, CipherVector, HashVector, MacVector } from "../../src/selftest/vectors/_types.ts";
import {
  AEAD_VECTORS,
  CIPHER_VECTORS,
  HASH_VECTORS,
  MAC_VECTORS,
} from "../../src/selftest/vectors/catalog.ts";

const ENCRYPT = 1;
const DECRYPT = 2;

/**
 * Registers the conformance tests for an engine.
 *
 * @param makeEngine Makes a fresh engine; every test makes its own and closes it.
 * @param name The engine's name in test names, such as `SoftwareEngine`.
 */
export function conformanceSuite(makeEngine: () => CryptoEngine, name: string): void {
  const probe = makeEngine();
  const caps = probe.capabilities();
  probe.close();
  coverageTests(caps, name);
  for (const v of CIPHER_VECTORS) {
    const info = claimed(caps.cipher, v.algo, v.key.length / 2);
    if (info !== undefined) cipherTests(makeEngine, `${name} ${info.name}`, v);
  }
  for (const v of HASH_VECTORS) {
    const info = caps.hash.get(v.algo);
    if (info !== undefined) hashTests(makeEngine, `${name} ${info.name}`, v);
  }
  for (const v of MAC_VECTORS) {
    const info = claimed(caps.mac, v.algo, v.key.length / 2);
    if (info !== undefined) macTests(makeEngine, `${name} ${info.name}`, v);
  }
  for (const v of AEAD_VECTORS) {
    const info = claimed(caps.aead, v.algo, v.key.length / 2);
    if (info !== undefined) aeadTests(makeEngine, `${name} ${info.name}`, v);
  }
  contractSuite(makeEngine, name, caps);
}

function claimed(
  map: ReadonlyMap<number, AlgorithmInfo>,
  algo: number,
  keyLen: number,
): AlgorithmInfo | undefined {
  const info = map.get(algo);
  return info !== undefined && info.keyLengths.includes(keyLen) ? info : undefined;
}

/** Every claimed algorithm has at least one vector, so nothing claimed goes untested. */
function coverageTests(caps: Capabilities, name: string): void {
  const check = (
    kind: string,
    map: ReadonlyMap<number, AlgorithmInfo>,
    vectors: readonly { algo: number }[],
  ) => {
    Deno.test(`${name} has known-answer vectors for every claimed ${kind}`, () => {
      const missing = [...map].filter(([id]) => !vectors.some((v) => v.algo === id)).map(([, i]) => i.name);
      assert.deepEqual(missing, []);
    });
  };
  check("cipher", caps.cipher, CIPHER_VECTORS);
  check("hash", caps.hash, HASH_VECTORS);
  check("MAC", caps.mac, MAC_VECTORS);
  check("AEAD", caps.aead, AEAD_VECTORS);
}

function cipherTests(makeEngine: () => CryptoEngine, prefix: string, v: CipherVector): void {
  const run = (direction: number, input: string, options: { split?: boolean; inPlace?: boolean }) => {
    let out = "";
    withEngine(makeEngine, (engine) => {
      const session = engine.createSession({
        service: "cipher",
        algo: v.algo,
        key: hex(v.key),
        direction: direction as 1,
      });
      const data = hex(input);
      const op = buildOp(session, { iv: hex(v.iv), src: data, dstLen: data.length, ...options });
      assert.equal(engine.submit(op), Status.OK);
      out = toHex(read(op.dst));
    });
    return out;
  };
  Deno.test(`${prefix} encrypts ${v.id}`, () => assert.equal(run(ENCRYPT, v.plaintext, {}), v.ciphertext));
  Deno.test(`${prefix} decrypts ${v.decryptId ?? v.id}`, () =>
    assert.equal(run(DECRYPT, v.ciphertext, {}), v.plaintext));
  Deno.test(`${prefix} encrypts ${v.id} in place`, () => {
    assert.equal(run(ENCRYPT, v.plaintext, { inPlace: true }), v.ciphertext);
  });
  Deno.test(`${prefix} encrypts ${v.id} over split ranges`, () => {
    assert.equal(run(ENCRYPT, v.plaintext, { split: true }), v.ciphertext);
  });
  Deno.test(`${prefix} decrypts ${v.decryptId ?? v.id} in place over split ranges`, () => {
    assert.equal(run(DECRYPT, v.ciphertext, { split: true, inPlace: true }), v.plaintext);
  });
}

function hashTests(makeEngine: () => CryptoEngine, prefix: string, v: HashVector): void {
  const run = (split: boolean) => {
    let out = "";
    withEngine(makeEngine, (engine) => {
      const session = engine.createSession({ service: "hash", algo: v.algo, resultLen: v.digest.length / 2 });
      const op = buildOp(session, { src: hex(v.message), digest: v.digest.length / 2, split });
      assert.equal(engine.submit(op), Status.OK);
      out = toHex(read(op.digest));
    });
    return out;
  };
  Deno.test(`${prefix} hashes ${v.id}`, () => assert.equal(run(false), v.digest));
  Deno.test(`${prefix} hashes ${v.id} over split ranges`, () => assert.equal(run(true), v.digest));
}

function macTests(makeEngine: () => CryptoEngine, prefix: string, v: MacVector): void {
  const run = (split: boolean) => {
    let out = "";
    withEngine(makeEngine, (engine) => {
      const session = engine.createSession({
        service: "mac",
        algo: v.algo,
        key: hex(v.key),
        resultLen: v.mac.length / 2,
      });
      const op = buildOp(session, {
        iv: hex(v.iv ?? ""),
        src: hex(v.message),
        digest: v.mac.length / 2,
        split,
      });
      assert.equal(engine.submit(op), Status.OK);
      out = toHex(read(op.digest));
    });
    return out;
  };
  Deno.test(`${prefix} computes ${v.id}`, () => assert.equal(run(false), v.mac));
  Deno.test(`${prefix} computes ${v.id} over split ranges`, () => assert.equal(run(true), v.mac));
}

/** Options of one AEAD run: split lists, in place. */
interface RunOptions {
  readonly split?: boolean;
  readonly inPlace?: boolean;
}

/**
 * Runs one AEAD operation of vector `v` on a fresh engine.
 *
 * @returns `status/dst/tag` in hex (tag: what the digest list holds afterwards).
 */
function aeadRun(
  makeEngine: () => CryptoEngine,
  v: AeadVector,
  tag: string | null,
  options: RunOptions,
): string {
  let out = "";
  withEngine(makeEngine, (engine) => {
    const tagLen = v.tag.length / 2;
    const direction = tag === null ? ENCRYPT : DECRYPT;
    const key = hex(v.key);
    const session = engine.createSession({
      service: "aead",
      algo: v.algo,
      key,
      tagLen,
      aadLen: v.aad.length / 2,
      direction: direction as 1,
    });
    const input = hex(tag === null ? v.plaintext : v.ciphertext);
    const digest = tag === null ? tagLen : hex(tag);
    const op = buildOp(session, {
      iv: hex(v.nonce),
      src: input,
      dstLen: input.length,
      aad: hex(v.aad),
      digest,
      ...options,
    });
    const status = engine.submit(op);
    out = `${status}/${toHex(read(op.dst))}/${toHex(read(op.digest))}`;
  });
  return out;
}

function aeadTests(makeEngine: () => CryptoEngine, prefix: string, v: AeadVector): void {
  const sealed = `${Status.OK}/${v.ciphertext}/${v.tag}`;
  const opened = `${Status.OK}/${v.plaintext}/${v.tag}`;
  const rejected = (tag: string) => `${Status.BADMSG}/${"00".repeat(v.plaintext.length / 2)}/${tag}`;
  const flip = (i: number, bit: number) => toHex(hex(v.tag).map((b, j) => (j === i ? b ^ bit : b)));
  Deno.test(`${prefix} encrypts ${v.id}`, () => assert.equal(aeadRun(makeEngine, v, null, {}), sealed));
  Deno.test(`${prefix} decrypts ${v.id}`, () => assert.equal(aeadRun(makeEngine, v, v.tag, {}), opened));
  Deno.test(`${prefix} encrypts ${v.id} in place`, () => {
    assert.equal(aeadRun(makeEngine, v, null, { inPlace: true }), sealed);
  });
  Deno.test(`${prefix} encrypts ${v.id} over split ranges`, () => {
    assert.equal(aeadRun(makeEngine, v, null, { split: true }), sealed);
  });
  Deno.test(`${prefix} decrypts ${v.id} in place over split ranges`, () => {
    assert.equal(aeadRun(makeEngine, v, v.tag, { split: true, inPlace: true }), opened);
  });
  Deno.test(`${prefix} rejects ${v.id} with a wrong tag and releases no plaintext`, () => {
    const wrong = flip(0, 1);
    assert.equal(aeadRun(makeEngine, v, wrong, {}), rejected(wrong));
  });
  Deno.test(`${prefix} rejects ${v.id} with a wrong tag in place over split ranges`, () => {
    const wrong = flip(v.tag.length / 2 - 1, 0x80);
    assert.equal(aeadRun(makeEngine, v, wrong, { split: true, inPlace: true }), rejected(wrong));
  });
}
