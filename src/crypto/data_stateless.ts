/**
 * The stateless-mode `op_flf` structs of the data queue (virtio 1.3 §5.9.7.4-§5.9.7.7; revision 1 only, header
 * `flag` 0): `virtio_crypto_sym_data_flf_stateless` (a 72-byte `op_type_flf` holding
 * `virtio_crypto_cipher_data_flf_stateless` or `virtio_crypto_alg_chain_data_flf_stateless`, then `op_type`; 76
 * bytes, no trailing padding), and the hash, MAC, AEAD and AKCIPHER `*_data_flf_stateless` structs. Like
 * `data_codec.ts`, the reader records failures in the {@linkcode DataRequest} instead of throwing.
 *
 * @module
 */

import { AkcipherAlgo, Service, SymHashMode, SymOpType } from "../spec/virtio_crypto.ts";
import { readU32, writeU32 } from "../virtio/le.ts";
import { CryptoWireError } from "./wire.ts";
import { recordFailure } from "./_wire_util.ts";
import type { DataRequest } from "./data_request.ts";
import { checkChainOffsets, FLF_OFF as OFF, readAlgChainDataFlf, writeAlgChainDataFlf } from "./_data_flf.ts";

/** Size of `struct virtio_crypto_cipher_data_flf_stateless`. */
export const CIPHER_DATA_FLF_STATELESS_SIZE = 24;
/** Size of `struct virtio_crypto_alg_chain_data_flf_stateless` (32-byte `sess_para` + 40). */
export const ALG_CHAIN_DATA_FLF_STATELESS_SIZE = 72;
/** Size of `struct virtio_crypto_sym_data_flf_stateless` (72-byte `op_type_flf` + `op_type`). */
export const SYM_DATA_FLF_STATELESS_SIZE = 76;
/** Size of `struct virtio_crypto_hash_data_flf_stateless`. */
export const HASH_DATA_FLF_STATELESS_SIZE = 16;
/** Size of `struct virtio_crypto_mac_data_flf_stateless`. */
export const MAC_DATA_FLF_STATELESS_SIZE = 16;
/** Size of `struct virtio_crypto_aead_data_flf_stateless`. */
export const AEAD_DATA_FLF_STATELESS_SIZE = 32;
/** Size of `struct virtio_crypto_akcipher_data_flf_stateless` (`sess_para` with an 8-byte RSA/ECDSA union, + 8). */
export const AKCIPHER_DATA_FLF_STATELESS_SIZE = 28;

/** `op_type` of `virtio_crypto_sym_data_flf_stateless` (request offset 96). */
const SYM_OP_TYPE_OFF = OFF + 72;

/**
 * The stateless `op_flf` size of a service.
 *
 * @param service A `VIRTIO_CRYPTO_SERVICE_*` number (CIPHER..AKCIPHER).
 * @returns Bytes of the `*_data_flf_stateless` struct.
 */
export function statelessFlfSize(service: number): number {
  switch (service) {
    case Service.CIPHER:
      return SYM_DATA_FLF_STATELESS_SIZE;
    case Service.HASH:
      return HASH_DATA_FLF_STATELESS_SIZE;
    case Service.MAC:
      return MAC_DATA_FLF_STATELESS_SIZE;
    case Service.AEAD:
      return AEAD_DATA_FLF_STATELESS_SIZE;
    default:
      return AKCIPHER_DATA_FLF_STATELESS_SIZE;
  }
}

/**
 * Reads the stateless `op_flf` of `service` from offset 24 of `b` into `out` (the caller checked the length).
 *
 * @param b The request bytes.
 * @param service The opcode's service.
 * @param out Receives the fields, `kind`, and any failure (`unknown-op-type`, `unknown-hash-mode`, `unknown-algo`,
 *   `invalid-length`).
 * @returns `true` when the struct is well formed.
 */
