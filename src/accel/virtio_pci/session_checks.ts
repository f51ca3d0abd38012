/**
 * Session parameters checked before the device sees them, with the software engine's refusals (`notsupp` for what
 * is not claimed, `invalid` for impossible parameters, same message style): the router and the conformance suite
 * treat every engine alike, and a device should not be the one to discover that a tag length is impossible.
 *
 * @module
 */

import { type Capabilities, EngineError, type SessionParams } from "../../engine/mod.ts";
import { AEADS } from "../../engine/software/algorithms.ts";
import { AlgChainOrder, CryptoOpDirection, SymHashMode } from "../../spec/virtio_crypto.ts";
import { HASH_SIZES, MAC_SIZES } from "./device_caps.ts";

/**
 * Checks a session against the claimed table.
 *
 * @param caps What the engine claims.
 * @param params The session.
 * @throws EngineError `notsupp` (algorithm, service or chaining not claimed) or `invalid` (key, tag or result
 *   length, direction, chain order).
 */
export function checkSession(caps: Capabilities, params: SessionParams): void {
  switch (params.service) {
    case "cipher":
      return checkCipher(caps, params.algo, params.key.length, params.direction);
    case "hash":
      claimedAlgo(caps.hash, "hash", params.algo);
      return checkResult(params.resultLen, HASH_SIZES.get(params.algo));
    case "mac":
      checkKey(claimedAlgo(caps.mac, "MAC", params.algo), params.key.length);
      return checkResult(params.resultLen, MAC_SIZES.get(params.algo));
    case "aead":
      return checkAead(caps, params);
    case "chain":
      return checkChain(caps, params);
    case "akcipher":
      throw new EngineError("notsupp", "Cannot create session: akcipher is not driven on this accelerator");
  }
}

function claimedAlgo(
  table: Capabilities["cipher"],
  service: string,
  algo: number,
): { readonly keyLengths: readonly number[] } {
  const info = table.get(algo);
  if (info === undefined) {
    throw new EngineError(
      "notsupp",
      `Cannot create session: ${service} algorithm ${algo} is not supported by this engine`,
    );
  }
  return info;
}

function checkCipher(caps: Capabilities, algo: number, keyLen: number, direction: number): void {
  checkKey(claimedAlgo(caps.cipher, "cipher", algo), keyLen);
  if (direction !== CryptoOpDirection.ENCRYPT && direction !== CryptoOpDirection.DECRYPT) {
    throw invalid(`direction must be 1 (encrypt) or 2 (decrypt): current value is ${direction}`);
  }
}

function checkKey(info: { readonly keyLengths: readonly number[] }, keyLen: number): void {
  if (!info.keyLengths.includes(keyLen)) {
    throw invalid(`key length must be one of ${describe(info.keyLengths)}: current value is ${keyLen}`);
  }
}

function checkResult(resultLen: number, max: number | undefined): void {
  const limit = max ?? 64;
  if (!Number.isInteger(resultLen) || resultLen < 1 || resultLen > limit) {
    throw invalid(`result length must be in 1..${limit}: current value is ${resultLen}`);
  }
}

function checkAead(caps: Capabilities, params: Extract<SessionParams, { service: "aead" }>): void {
  checkKey(claimedAlgo(caps.aead, "AEAD", params.algo), params.key.length);
  const tags = AEADS.get(params.algo)?.tagLengths ?? [16];
  if (!tags.includes(params.tagLen)) {
    throw invalid(`tag length must be one of ${describe(tags)}: current value is ${params.tagLen}`);
  }
  if (params.direction !== CryptoOpDirection.ENCRYPT && params.direction !== CryptoOpDirection.DECRYPT) {
    throw invalid(`direction must be 1 (encrypt) or 2 (decrypt): current value is ${params.direction}`);
  }
}

function checkChain(caps: Capabilities, params: Extract<SessionParams, { service: "chain" }>): void {
  if (!caps.chaining) {
    throw new EngineError(
      "notsupp",
      "Cannot create session: algorithm chaining is not supported by this engine",
    );
  }
  if (params.order !== AlgChainOrder.HASH_THEN_CIPHER && params.order !== AlgChainOrder.CIPHER_THEN_HASH) {
    throw invalid(
      `chain order must be 1 (hash then cipher) or 2 (cipher then hash): current value is ${params.order}`,
    );
  }
  checkCipher(caps, params.cipher.algo, params.cipher.key.length, params.cipher.direction);
  const { auth } = params;
  if (auth.hashMode === SymHashMode.PLAIN) {
    claimedAlgo(caps.hash, "hash", auth.algo);
    return checkResult(auth.resultLen, HASH_SIZES.get(auth.algo));
  }
  if (auth.hashMode !== SymHashMode.AUTH) {
    throw new EngineError("notsupp", `Cannot create session: hash mode ${auth.hashMode} is not supported`);
  }
  checkKey(claimedAlgo(caps.mac, "MAC", auth.algo), auth.key.length);
  checkResult(auth.resultLen, MAC_SIZES.get(auth.algo));
}

function invalid(what: string): EngineError {
  return new EngineError("invalid", `Cannot create session: ${what}`);
}

// "16, 24 or 32", or "0..512" for a run.
function describe(lengths: readonly number[]): string {
  if (lengths.length > 4 && lengths.every((n, i) => n === lengths[0]! + i)) {
    return `${lengths[0]}..${lengths[lengths.length - 1]}`;
  }
  return lengths.join(", ");
}
