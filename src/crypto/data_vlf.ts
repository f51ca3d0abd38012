/**
 * The variable-length parts (`op_vlf`) of a data request, in chain order, worked out from its decoded `op_flf`
 * (virtio 1.3 §5.9.7.4-§5.9.7.7). A request parser walks the descriptor chain with the plan: first the
 * device-readable parts, then the device-writable ones, then the 1-byte `virtio_crypto_inhdr` (not in the plan).
 *
 * | request (mode) | device-readable | device-writable |
 * | --- | --- | --- |
 * | cipher (session) | iv, src_data | dst_data |
 * | chaining (session) | iv, src_data, aad | dst_data, hash_result |
 * | hash, MAC (session) | src_data | hash_result |
 * | AEAD (session) | iv, src_data, aad | dst_data |
 * | akcipher encrypt/decrypt/sign (session) | src_data | dst_data |
 * | akcipher verify (session) | signature (`src_data_len`), signed_data (`dst_data_len`) | none |
 * | cipher (stateless) | cipher_key, iv, src_data | dst_data |
 * | chaining (stateless) | cipher_key, auth_key, iv, aad, src_data | dst_data, hash_result |
 * | hash (stateless) | src_data | hash_result |
 * | MAC (stateless) | auth_key, src_data | hash_result |
 * | AEAD (stateless) | key, iv, src_data, aad | dst_data |
 * | akcipher (stateless) | akcipher_key, then as in session mode | as in session mode |
 *
 * Every part is listed, including those of length 0. Note that QEMU's own device reads a session chaining request
 * as iv, aad, src (interop.md §5); this plan follows the specification.
 *
 * Like the decoder, planning is allocation-free and records failures instead of throwing.
 *
 * @module
 */

import { Opcode } from "../spec/virtio_crypto.ts";
import {
  CryptoWireError,
  type CryptoWireErrorKind,
  type VlfDirection,
  type VlfPart,
  type VlfRole,
} from "./wire.ts";
import { describeError, recordFailure } from "./_wire_util.ts";
import type { DataRequest } from "./data_request.ts";

/** The most parts a data request has (stateless chaining: 5 readable + 2 writable). */
export const MAX_DATA_VLF_PARTS = 7;

/** Limits a data request's `op_vlf` is checked against (the device's config space values). */
export interface DataLimits {
  /**
   * `max_size`: the most `op_vlf` bytes (all parts, both directions) in one request. The config field is a u64
   * (QEMU: `UINT64_MAX`); pass it clamped to `Number.MAX_SAFE_INTEGER`.
   */
  readonly maxSize: number;
  /** `max_cipher_key_len`: stateless cipher, chaining and AEAD `key_len`. */
  readonly maxCipherKeyLen: number;
  /** `max_auth_key_len`: stateless MAC and chaining `auth_key_len`. */
  readonly maxAuthKeyLen: number;
  /** Stateless AKCIPHER `key_len`. */
  readonly maxAkcipherKeyLen: number;
}

/** No `max_size` beyond the 2^32 bound, and QEMU's key limits (64, 512, 1024). */
export const DEFAULT_DATA_LIMITS: DataLimits = {
  maxSize: 0xffff_ffff,
  maxCipherKeyLen: 64,
  maxAuthKeyLen: 512,
  maxAkcipherKeyLen: 1024,
};

const R: VlfDirection = "device-read";
const W: VlfDirection = "device-write";

/**
 * A preallocated plan: `parts[0..count)` in chain order, with byte totals per direction. Reuse one per queue;
 * {@linkcode planDataVlf} resets it. After planning, `error` is `null` or the reason (`key-too-long`,
 * `length-overflow`, `too-large`, or the request's own decode error).
 */
export class VlfPlan {
  /** {@linkcode MAX_DATA_VLF_PARTS} slots; only the first `count` are meaningful. */
  readonly parts: readonly VlfPart[];
  /** Parts in use. */
  count = 0;
  /** Sum of the device-readable parts. */
  readTotal = 0;
  /** Sum of the device-writable parts. */
  writeTotal = 0;
  /** `null` when the plan is valid. */
  error: CryptoWireErrorKind | null = null;
  /** The field the error is about. */
  errorField = "";
  /** The offending value. */
  errorValue = 0;
  /** The bound it broke. */
  errorLimit = 0;

  constructor() {
    const parts: VlfPart[] = [];
    for (let i = 0; i < MAX_DATA_VLF_PARTS; i++) parts.push({ role: "src_data", length: 0, direction: R });
    this.parts = parts;
  }

  /** Empties the plan. */
  reset(): void {
    this.count = this.readTotal = this.writeTotal = 0;
    this.error = null;
    this.errorField = "";
    this.errorValue = this.errorLimit = 0;
  }

  /**
   * Appends a part (fills the next slot).
   *
   * @param role What the bytes are.
   * @param length Their count.
   * @param direction Who writes them.
   * @throws {RangeError} when all {@linkcode MAX_DATA_VLF_PARTS} slots are used (a bug, not guest input).
   */
  add(role: VlfRole, length: number, direction: VlfDirection): void {
    const part = this.parts[this.count];
    if (part === undefined) {
      throw new RangeError(`Cannot add vlf part: plan is full: current count is ${this.count}`);
    }
    part.role = role;
    part.length = length;
    part.direction = direction;
    this.count++;
    if (direction === R) this.readTotal += length;
    else this.writeTotal += length;
  }

