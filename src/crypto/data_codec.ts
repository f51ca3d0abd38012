/**
 * The data queue wire format (virtio 1.3 §5.9.7.4): `struct virtio_crypto_op_data_req` = 24-byte
 * `virtio_crypto_op_header` + opcode-specific `op_flf` (padded to 48 bytes in the legacy layout, its natural size
 * with `VIRTIO_CRYPTO_F_REVISION_1`, a `*_flf_stateless` struct for revision-1 stateless requests) + `op_vlf` +
 * the 1-byte `virtio_crypto_inhdr`.
 *
 * The decoder is on the hot path: {@linkcode readDataRequest} fills a caller-owned {@linkcode DataRequest}, allocates
 * nothing and never throws; a malformed request is reported in `out.error` (the device answers it with
 * `wireErrorStatus(out.error)` and keeps serving). Each field is read from the input exactly once and every check
 * uses the copy in `out`, so a guest rewriting the buffer meanwhile cannot split a checked value from a used one
 * (style.md rule 10b). The writers are for the driver side (the test front-end, `cryptobridge bench`) and throw.
 *
 * @module
 */

import {
  Layout,
  Opcode,
  Service,
  SymOpType,
  VIRTIO_CRYPTO_FLAG_SESSION_MODE,
} from "../spec/virtio_crypto.ts";
import { readU32, writeU32 } from "../virtio/le.ts";
import { CryptoWireError, type WireLayout } from "./wire.ts";
import { hex, recordFailure } from "./_wire_util.ts";
import type { DataRequest } from "./data_request.ts";
import { readStatelessFlf, statelessFlfSize, writeStatelessFlf } from "./data_stateless.ts";
import { checkChainOffsets, FLF_OFF as OFF, readAlgChainDataFlf, writeAlgChainDataFlf } from "./_data_flf.ts";

/** Size of `struct virtio_crypto_cipher_data_flf`. */
export const CIPHER_DATA_FLF_SIZE = 16;
/** Size of `struct virtio_crypto_alg_chain_data_flf`. */
export const ALG_CHAIN_DATA_FLF_SIZE = 40;
/** Size of `struct virtio_crypto_sym_data_flf` (40-byte `op_type_flf`, `op_type`, `padding`). */
export const SYM_DATA_FLF_SIZE = 48;
/** Size of `struct virtio_crypto_hash_data_flf` (and of `virtio_crypto_mac_data_flf`). */
export const HASH_DATA_FLF_SIZE = 8;
/** Size of `struct virtio_crypto_aead_data_flf`. */
export const AEAD_DATA_FLF_SIZE = 24;
/** Size of `struct virtio_crypto_akcipher_data_flf`. */
export const AKCIPHER_DATA_FLF_SIZE = 8;

const SYM_OP_TYPE_OFF = OFF + Layout.SYM_DATA_REQ_HDR_SIZE; // virtio_crypto_sym_data_flf.op_type

/**
 * The service of a data-queue opcode (`VIRTIO_CRYPTO_SERVICE_*`), or -1 for an opcode the data queue does not carry
 * (session opcodes, IPsec, unknown).
 *
 * @param opcode The header's `opcode`.
 * @returns A service number or -1.
 */
export function dataService(opcode: number): number {
  switch (opcode) {
    case Opcode.CIPHER_ENCRYPT:
    case Opcode.CIPHER_DECRYPT:
      return Service.CIPHER;
    case Opcode.HASH:
      return Service.HASH;
    case Opcode.MAC:
      return Service.MAC;
    case Opcode.AEAD_ENCRYPT:
    case Opcode.AEAD_DECRYPT:
      return Service.AEAD;
    case Opcode.AKCIPHER_ENCRYPT:
    case Opcode.AKCIPHER_DECRYPT:
    case Opcode.AKCIPHER_SIGN:
    case Opcode.AKCIPHER_VERIFY:
      return Service.AKCIPHER;
    default:
      return -1;
  }
}

function sessionFlfSize(service: number): number {
  switch (service) {
    case Service.CIPHER:
      return SYM_DATA_FLF_SIZE;
    case Service.AEAD:
      return AEAD_DATA_FLF_SIZE;
    default: // HASH, MAC and AKCIPHER flf are all two le32
      return HASH_DATA_FLF_SIZE;
  }
}

/**
 * Bytes of header + `op_flf` for a data request, i.e. where `op_vlf` starts: 72 in the legacy layout; with
 * revision 1, 24 + the session struct (48 cipher, 8 hash/MAC/akcipher, 24 AEAD) when `flag` is
 * `VIRTIO_CRYPTO_FLAG_SESSION_MODE`, or 24 + the stateless struct (76, 16, 16, 32, 28) when `flag` is 0.
 *
 * @param opcode The header's `opcode`.
 * @param flag The header's `flag` (ignored in the legacy layout).
 * @param layout The negotiated layout.
 * @returns The length, or -1 for an unknown opcode or (revision 1) a flag other than 0 and 1.
 */
