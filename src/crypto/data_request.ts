/**
 * {@linkcode DataRequest}: one preallocated, mutable object holding every field a data-queue request can carry
 * (`virtio_crypto_op_header` plus the `op_flf` of every data opcode, session and stateless), so the hot path decodes
 * into it without allocating. `data_codec.ts` fills and writes it.
 *
 * @module
 */

import { CryptoWireError, type CryptoWireErrorKind } from "./wire.ts";
import { describeError } from "./_wire_util.ts";

/**
 * What a decoded data request is: the service from `opcode`, split by `op_type` for CIPHER (`cipher` =
 * `VIRTIO_CRYPTO_SYM_OP_CIPHER`, `alg-chain` = `VIRTIO_CRYPTO_SYM_OP_ALGORITHM_CHAINING`). `none` before decoding
 * and after a failed decode.
 */
export type DataRequestKind = "none" | "cipher" | "alg-chain" | "hash" | "mac" | "aead" | "akcipher";

/**
 * A data-queue request (`struct virtio_crypto_op_data_req` minus its variable-length parts), flattened. Fields
 * not used by the request's kind and mode are 0. Spec field names in camelCase; where two structs use one name for
 * different things the field says which (`macAlgo`, `rsaHashAlgo`, `sessAadLen`).
 *
 * Reuse one instance per queue: `readDataRequest()` resets it first. After decoding, `error` is `null` on success
 * or the reason (`errorField`, `errorValue`, `errorLimit` say more); {@linkcode DataRequest.toError} turns that into
 * a {@linkcode CryptoWireError} for logging, off the hot path.
 */
export class DataRequest {
  // struct virtio_crypto_op_header (24 bytes)
  /** Header `opcode` @0: `VIRTIO_CRYPTO_CIPHER_ENCRYPT` ... `VIRTIO_CRYPTO_AKCIPHER_VERIFY`. */
  opcode = 0;
  /** Header `algo` @4 (Linux leaves it 0 for cipher requests; not validated). */
  algo = 0;
  /** Header `session_id` @8, low 32 bits (a u64 kept as two u32s so decoding allocates no bigint). */
  sessionIdLo = 0;
  /** Header `session_id` @12, high 32 bits. */
  sessionIdHi = 0;
  /** Header `flag` @16: `VIRTIO_CRYPTO_FLAG_SESSION_MODE` (1) or 0 (stateless, revision 1 only). */
  flag = 0;

  // Derived by the decoder
  /** What the request is. */
  kind: DataRequestKind = "none";
  /** Whether the `op_flf` is a `*_flf_stateless` struct (revision 1 with `flag` 0). */
  stateless = false;
  /** `op_type` of a CIPHER request (`VIRTIO_CRYPTO_SYM_OP_*`). */
  opType = 0;
  /** Bytes of header + `op_flf`: where `op_vlf` starts in the request's device-readable bytes. */
  length = 0;

  // Lengths and offsets of the session-mode and stateless flf structs
  /** `iv_len` (cipher, chaining, AEAD). */
  ivLen = 0;
  /** `src_data_len` (every kind; AKCIPHER_VERIFY: the signature length). */
  srcDataLen = 0;
  /** `dst_data_len` (cipher, chaining, AEAD, AKCIPHER; AKCIPHER_VERIFY: the signed data length, device-read). */
  dstDataLen = 0;
  /** `aad_len` of the data struct (chaining, AEAD). */
  aadLen = 0;
  /** `hash_result_len` (chaining, hash, MAC). */
  hashResultLen = 0;
  /** `tag_len` (AEAD). */
  tagLen = 0;
  /** `cipher_start_src_offset` (chaining). */
  cipherStartSrcOffset = 0;
  /** `len_to_cipher` (chaining). */
  lenToCipher = 0;
  /** `hash_start_src_offset` (chaining). */
  hashStartSrcOffset = 0;
  /** `len_to_hash` (chaining). */
  lenToHash = 0;