  /** The error as a {@linkcode CryptoWireError}, or `null`. Allocates: for logging, not per request. */
  toError(): CryptoWireError | null {
    return this.error === null
      ? null
      : new CryptoWireError(this.error, describeError("data request op_vlf", this));
  }
}

/**
 * Plans the `op_vlf` of a decoded data request (see the module table) and checks it: stateless key lengths against
 * `limits`, the sum of all parts below 2^32 (`length-overflow`) and within `limits.maxSize` (`too-large`).
 *
 * @param req A request filled by `readDataRequest()`; a failed one gives a failed, empty plan.
 * @param limits The device's limits.
 * @param out The plan to fill (reset first).
 * @returns `out`.
 *
 * @example The parts of a Linux cbc(aes) request
 * ```ts
 * import { DataRequest, DEFAULT_DATA_LIMITS, planDataVlf, readDataRequest, VlfPlan } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array(72);
 * bytes[24] = 16; // iv_len
 * bytes[28] = 64; // src_data_len
 * bytes[32] = 64; // dst_data_len
 * bytes[64] = 1; // op_type CIPHER
 * const req = readDataRequest(bytes, "legacy", new DataRequest());
 * const plan = planDataVlf(req, DEFAULT_DATA_LIMITS, new VlfPlan());
 * assert.deepEqual(plan.parts.slice(0, plan.count).map((p) => [p.role, p.length, p.direction]), [
 *   ["iv", 16, "device-read"],
 *   ["src_data", 64, "device-read"],
 *   ["dst_data", 64, "device-write"],
 * ]);
 * ```
 */
export function planDataVlf(req: DataRequest, limits: DataLimits, out: VlfPlan): VlfPlan {
  out.reset();
  if (req.error !== null || req.kind === "none") {
    recordFailure(
      out,
      req.error ?? "unknown-opcode",
      req.errorField || "opcode",
      req.errorValue,
      req.errorLimit,
    );
    return out;
  }
  if (req.stateless) {
    if (!planStatelessKeys(req, limits, out)) return out;
  }
  planBody(req, out);
  const total = out.readTotal + out.writeTotal; // at most 7 * (2^32 - 1): exact in a double
  if (total > 0xffff_ffff) {
    recordFailure(out, "length-overflow", "op_vlf length", total, 0xffff_ffff);
  } else if (total > limits.maxSize) {
    recordFailure(out, "too-large", "op_vlf length (max_size)", total, limits.maxSize);
  }
  return out;
}

/** The keys that open a stateless `op_vlf`, checked against the limits (CVE-2020-10724 class). */
function planStatelessKeys(req: DataRequest, limits: DataLimits, out: VlfPlan): boolean {
  switch (req.kind) {
    case "cipher":
      return addKey(out, "cipher_key", req.keyLen, limits.maxCipherKeyLen);
    case "alg-chain":
      return addKey(out, "cipher_key", req.keyLen, limits.maxCipherKeyLen) &&
        addKey(out, "auth_key", req.authKeyLen, limits.maxAuthKeyLen);
    case "mac":
      return addKey(out, "auth_key", req.authKeyLen, limits.maxAuthKeyLen);
    case "aead":
      return addKey(out, "key", req.keyLen, limits.maxCipherKeyLen);
    case "akcipher":
      return addKey(out, "akcipher_key", req.keyLen, limits.maxAkcipherKeyLen);
    default:
      return true;
  }
}

function addKey(out: VlfPlan, role: VlfRole, length: number, max: number): boolean {
  if (length > max) {
    return recordFailure(out, "key-too-long", role === "auth_key" ? "auth_key_len" : "key_len", length, max);
  }
  out.add(role, length, R);
  return true;
}

/** Everything after the stateless keys; the two modes order these parts alike except for chaining. */
function planBody(req: DataRequest, out: VlfPlan): void {
  switch (req.kind) {
    case "cipher":
      out.add("iv", req.ivLen, R);
      out.add("src_data", req.srcDataLen, R);
      return out.add("dst_data", req.dstDataLen, W);
    case "alg-chain":
      planIvSrcAad(req, out);
      out.add("dst_data", req.dstDataLen, W);
      return out.add("hash_result", req.hashResultLen, W);
    case "hash":
    case "mac":
      out.add("src_data", req.srcDataLen, R);
      return out.add("hash_result", req.hashResultLen, W);
    case "aead":
      planIvSrcAad(req, out);
      return out.add("dst_data", req.dstDataLen, W);
    default: // akcipher
      if (req.opcode === Opcode.AKCIPHER_VERIFY) {
        // "src_data is spliced by the signature and the signed data ... dst_data is always empty for verification"
        out.add("signature", req.srcDataLen, R);
        return out.add("signed_data", req.dstDataLen, R);
      }
      out.add("src_data", req.srcDataLen, R);
      return out.add("dst_data", req.dstDataLen, W);
  }
}

/** Session chaining and AEAD, and stateless AEAD: iv, src, aad. Stateless chaining: iv, aad, src. */
function planIvSrcAad(req: DataRequest, out: VlfPlan): void {
  out.add("iv", req.ivLen, R);
  if (req.stateless && req.kind === "alg-chain") {
    out.add("aad", req.aadLen, R);
    out.add("src_data", req.srcDataLen, R);
  } else {
    out.add("src_data", req.srcDataLen, R);
    out.add("aad", req.aadLen, R);
  }
}