export function dataRequestLength(opcode: number, flag: number, layout: WireLayout): number {
  const service = dataService(opcode);
  if (service < 0) return -1;
  if (layout === "legacy") return Layout.DATA_HEADER + Layout.DATAQ_OP_SPEC_HDR_LEGACY;
  if (flag === VIRTIO_CRYPTO_FLAG_SESSION_MODE) return Layout.DATA_HEADER + sessionFlfSize(service);
  if (flag === 0) return Layout.DATA_HEADER + statelessFlfSize(service);
  return -1;
}

/**
 * Decodes a data request (header + `op_flf`) into `out` without allocating or throwing. Bytes after the `op_flf`
 * are ignored; `planDataVlf()` says what follows.
 *
 * On return `out.error` is `null` and `out.kind` says what the request is, or `out.error` holds the reason:
 * `short-buffer`, `unknown-opcode`, `unknown-flag` (revision 1: neither 0 nor SESSION_MODE), `unknown-op-type`,
 * `unknown-hash-mode` / `unknown-algo` (stateless), `invalid-length` (chaining offsets outside `src_data`, or a
 * stateless chaining request whose two `aad_len` differ). Answer a failed request with
 * `wireErrorStatus(out.error)`.
 *
 * @param bytes The device-readable bytes of the request from the start of the header (a copy, see the module doc).
 * @param layout The negotiated layout.
 * @param out The object to fill (reset first).
 * @returns `out`.
 *
 * @example The Linux driver's cbc(aes) encrypt request (72 bytes, legacy layout)
 * ```ts
 * import { DataRequest, readDataRequest } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array(72);
 * bytes[8] = 7; // session_id
 * bytes[24] = 16; // iv_len
 * bytes[29] = 1; // src_data_len = 256
 * bytes[33] = 1; // dst_data_len = 256
 * bytes[64] = 1; // op_type = VIRTIO_CRYPTO_SYM_OP_CIPHER
 * const req = readDataRequest(bytes, "legacy", new DataRequest());
 * assert.equal(req.error, null);
 * assert.equal(req.kind, "cipher");
 * assert.equal(req.sessionIdNumber, 7);
 * assert.equal(req.srcDataLen, 256);
 * ```
 */
export function readDataRequest(bytes: Uint8Array, layout: WireLayout, out: DataRequest): DataRequest {
  out.reset();
  if (bytes.length < Layout.DATA_HEADER) {
    recordFailure(out, "short-buffer", "virtio_crypto_op_header", bytes.length, Layout.DATA_HEADER);
    return out;
  }
  out.opcode = readU32(bytes, 0);
  out.algo = readU32(bytes, 4);
  out.sessionIdLo = readU32(bytes, 8);
  out.sessionIdHi = readU32(bytes, 12);
  out.flag = readU32(bytes, 16);
  const service = dataService(out.opcode);
  if (service < 0) {
    recordFailure(out, "unknown-opcode", "opcode", out.opcode, 0);
    return out;
  }
  if (layout === "revision1" && out.flag !== VIRTIO_CRYPTO_FLAG_SESSION_MODE) {
    if (out.flag !== 0) {
      recordFailure(out, "unknown-flag", "flag", out.flag, VIRTIO_CRYPTO_FLAG_SESSION_MODE);
      return out;
    }
    out.stateless = true;
  }
  const length = dataRequestLength(out.opcode, out.flag, layout);
  if (bytes.length < length) {
    recordFailure(out, "short-buffer", "op_flf", bytes.length, length);
    return out;
  }
  out.length = length;
  const ok = out.stateless ? readStatelessFlf(bytes, service, out) : readSessionFlf(bytes, service, out);
  if (!ok) out.kind = "none";
  return out;
}

function readSessionFlf(b: Uint8Array, service: number, out: DataRequest): boolean {
  switch (service) {
    case Service.CIPHER:
      return readSymDataFlf(b, out);
    case Service.HASH:
    case Service.MAC:
      // virtio_crypto_hash_data_flf; virtio_crypto_mac_data_flf is { struct virtio_crypto_hash_data_flf hdr; }
      out.kind = service === Service.HASH ? "hash" : "mac";
      out.srcDataLen = readU32(b, OFF);
      out.hashResultLen = readU32(b, OFF + 4);
      return true;
    case Service.AEAD:
      out.kind = "aead";
      out.ivLen = readU32(b, OFF);
      out.aadLen = readU32(b, OFF + 4);
      out.srcDataLen = readU32(b, OFF + 8);
      out.dstDataLen = readU32(b, OFF + 12);
      out.tagLen = readU32(b, OFF + 16);
      return true;
    default:
      out.kind = "akcipher";
      out.srcDataLen = readU32(b, OFF);
      out.dstDataLen = readU32(b, OFF + 4);
      return true;
  }
}

