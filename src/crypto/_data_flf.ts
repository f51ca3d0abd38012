/**
 * Pieces shared by the session-mode (`data_codec.ts`) and stateless (`data_stateless.ts`) data flf codecs: the
 * `virtio_crypto_alg_chain_data_flf` fields, which the stateless chaining struct repeats after its `sess_para`.
 *
 * @module
 */

import { Layout } from "../spec/virtio_crypto.ts";
import { readU32, writeU32 } from "../virtio/le.ts";
import { recordFailure } from "./_wire_util.ts";
import type { DataRequest } from "./data_request.ts";

/** Where `op_flf` starts: right after the 24-byte `virtio_crypto_op_header`. */
export const FLF_OFF: number = Layout.DATA_HEADER;

/**
 * Reads the ten le32 of `struct virtio_crypto_alg_chain_data_flf` at `off` (also the tail of the stateless struct).
 *
 * @param b The request bytes (length already checked).
 * @param off Where the struct starts.
 * @param out Receives `ivLen` ... `hashResultLen`.
 */
export function readAlgChainDataFlf(b: Uint8Array, off: number, out: DataRequest): void {
  out.ivLen = readU32(b, off);
  out.srcDataLen = readU32(b, off + 4);
  out.dstDataLen = readU32(b, off + 8);
  out.cipherStartSrcOffset = readU32(b, off + 12);
  out.lenToCipher = readU32(b, off + 16);
  out.hashStartSrcOffset = readU32(b, off + 20);
  out.lenToHash = readU32(b, off + 24);
  out.aadLen = readU32(b, off + 28);
  out.hashResultLen = readU32(b, off + 32);
}

/**
 * Checks that the cipher and hash ranges of a chaining request lie inside `src_data`, so an engine that trusts them
 * cannot read past the source (the DPDK "fix cipher data length" class of bug).
 *
 * @param out A decoded chaining request; receives the failure.
 * @returns `true` when both ranges fit.
 */
export function checkChainOffsets(out: DataRequest): boolean {
  // Sums of two u32 are exact in a double: no overflow to guard against.
  const cipherEnd = out.cipherStartSrcOffset + out.lenToCipher;
  if (cipherEnd > out.srcDataLen) {
    return recordFailure(
      out,
      "invalid-length",
      "cipher_start_src_offset + len_to_cipher",
      cipherEnd,
      out.srcDataLen,
    );
  }
  const hashEnd = out.hashStartSrcOffset + out.lenToHash;
  if (hashEnd > out.srcDataLen) {
    return recordFailure(
      out,
      "invalid-length",
      "hash_start_src_offset + len_to_hash",
      hashEnd,
      out.srcDataLen,
    );
  }
  return true;
}

/**
 * Writes the ten le32 of `struct virtio_crypto_alg_chain_data_flf` at `off` (`reserved` left zero).
 *
 * @param b The output.
 * @param off Where the struct starts.
 * @param req The fields.
 */
export function writeAlgChainDataFlf(b: Uint8Array, off: number, req: DataRequest): void {
  writeU32(b, off, req.ivLen);
  writeU32(b, off + 4, req.srcDataLen);
  writeU32(b, off + 8, req.dstDataLen);
  writeU32(b, off + 12, req.cipherStartSrcOffset);
  writeU32(b, off + 16, req.lenToCipher);
  writeU32(b, off + 20, req.hashStartSrcOffset);
  writeU32(b, off + 24, req.lenToHash);
  writeU32(b, off + 28, req.aadLen);
  writeU32(b, off + 32, req.hashResultLen);
}
