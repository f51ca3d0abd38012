/**
 * The workloads of `cryptobridge bench`: for each algorithm, the session a guest would open and the data request
 * it would send for a given size, with deterministic contents per slot (so the expected output of each slot can be
 * computed once, by an engine in the caller).
 *
 * | algorithm | session | request | device writes |
 * |---|---|---|---|
 * | `aes-128-cbc` | cipher, encrypt | iv 16, src N | dst N |
 * | `aes-256-gcm` | AEAD, encrypt, tag 16, AAD 16 | iv 12, aad 16, src N | dst N + 16 (ciphertext, tag) |
 * | `hmac-sha256` | MAC, 32-byte key, result 32 | src N | hash_result 32 |
 * | `aes-128-cbc-hmac-sha256` | chaining, CIPHER_THEN_HASH, AUTH | iv 16, src N (all ciphered, all hashed) | dst N, hash_result 32 |
 *
 * QEMU's message 26 can express only cipher and chaining sessions; AES-GCM and HMAC-only sessions go through the
 * control queue (`needsControlQueue`).
 *
 * @module
 */

import {
  AeadAlgo,
  AlgChainOrder,
  CipherAlgo,
  MacAlgo,
  Opcode,
  SymHashMode,
  SymOpType,
} from "../spec/virtio_crypto.ts";
import type { VlfRole, WireLayout } from "../crypto/mod.ts";
import { buildRequest, cipherRequest, type PartBytes, sessionRequest } from "./requests.ts";
import type { SessionSpec } from "./sessions.ts";
import type { LoadRequest } from "./load_options.ts";

/** The algorithms `cryptobridge bench` drives. */
export const BENCH_ALGORITHMS = [
  "aes-128-cbc",
  "aes-256-gcm",
  "hmac-sha256",
  "aes-128-cbc-hmac-sha256",
] as const;

/** One of `BENCH_ALGORITHMS`. */
export type BenchAlgorithm = (typeof BENCH_ALGORITHMS)[number];

/** The request sizes of the default matrix (payload bytes per request). */
export const BENCH_SIZES: readonly number[] = [64, 256, 1024, 4096, 16384];

/** AES-GCM: IV, AAD and tag lengths. */
const GCM_IV = 12;
const GCM_AAD = 16;
const GCM_TAG = 16;
/** HMAC-SHA256 result and key length. */
const HMAC_LEN = 32;

/** A slot's request with the bytes of each device-read role (for the expected output) and the written roles. */
export interface WorkloadRequest extends LoadRequest {
  /** Bytes of each device-read payload role (`iv`, `src_data`, `aad`). */
  readonly input: PartBytes;
  /** The device-written roles in chain order, with their lengths (`dst_data`, `hash_result`). */
  readonly output: readonly { readonly role: VlfRole; readonly length: number }[];
}

/** One algorithm at one size. */
export interface Workload {
  readonly algorithm: BenchAlgorithm;
  /** Payload bytes per request (the source length). */
  readonly size: number;
  /** The session (keys fixed and public: this is a benchmark). */
  readonly session: SessionSpec;
  /** Message 26 cannot express the session: it needs the control queue. */
  readonly needsControlQueue: boolean;
  /**
   * The request of a slot.
   *
   * @param sessionId The session.
   * @param layout The wire layout the back-end parses.
   * @param slot The slot (selects the IV and source bytes).
   */
  request(sessionId: bigint, layout: WireLayout, slot: number): WorkloadRequest;
}

/**
 * Whether a name is one of `BENCH_ALGORITHMS`.
 *
 * @param name A name from the command line.
 */
export function isBenchAlgorithm(name: string): name is BenchAlgorithm {
  return (BENCH_ALGORITHMS as readonly string[]).includes(name);
}

/** `n` bytes of a pattern that differs per seed and per slot. */
function pattern(n: number, seed: number, slot: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + slot * 29 + seed * 7 + 1) & 0xff;
  return b;
}

/**
 * The session an algorithm's workload opens.
 *
 * @param algorithm The algorithm.
 * @returns The session, and whether it needs the control queue.
 */
