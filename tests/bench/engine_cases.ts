/**
 * The benchmark cases of the software engine, shared by `engine_bench.ts` (`deno bench`) and
 * `scripts/bench_engine.ts` (ratios to `openssl speed`): AES-128-CBC, AES-256-GCM and HMAC-SHA256 requests of
 * 64 B to 16 KiB, each a realistic operation through `engine.submit` — one session, the IV (or nonce) in its own
 * range, one source range and one destination range in the same host memory block (as requests in one guest
 * RAM region are), plus a 16-byte AAD and a 16-byte tag for GCM and a 32-byte digest for HMAC.
 *
 * @module
 */

import { AeadAlgo, CipherAlgo, MacAlgo } from "../../src/spec/virtio_crypto.ts";
import { allocHostMemory, type CryptoEngine, CryptoOp, type SessionParams } from "../../src/engine/mod.ts";

/** Request sizes measured. */
export const SIZES: readonly number[] = [64, 1024, 4096, 16384];

/** The algorithms measured, with their `openssl speed` arguments. */
export const ALGORITHMS = [
  { name: "AES-128-CBC", speedArgs: ["-evp", "aes-128-cbc"] },
  { name: "AES-256-GCM", speedArgs: ["-evp", "aes-256-gcm"] },
  { name: "HMAC-SHA256", speedArgs: ["-hmac", "sha256"] },
] as const;

/** One algorithm's name. */
export type AlgorithmName = (typeof ALGORITHMS)[number]["name"];

/**
 * Builds a ready-to-submit operation (session created, lists filled).
 *
 * @param engine The engine.
 * @param algorithm Which algorithm.
 * @param size Request size in bytes.
 * @returns The operation; `engine.submit(op)` may be called repeatedly.
 */
export function benchOp(engine: CryptoEngine, algorithm: AlgorithmName, size: number): CryptoOp {
  const memory = allocHostMemory(2 * size + 256);
  memory.bytes.forEach((_, i, b) => (b[i] = (i * 131) & 0xff));
  const op = new CryptoOp(8);
  op.session = engine.createSession(sessionParams(algorithm));
  op.src.push(memory, 128, size);
  if (algorithm === "HMAC-SHA256") {
    op.digest.push(memory, 64, 32);
    return op;
  }
  op.dst.push(memory, 128 + size + 64, size);
  if (algorithm === "AES-128-CBC") {
    op.iv.push(memory, 0, 16);
  } else {
    op.iv.push(memory, 0, 12);
    op.aad.push(memory, 32, 16);
    op.digest.push(memory, 96, 16);
  }
  return op;
}

function sessionParams(algorithm: AlgorithmName): SessionParams {
  switch (algorithm) {
    case "AES-128-CBC":
      return { service: "cipher", algo: CipherAlgo.AES_CBC, key: new Uint8Array(16).fill(2), direction: 1 };
    case "AES-256-GCM":
      return {
        service: "aead",
        algo: AeadAlgo.GCM,
        key: new Uint8Array(32).fill(3),
        tagLen: 16,
        aadLen: 16,
        direction: 1,
      };
    case "HMAC-SHA256":
      return { service: "mac", algo: MacAlgo.HMAC_SHA_256, key: new Uint8Array(32).fill(1), resultLen: 32 };
  }
}