export function readStatelessFlf(b: Uint8Array, service: number, out: DataRequest): boolean {
  switch (service) {
    case Service.CIPHER:
      return readSymStateless(b, out);
    case Service.HASH:
      out.kind = "hash";
      out.hashAlgo = readU32(b, OFF);
      out.srcDataLen = readU32(b, OFF + 4);
      out.hashResultLen = readU32(b, OFF + 8);
      return true;
    case Service.MAC:
      out.kind = "mac";
      out.macAlgo = readU32(b, OFF);
      out.authKeyLen = readU32(b, OFF + 4);
      out.srcDataLen = readU32(b, OFF + 8);
      out.hashResultLen = readU32(b, OFF + 12);
      return true;
    case Service.AEAD:
      out.kind = "aead";
      out.aeadAlgo = readU32(b, OFF);
      out.keyLen = readU32(b, OFF + 4);
      out.op = readU32(b, OFF + 8);
      out.ivLen = readU32(b, OFF + 12);
      out.tagLen = readU32(b, OFF + 16);
      out.aadLen = readU32(b, OFF + 20);
      out.srcDataLen = readU32(b, OFF + 24);
      out.dstDataLen = readU32(b, OFF + 28);
      return true;
    default:
      return readAkcipherStateless(b, out);
  }
}

function readSymStateless(b: Uint8Array, out: DataRequest): boolean {
  out.opType = readU32(b, SYM_OP_TYPE_OFF);
  if (out.opType === SymOpType.CIPHER) {
    out.kind = "cipher";
    out.cipherAlgo = readU32(b, OFF);
    out.keyLen = readU32(b, OFF + 4);
    out.op = readU32(b, OFF + 8);
    out.ivLen = readU32(b, OFF + 12);
    out.srcDataLen = readU32(b, OFF + 16);
    out.dstDataLen = readU32(b, OFF + 20);
    return true;
  }
  if (out.opType === SymOpType.ALGORITHM_CHAINING) {
    out.kind = "alg-chain";
    return readAlgChainStateless(b, out);
  }
  return recordFailure(out, "unknown-op-type", "op_type", out.opType, 0);
}

/** `sess_para` {alg_chain_order@0, aad_len@4, cipher{algo, key_len, op}@8, hash{algo, auth_key_len, hash_mode}@20}. */
function readAlgChainStateless(b: Uint8Array, out: DataRequest): boolean {
  out.algChainOrder = readU32(b, OFF);
  out.sessAadLen = readU32(b, OFF + 4);
  out.cipherAlgo = readU32(b, OFF + 8);
  out.keyLen = readU32(b, OFF + 12);
  out.op = readU32(b, OFF + 16);
  out.hashAlgo = readU32(b, OFF + 20);
  out.authKeyLen = readU32(b, OFF + 24);
  out.hashMode = readU32(b, OFF + 28);
  readAlgChainDataFlf(b, OFF + 32, out);
  const m = out.hashMode;
  if (m !== SymHashMode.PLAIN && m !== SymHashMode.AUTH && m !== SymHashMode.NESTED) {
    return recordFailure(out, "unknown-hash-mode", "hash.hash_mode", m, 0);
  }
  // The struct carries aad_len twice (sess_para and data part); the vlf plan uses one, so they must agree.
  if (out.sessAadLen !== out.aadLen) {
    return recordFailure(
      out,
      "invalid-length",
      "sess_para.aad_len (must equal aad_len)",
      out.sessAadLen,
      out.aadLen,
    );
  }
  return checkChainOffsets(out);
}