/** `struct virtio_crypto_sym_data_flf`: `op_type_flf[40]` holds the cipher or chaining flf; `op_type` @40. */
function readSymDataFlf(b: Uint8Array, out: DataRequest): boolean {
  out.opType = readU32(b, SYM_OP_TYPE_OFF);
  if (out.opType === SymOpType.CIPHER) {
    out.kind = "cipher";
    out.ivLen = readU32(b, OFF);
    out.srcDataLen = readU32(b, OFF + 4);
    out.dstDataLen = readU32(b, OFF + 8);
    return true;
  }
  if (out.opType === SymOpType.ALGORITHM_CHAINING) {
    out.kind = "alg-chain";
    readAlgChainDataFlf(b, OFF, out);
    return checkChainOffsets(out);
  }
  // SYM_OP_NONE defines no flf or vlf
  return recordFailure(out, "unknown-op-type", "op_type", out.opType, 0);
}

/**
 * Writes a data request (header + `op_flf`) from `req`: the driver side. The layout of the `op_flf` follows
 * `req.opcode`, `req.flag` (revision 1: 0 = stateless) and, for cipher opcodes, `req.opType`; `req.kind` is not
 * consulted. Padding and reserved fields are written as zero. Allocation-free.
 *
 * @param req The fields to write.
 * @param layout The negotiated layout.
 * @param target Where to write, from offset 0.
 * @returns Bytes written (`dataRequestLength(req.opcode, req.flag, layout)`).
 * @throws {CryptoWireError} `unknown-opcode`, `unknown-flag`, `unknown-op-type`, `short-buffer`.
 */
export function writeDataRequest(req: DataRequest, layout: WireLayout, target: Uint8Array): number {
  const length = dataRequestLength(req.opcode, req.flag, layout);
  if (length < 0) {
    throw dataService(req.opcode) < 0
      ? new CryptoWireError(
        "unknown-opcode",
        `Cannot encode data request: opcode is not supported: current value is ${hex(req.opcode)}`,
      )
      : new CryptoWireError(
        "unknown-flag",
        `Cannot encode data request: flag must be 0 or 1: current value is ${req.flag}`,
      );
  }
  if (target.length < length) {
    throw new CryptoWireError(
      "short-buffer",
      `Cannot encode data request: need ${length} bytes: current length is ${target.length}`,
    );
  }
  target.fill(0, 0, length);
  writeU32(target, 0, req.opcode);
  writeU32(target, 4, req.algo);
  writeU32(target, 8, req.sessionIdLo);
  writeU32(target, 12, req.sessionIdHi);
  writeU32(target, 16, req.flag);
  const service = dataService(req.opcode);
  if (layout === "revision1" && req.flag === 0) writeStatelessFlf(target, service, req);
  else writeSessionFlf(target, service, req);
  return length;
}

/**
 * {@linkcode writeDataRequest} into a new array of the right size.
 *
 * @param req The fields to write.
 * @param layout The negotiated layout.
 * @returns The header and `op_flf`.
 * @throws {CryptoWireError} as {@linkcode writeDataRequest}.
 */
export function encodeDataRequest(req: DataRequest, layout: WireLayout): Uint8Array {
  const length = dataRequestLength(req.opcode, req.flag, layout);
  const b = new Uint8Array(Math.max(length, 0));
  writeDataRequest(req, layout, b);
  return b;
}

function writeSessionFlf(b: Uint8Array, service: number, req: DataRequest): void {
  switch (service) {
    case Service.CIPHER:
      return writeSymDataFlf(b, req);
    case Service.HASH:
    case Service.MAC:
      writeU32(b, OFF, req.srcDataLen);
      return writeU32(b, OFF + 4, req.hashResultLen);
    case Service.AEAD:
      writeU32(b, OFF, req.ivLen);
      writeU32(b, OFF + 4, req.aadLen);
      writeU32(b, OFF + 8, req.srcDataLen);
      writeU32(b, OFF + 12, req.dstDataLen);
      return writeU32(b, OFF + 16, req.tagLen);
    default:
      writeU32(b, OFF, req.srcDataLen);
      return writeU32(b, OFF + 4, req.dstDataLen);
  }
}

function writeSymDataFlf(b: Uint8Array, req: DataRequest): void {
  if (req.opType === SymOpType.CIPHER) {
    writeU32(b, OFF, req.ivLen);
    writeU32(b, OFF + 4, req.srcDataLen);
    writeU32(b, OFF + 8, req.dstDataLen);
  } else if (req.opType === SymOpType.ALGORITHM_CHAINING) {
    writeAlgChainDataFlf(b, OFF, req);
  } else {
    throw new CryptoWireError(
      "unknown-op-type",
      `Cannot encode data request: op_type must be 1 or 2: current value is ${req.opType}`,
    );
  }
  writeU32(b, SYM_OP_TYPE_OFF, req.opType);
}