export function benchSession(
  algorithm: BenchAlgorithm,
): { session: SessionSpec; needsControlQueue: boolean } {
  switch (algorithm) {
    case "aes-128-cbc":
      return {
        session: { service: "cipher", algo: CipherAlgo.AES_CBC, key: pattern(16, 1, 0), op: 1 },
        needsControlQueue: false,
      };
    case "aes-256-gcm":
      return {
        session: {
          service: "aead",
          algo: AeadAlgo.GCM,
          key: pattern(32, 2, 0),
          tagLen: GCM_TAG,
          aadLen: GCM_AAD,
          op: 1,
        },
        needsControlQueue: true,
      };
    case "hmac-sha256":
      return {
        session: {
          service: "mac",
          algo: MacAlgo.HMAC_SHA_256,
          resultLen: HMAC_LEN,
          key: pattern(HMAC_LEN, 3, 0),
        },
        needsControlQueue: true,
      };
    case "aes-128-cbc-hmac-sha256":
      return {
        session: {
          service: "chain",
          order: AlgChainOrder.CIPHER_THEN_HASH,
          cipherAlgo: CipherAlgo.AES_CBC,
          key: pattern(16, 4, 0),
          op: 1,
          hashMode: SymHashMode.AUTH,
          authAlgo: MacAlgo.HMAC_SHA_256,
          resultLen: HMAC_LEN,
          authKey: pattern(HMAC_LEN, 5, 0),
          aadLen: 0,
        },
        needsControlQueue: false,
      };
  }
}

/**
 * The workload of an algorithm at a size.
 *
 * @param algorithm The algorithm.
 * @param size Payload bytes per request (a multiple of 16 for the CBC-based ones).
 * @returns The workload.
 * @throws RangeError for a size AES-CBC cannot take (not a positive multiple of 16).
 */
export function benchWorkload(algorithm: BenchAlgorithm, size: number): Workload {
  if (!Number.isSafeInteger(size) || size < 16 || (algorithm.startsWith("aes-128-cbc") && size % 16 !== 0)) {
    throw new RangeError(
      `Cannot build ${algorithm} workload: size must be a multiple of 16 of at least 16: current value is ${size}`,
    );
  }
  const { session, needsControlQueue } = benchSession(algorithm);
  return {
    algorithm,
    size,
    session,
    needsControlQueue,
    request: (sessionId, layout, slot) => slotRequest(algorithm, size, sessionId, layout, slot),
  };
}

function slotRequest(
  algorithm: BenchAlgorithm,
  size: number,
  sessionId: bigint,
  layout: WireLayout,
  slot: number,
): WorkloadRequest {
  const src = pattern(size, 10, slot);
  switch (algorithm) {
    case "aes-128-cbc": {
      const iv = pattern(16, 11, slot);
      return assemble(cipherRequest(sessionId, true, iv, size), layout, { iv, src_data: src });
    }
    case "aes-256-gcm": {
      const iv = pattern(GCM_IV, 12, slot);
      const aad = pattern(GCM_AAD, 13, slot);
      const req = sessionRequest(Opcode.AEAD_ENCRYPT, sessionId, {
        ivLen: GCM_IV,
        aadLen: GCM_AAD,
        srcDataLen: size,
        dstDataLen: size + GCM_TAG,
        tagLen: GCM_TAG,
      });
      return assemble(req, layout, { iv, aad, src_data: src });
    }
    case "hmac-sha256": {
      const req = sessionRequest(Opcode.MAC, sessionId, { srcDataLen: size, hashResultLen: HMAC_LEN });
      return assemble(req, layout, { src_data: src });
    }
    case "aes-128-cbc-hmac-sha256": {
      const iv = pattern(16, 14, slot);
      const req = sessionRequest(Opcode.CIPHER_ENCRYPT, sessionId, {
        opType: SymOpType.ALGORITHM_CHAINING,
        ivLen: 16,
        srcDataLen: size,
        dstDataLen: size,
        cipherStartSrcOffset: 0,
        lenToCipher: size,
        hashStartSrcOffset: 0,
        lenToHash: size,
        aadLen: 0,
        hashResultLen: HMAC_LEN,
      });
      return assemble(req, layout, { iv, src_data: src });
    }
  }
}

function assemble(
  req: Parameters<typeof buildRequest>[0],
  layout: WireLayout,
  input: PartBytes,
): WorkloadRequest {
  const parts = buildRequest(req, layout, input);
  const roles = Object.entries(parts.inIndex) as [VlfRole, number][];
  const output = roles.sort((a, b) => a[1] - b[1]).map(([role, i]) => ({
    role,
    length: parts.in[i]!.length,
  }));
  return { out: parts.out.map((p) => p.bytes), inLengths: parts.in.map((p) => p.length), input, output };
}