/** `sess_para` {algo@0, key_type@4, key_len@8, u@12 (rsa {padding_algo, hash_algo} | ecdsa {curve_id})}, src@20. */
function readAkcipherStateless(b: Uint8Array, out: DataRequest): boolean {
  out.kind = "akcipher";
  out.akcipherAlgo = readU32(b, OFF);
  out.keyType = readU32(b, OFF + 4);
  out.keyLen = readU32(b, OFF + 8);
  out.srcDataLen = readU32(b, OFF + 20);
  out.dstDataLen = readU32(b, OFF + 24);
  if (out.akcipherAlgo === AkcipherAlgo.RSA) {
    out.paddingAlgo = readU32(b, OFF + 12);
    out.rsaHashAlgo = readU32(b, OFF + 16);
    return true;
  }
  if (out.akcipherAlgo === AkcipherAlgo.ECDSA) {
    out.curveId = readU32(b, OFF + 12);
    return true;
  }
  return recordFailure(out, "unknown-algo", "sess_para.algo", out.akcipherAlgo, 0);
}

/**
 * Writes the stateless `op_flf` of `service` at offset 24 of `b` (zeroed by the caller).
 *
 * @param b The output.
 * @param service The opcode's service.
 * @param req The fields.
 * @throws {CryptoWireError} `unknown-op-type` for a cipher request whose `opType` is not 1 or 2.
 */
export function writeStatelessFlf(b: Uint8Array, service: number, req: DataRequest): void {
  switch (service) {
    case Service.CIPHER:
      return writeSymStateless(b, req);
    case Service.HASH:
      writeU32(b, OFF, req.hashAlgo);
      writeU32(b, OFF + 4, req.srcDataLen);
      return writeU32(b, OFF + 8, req.hashResultLen);
    case Service.MAC:
      writeU32(b, OFF, req.macAlgo);
      writeU32(b, OFF + 4, req.authKeyLen);
      writeU32(b, OFF + 8, req.srcDataLen);
      return writeU32(b, OFF + 12, req.hashResultLen);
    case Service.AEAD:
      writeWords(b, OFF, req.aeadAlgo, req.keyLen, req.op, req.ivLen);
      writeWords(b, OFF + 16, req.tagLen, req.aadLen, req.srcDataLen, req.dstDataLen);
      return;
    default:
      return writeAkcipherStateless(b, req);
  }
}

function writeWords(b: Uint8Array, off: number, w0: number, w1: number, w2: number, w3: number): void {
  writeU32(b, off, w0);
  writeU32(b, off + 4, w1);
  writeU32(b, off + 8, w2);
  writeU32(b, off + 12, w3);
}

function writeSymStateless(b: Uint8Array, req: DataRequest): void {
  if (req.opType === SymOpType.CIPHER) {
    writeWords(b, OFF, req.cipherAlgo, req.keyLen, req.op, req.ivLen);
    writeU32(b, OFF + 16, req.srcDataLen);
    writeU32(b, OFF + 20, req.dstDataLen);
  } else if (req.opType === SymOpType.ALGORITHM_CHAINING) {
    writeWords(b, OFF, req.algChainOrder, req.sessAadLen, req.cipherAlgo, req.keyLen);
    writeWords(b, OFF + 16, req.op, req.hashAlgo, req.authKeyLen, req.hashMode);
    writeAlgChainDataFlf(b, OFF + 32, req);
  } else {
    throw new CryptoWireError(
      "unknown-op-type",
      `Cannot encode stateless data request: op_type must be 1 or 2: current value is ${req.opType}`,
    );
  }
  writeU32(b, SYM_OP_TYPE_OFF, req.opType);
}

function writeAkcipherStateless(b: Uint8Array, req: DataRequest): void {
  writeU32(b, OFF, req.akcipherAlgo);
  writeU32(b, OFF + 4, req.keyType);
  writeU32(b, OFF + 8, req.keyLen);
  if (req.akcipherAlgo === AkcipherAlgo.ECDSA) {
    writeU32(b, OFF + 12, req.curveId);
  } else {
    writeU32(b, OFF + 12, req.paddingAlgo);
    writeU32(b, OFF + 16, req.rsaHashAlgo);
  }
  writeU32(b, OFF + 20, req.srcDataLen);
  writeU32(b, OFF + 24, req.dstDataLen);
}