  // sess_para of the stateless structs
  /** Stateless cipher/chaining `sess_para.(cipher.)algo`: `VIRTIO_CRYPTO_CIPHER_*`. */
  cipherAlgo = 0;
  /** Stateless `key_len` of the cipher key (cipher, chaining), the AEAD key or the akcipher key. */
  keyLen = 0;
  /** Stateless `op` (cipher, chaining, AEAD): `VIRTIO_CRYPTO_OP_*`. */
  op = 0;
  /** Stateless chaining `sess_para.alg_chain_order`. */
  algChainOrder = 0;
  /** Stateless chaining `sess_para.aad_len` (the decoder requires it to equal `aadLen`). */
  sessAadLen = 0;
  /** Stateless hash `sess_para.algo` (`VIRTIO_CRYPTO_HASH_*`), or chaining `hash.algo` (HASH_* or MAC_*). */
  hashAlgo = 0;
  /** Stateless MAC / chaining `auth_key_len`. */
  authKeyLen = 0;
  /** Stateless chaining `hash.hash_mode`: `VIRTIO_CRYPTO_SYM_HASH_MODE_*`. */
  hashMode = 0;
  /** Stateless MAC `sess_para.algo`: `VIRTIO_CRYPTO_MAC_*`. */
  macAlgo = 0;
  /** Stateless AEAD `sess_para.algo`: `VIRTIO_CRYPTO_AEAD_*`. */
  aeadAlgo = 0;
  /** Stateless AKCIPHER `sess_para.algo`: `VIRTIO_CRYPTO_AKCIPHER_*`. */
  akcipherAlgo = 0;
  /** Stateless AKCIPHER `sess_para.key_type`. */
  keyType = 0;
  /** Stateless AKCIPHER RSA `u.rsa.padding_algo`. */
  paddingAlgo = 0;
  /** Stateless AKCIPHER RSA `u.rsa.hash_algo`: `VIRTIO_CRYPTO_RSA_<hash>`. */
  rsaHashAlgo = 0;
  /** Stateless AKCIPHER ECDSA `u.ecdsa.curve_id`. */
  curveId = 0;

  // Outcome of the last decode
  /** `null` after a successful decode, else what was wrong. */
  error: CryptoWireErrorKind | null = null;
  /** The spec field the error is about (a constant string). */
  errorField = "";
  /** The offending value (for `short-buffer`: the length there was). */
  errorValue = 0;
  /** The bound it broke (for `short-buffer`: the length needed). */
  errorLimit = 0;

  /** `session_id` as a bigint (allocates: not for the hot path). */
  get sessionId(): bigint {
    return (BigInt(this.sessionIdHi) << 32n) | BigInt(this.sessionIdLo);
  }

  /** Sets `session_id` (a u64; other values are wrapped to 64 bits). */
  set sessionId(value: bigint) {
    const u = BigInt.asUintN(64, value);
    this.sessionIdLo = Number(u & 0xffff_ffffn);
    this.sessionIdHi = Number(u >> 32n);
  }

  /**
   * `session_id` as a number, for an allocation-free session lookup, or -1 when it is 2^53 or more (no session
   * table hands out such ids, so the device answers INVSESS).
   */
  get sessionIdNumber(): number {
    return this.sessionIdHi > 0x1f_ffff ? -1 : this.sessionIdHi * 0x1_0000_0000 + this.sessionIdLo;
  }

  /**
   * Sets every field to its initial value (0, `"none"`, `null`). The stateless `sess_para` fields are zeroed only
   * when `stateless` is set: only a stateless decode (or encoder) writes them, and a session-mode request never
   * reads them; their 15 stores showed in the profile of `serve --poll` at 64 B.
   */
  reset(): void {
    this.opcode =
      this.algo =
      this.sessionIdLo =
      this.sessionIdHi =
      this.flag =
        0;
    this.kind = "none";
    this.opType = this.length = 0;
    this.ivLen =
      this.srcDataLen =
      this.dstDataLen =
      this.aadLen =
      this.hashResultLen =
      this.tagLen =
        0;
    this.cipherStartSrcOffset =
      this.lenToCipher =
      this.hashStartSrcOffset =
      this.lenToHash =
        0;
    // Only a stateless decode sets these (the hot path is session mode): zeroed after one.
    if (this.stateless) this.#resetSessPara();
    this.stateless = false;
    this.error = null;
    this.errorField = "";
    this.errorValue = this.errorLimit = 0;
  }

  #resetSessPara(): void {
    this.cipherAlgo =
      this.keyLen =
      this.op =
      this.algChainOrder =
      this.sessAadLen =
        0;
    this.hashAlgo =
      this.authKeyLen =
      this.hashMode =
      this.macAlgo =
      this.aeadAlgo =
        0;
    this.akcipherAlgo =
      this.keyType =
      this.paddingAlgo =
      this.rsaHashAlgo =
      this.curveId =
        0;
  }

  /**
   * The last decode's error as a {@linkcode CryptoWireError} with a std-style message, or `null` after a
   * successful decode. Allocates: call it to log or throw, not per request.
   */
  toError(): CryptoWireError | null {
    if (this.error === null) return null;
    return new CryptoWireError(this.error, describeError("data request", this));
  }
}
