/**
 * What every virtio-crypto wire codec shares: the request layout switch (legacy vs `VIRTIO_CRYPTO_F_REVISION_1`),
 * the one error class of the codecs, the error → status mapping, and the shape of a variable-length-field plan.
 *
 * @module
 */

import { Status, type StatusCode } from "../spec/virtio_crypto.ts";

/**
 * Which request layout is on the wire (virtio 1.3 §5.9.7.2, §5.9.7.4).
 *
 * - `"legacy"`: `VIRTIO_CRYPTO_F_REVISION_1` not negotiated. The control `op_flf` is padded to
 *   `VIRTIO_CRYPTO_CTRLQ_OP_SPEC_HDR_LEGACY` (56) bytes, the data `op_flf` to `VIRTIO_CRYPTO_DATAQ_OP_SPEC_HDR_LEGACY`
 *   (48), and the data header `flag` is ignored (every request is a session-mode request). This is what Linux and
 *   QEMU use.
 * - `"revision1"`: `VIRTIO_CRYPTO_F_REVISION_1` negotiated. Every `op_flf` has its natural struct size, and the data
 *   header `flag` selects session mode (`VIRTIO_CRYPTO_FLAG_SESSION_MODE`) or stateless mode (0).
 */
export type WireLayout = "legacy" | "revision1";

/** What went wrong while decoding or encoding a virtio-crypto structure. */
export type CryptoWireErrorKind =
  /** The buffer is shorter than the structure it must hold. */
  | "short-buffer"
  /** A vhost-user session payload whose size matches no known QEMU layout, or not the requested one. */
  | "bad-payload-size"
  /** `opcode` names no operation of this queue. */
  | "unknown-opcode"
  /** `op_type` (`VIRTIO_CRYPTO_SYM_OP_*`) is not CIPHER or ALGORITHM_CHAINING. */
  | "unknown-op-type"
  /** `hash_mode` (`VIRTIO_CRYPTO_SYM_HASH_MODE_*`) is not PLAIN, AUTH or NESTED. */
  | "unknown-hash-mode"
  /** An algorithm id that decides a layout (the akcipher `algo_flf` union) names no known algorithm. */
  | "unknown-algo"
  /** A revision-1 data header `flag` that is neither 0 (stateless) nor `VIRTIO_CRYPTO_FLAG_SESSION_MODE`. */
  | "unknown-flag"
  /** A structure that the layout cannot carry (a stateless request in the legacy layout). */
  | "unsupported-layout"
  /** A key length above the configured maximum (CVE-2020-10724 class). */
  | "key-too-long"
  /** Offsets and lengths that point outside the data they describe. */
  | "invalid-length"
  /** Variable-length parts that add up to 2^32 bytes or more (CVE-2017-5931 class). */
  | "length-overflow"
  /** Variable-length parts that add up to more than the device's `max_size`. */
  | "too-large";

/**
 * The error of the virtio-crypto wire codecs. `kind` tells the caller what to do; {@linkcode wireErrorStatus} maps
 * it to the status byte the device answers with.
 *
 * @example Catching a decode error
 * ```ts
 * import { CryptoWireError } from "./wire.ts";
 * import assert from "node:assert/strict";
 *
 * const err = new CryptoWireError("short-buffer", "Cannot decode control request: need 72 bytes: current length is 3");
 * assert.equal(err.kind, "short-buffer");
 * assert.equal(err.name, "CryptoWireError");
 * ```
 */
export class CryptoWireError extends Error {
  /** Always `"CryptoWireError"`. */
  override name = "CryptoWireError";
  /** What went wrong. */
  readonly kind: CryptoWireErrorKind;

  /**
   * Creates the error.
   *
   * @param kind What went wrong.
   * @param message A std-style message: "Cannot <do what>: <why>: current value is <x>".
   * @param options The usual `ErrorOptions` (`cause`).
   */
  constructor(kind: CryptoWireErrorKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.kind = kind;
  }
}

/**
 * The virtio-crypto status a device answers a request with when decoding it failed with `kind` (virtio 1.3
 * §5.9.7.1): `NOTSUPP` for an operation, algorithm or mode the device does not know ("operation or algorithm is
 * unsupported"), `ERR` for everything malformed.
 *
 * @param kind The error kind.
 * @returns `Status.NOTSUPP` or `Status.ERR`.
 */
export function wireErrorStatus(kind: CryptoWireErrorKind): StatusCode {
  switch (kind) {
    case "unknown-opcode":
    case "unknown-op-type":
    case "unknown-hash-mode":
    case "unknown-algo":
    case "unknown-flag":
    case "unsupported-layout":
      return Status.NOTSUPP;
    default:
      return Status.ERR;
  }
}

/**
 * What a variable-length part of a request is, named after the spec's `op_vlf` fields (`iv`, `src_data`, ...).
 * `signature` and `signed_data` are the two halves of an AKCIPHER_VERIFY `src_data` (virtio 1.3 §5.9.7.7: "the
 * src_data with the lower address stores the signature, and the higher address stores the signed data").
 */
export type VlfRole =
  | "cipher_key"
  | "auth_key"
  | "key"
  | "akcipher_key"
  | "iv"
  | "src_data"
  | "aad"
  | "signature"
  | "signed_data"
  | "dst_data"
  | "hash_result";

/** Who writes a part: the driver (`"device-read"`, an out buffer) or the device (`"device-write"`, an in buffer). */
export type VlfDirection = "device-read" | "device-write";

/** One variable-length part of a request, in chain order (`op_vlf`, virtio 1.3 §5.9.7.2 and §5.9.7.4). */
export interface VlfPart {
  /** What the bytes are. */
  role: VlfRole;
  /** Byte count (a u32 field of the request's `op_flf`; may be 0). */
  length: number;
  /** Whether the device reads or writes it. */
  direction: VlfDirection;
}
