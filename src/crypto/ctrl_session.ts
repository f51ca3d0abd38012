/**
 * The create-session `op_flf` structures of the control queue (virtio 1.3 §5.9.7.2.1): cipher, algorithm chaining,
 * hash, MAC, AEAD and AKCIPHER. Each has a reader and a writer that work at an offset of a byte array (the start of
 * `op_flf`, 16 bytes into the request); `ctrl_codec.ts` puts them together with the header and the layouts. The
 * session outcomes (`virtio_crypto_create_session_input`, `virtio_crypto_destroy_session_input`) are here too.
 *
 * @module
 */

import { AkcipherAlgo, Layout, SymHashMode } from "../spec/virtio_crypto.ts";
import { readU32, readU64, writeU32, writeU64, writeU8 } from "../virtio/le.ts";
import { CryptoWireError } from "./wire.ts";
import { outputBuffer, requireBytes } from "./_wire_util.ts";

/** Size of `struct virtio_crypto_cipher_session_flf`. */
export const CIPHER_SESSION_FLF_SIZE = 16;
/** Size of `struct virtio_crypto_alg_chain_session_flf`. */
export const ALG_CHAIN_SESSION_FLF_SIZE = 48;
/** Size of `struct virtio_crypto_sym_create_session_flf` (48-byte `op_flf`, `op_type`, `padding`). */
export const SYM_CREATE_SESSION_FLF_SIZE = 56;
/** Size of `struct virtio_crypto_hash_create_session_flf`. */
export const HASH_CREATE_SESSION_FLF_SIZE = 8;
/** Size of `struct virtio_crypto_mac_create_session_flf`. */
export const MAC_CREATE_SESSION_FLF_SIZE = 16;
/** Size of `struct virtio_crypto_aead_create_session_flf`. */
export const AEAD_CREATE_SESSION_FLF_SIZE = 24;
/** Size of `struct virtio_crypto_akcipher_create_session_flf` (12 bytes + 44-byte `algo_flf`). */
export const AKCIPHER_CREATE_SESSION_FLF_SIZE = 56;

/** `struct virtio_crypto_cipher_session_flf`: a cipher-only session, and `cipher_hdr` of a chaining session. */
export interface CipherSessionFlf {
  /** `algo`: `VIRTIO_CRYPTO_CIPHER_*`. */
  readonly algo: number;
  /** `key_len`: bytes of `cipher_key` in `op_vlf`. */
  readonly keyLen: number;
  /** `op`: `VIRTIO_CRYPTO_OP_ENCRYPT` (1) or `_DECRYPT` (2). */
  readonly op: number;
}

/** `struct virtio_crypto_hash_create_session_flf`. */
export interface HashSessionFlf {
  /** `algo`: `VIRTIO_CRYPTO_HASH_*`. */
  readonly algo: number;
  /** `hash_result_len`. */
  readonly hashResultLen: number;
}

/** `struct virtio_crypto_mac_create_session_flf`. */
export interface MacSessionFlf {
  /** `algo`: `VIRTIO_CRYPTO_MAC_*`. */
  readonly algo: number;
  /** `hash_result_len`. */
  readonly hashResultLen: number;
  /** `auth_key_len`: bytes of `auth_key` in `op_vlf`. */
  readonly authKeyLen: number;
}

/** The fields of `struct virtio_crypto_alg_chain_session_flf` that do not depend on `hash_mode`. */
export interface AlgChainSessionFlfCommon {
  /** `alg_chain_order`: `VIRTIO_CRYPTO_SYM_ALG_CHAIN_ORDER_*` (not validated: the device answers NOTSUPP). */
  readonly algChainOrder: number;
  /** `cipher_hdr`. */
  readonly cipherHdr: CipherSessionFlf;
  /** `aad_len`. */
  readonly aadLen: number;
}

/**
 * `struct virtio_crypto_alg_chain_session_flf`. `hash_mode` decides what the 16-byte `algo_flf` holds: a MAC flf for
 * `VIRTIO_CRYPTO_SYM_HASH_MODE_AUTH`, a hash flf for PLAIN, and (a decision of this codec; the spec does not say)
 * a hash flf for NESTED, which has no key.
 */
export type AlgChainSessionFlf =
  | AlgChainSessionFlfCommon & { readonly hashMode: typeof SymHashMode.AUTH; readonly algoFlf: MacSessionFlf }
  | AlgChainSessionFlfCommon & {
    readonly hashMode: typeof SymHashMode.PLAIN | typeof SymHashMode.NESTED;
    readonly algoFlf: HashSessionFlf;
  };

/** `struct virtio_crypto_aead_create_session_flf`. */
export interface AeadSessionFlf {
  /** `algo`: `VIRTIO_CRYPTO_AEAD_*`. */
  readonly algo: number;
  /** `key_len`: bytes of `key` in `op_vlf`. */
  readonly keyLen: number;
  /** `tag_len`. */
  readonly tagLen: number;
  /** `aad_len`. */
  readonly aadLen: number;
  /** `op`: `VIRTIO_CRYPTO_OP_*`. */
  readonly op: number;
}

/** `struct virtio_crypto_rsa_session_para`, the `algo_flf` of an RSA session. */
export interface RsaSessionPara {
  /** Which `algo_flf` this is. */
  readonly kind: "rsa";
  /** `padding_algo`: `VIRTIO_CRYPTO_RSA_*_PADDING`. */
  readonly paddingAlgo: number;
  /** `hash_algo`: `VIRTIO_CRYPTO_RSA_<hash>`. */
  readonly hashAlgo: number;
}

/** `struct virtio_crypto_ecdsa_session_para`, the `algo_flf` of an ECDSA session. */
export interface EcdsaSessionPara {
  /** Which `algo_flf` this is. */
  readonly kind: "ecdsa";
  /** `curve_id`: `VIRTIO_CRYPTO_CURVE_*`. */
  readonly curveId: number;
}

/**
 * `struct virtio_crypto_akcipher_create_session_flf`. `algo` decides `algo_flf`: RSA (1) or ECDSA (2, the
 * specification's number; Linux/QEMU headers say DSA 2, ECDSA 3, see interop.md §5). Other ids are rejected with
 * `unknown-algo`, because their `algo_flf` has no defined layout.
 */
export interface AkcipherSessionFlf {
  /** `algo`: `VIRTIO_CRYPTO_AKCIPHER_RSA` or `_ECDSA`. */
  readonly algo: number;
  /** `key_type`: `VIRTIO_CRYPTO_AKCIPHER_KEY_TYPE_PUBLIC` (1) or `_PRIVATE` (2). */
  readonly keyType: number;
  /** `key_len`: bytes of `key` in `op_vlf`. */
  readonly keyLen: number;
  /** `algo_flf`. */
  readonly para: RsaSessionPara | EcdsaSessionPara;
}

/** Reads `struct virtio_crypto_cipher_session_flf` at `off` (16 bytes; the caller checked the length). */
export function readCipherSessionFlf(b: Uint8Array, off: number): CipherSessionFlf {
  return { algo: readU32(b, off), keyLen: readU32(b, off + 4), op: readU32(b, off + 8) };
}

/** Writes `struct virtio_crypto_cipher_session_flf` at `off` (`padding` left as it is: zero in a fresh buffer). */
export function writeCipherSessionFlf(b: Uint8Array, off: number, flf: CipherSessionFlf): void {
  writeU32(b, off, flf.algo);
  writeU32(b, off + 4, flf.keyLen);
  writeU32(b, off + 8, flf.op);
}

/** Reads `struct virtio_crypto_hash_create_session_flf` at `off` (8 bytes). */
export function readHashSessionFlf(b: Uint8Array, off: number): HashSessionFlf {
  return { algo: readU32(b, off), hashResultLen: readU32(b, off + 4) };
}

/** Writes `struct virtio_crypto_hash_create_session_flf` at `off`. */
export function writeHashSessionFlf(b: Uint8Array, off: number, flf: HashSessionFlf): void {
  writeU32(b, off, flf.algo);
  writeU32(b, off + 4, flf.hashResultLen);
}

/** Reads `struct virtio_crypto_mac_create_session_flf` at `off` (16 bytes). */
export function readMacSessionFlf(b: Uint8Array, off: number): MacSessionFlf {
  return { algo: readU32(b, off), hashResultLen: readU32(b, off + 4), authKeyLen: readU32(b, off + 8) };
}

/** Writes `struct virtio_crypto_mac_create_session_flf` at `off`. */
export function writeMacSessionFlf(b: Uint8Array, off: number, flf: MacSessionFlf): void {
  writeU32(b, off, flf.algo);
  writeU32(b, off + 4, flf.hashResultLen);
  writeU32(b, off + 8, flf.authKeyLen);
}

/**
 * Reads `struct virtio_crypto_alg_chain_session_flf` at `off` (48 bytes): `alg_chain_order`@0, `hash_mode`@4,
 * `cipher_hdr`@8, `algo_flf`@24 (16 bytes), `aad_len`@40.
 *
 * @throws {CryptoWireError} `unknown-hash-mode` when `hash_mode` is not PLAIN, AUTH or NESTED.
 */
export function readAlgChainSessionFlf(b: Uint8Array, off: number): AlgChainSessionFlf {
  const algChainOrder = readU32(b, off);
  const hashMode = readU32(b, off + 4);
  const cipherHdr = readCipherSessionFlf(b, off + 8);
  const aadLen = readU32(b, off + 40);
  switch (hashMode) {
    case SymHashMode.AUTH:
      return { algChainOrder, hashMode, cipherHdr, algoFlf: readMacSessionFlf(b, off + 24), aadLen };
    case SymHashMode.PLAIN:
    case SymHashMode.NESTED:
      return { algChainOrder, hashMode, cipherHdr, algoFlf: readHashSessionFlf(b, off + 24), aadLen };
    default:
      throw new CryptoWireError(
        "unknown-hash-mode",
        `Cannot decode algorithm chaining session: hash_mode must be 1, 2 or 3: current value is ${hashMode}`,
      );
  }
}

/** Writes `struct virtio_crypto_alg_chain_session_flf` at `off`. */
export function writeAlgChainSessionFlf(b: Uint8Array, off: number, flf: AlgChainSessionFlf): void {
  writeU32(b, off, flf.algChainOrder);
  writeU32(b, off + 4, flf.hashMode);
  writeCipherSessionFlf(b, off + 8, flf.cipherHdr);
  if (flf.hashMode === SymHashMode.AUTH) writeMacSessionFlf(b, off + 24, flf.algoFlf);
  else writeHashSessionFlf(b, off + 24, flf.algoFlf);
  writeU32(b, off + 40, flf.aadLen);
}

/** Reads `struct virtio_crypto_aead_create_session_flf` at `off` (24 bytes). */
export function readAeadSessionFlf(b: Uint8Array, off: number): AeadSessionFlf {
  return {
    algo: readU32(b, off),
    keyLen: readU32(b, off + 4),
    tagLen: readU32(b, off + 8),
    aadLen: readU32(b, off + 12),
    op: readU32(b, off + 16),
  };
}

/** Writes `struct virtio_crypto_aead_create_session_flf` at `off`. */
export function writeAeadSessionFlf(b: Uint8Array, off: number, flf: AeadSessionFlf): void {
  writeU32(b, off, flf.algo);
  writeU32(b, off + 4, flf.keyLen);
  writeU32(b, off + 8, flf.tagLen);
  writeU32(b, off + 12, flf.aadLen);
  writeU32(b, off + 16, flf.op);
}

/**
 * Reads `struct virtio_crypto_akcipher_create_session_flf` at `off` (56 bytes): `algo`@0, `key_type`@4,
 * `key_len`@8, `algo_flf`@12 (RSA: `padding_algo`@12, `hash_algo`@16; ECDSA: `curve_id`@12).
 *
 * @throws {CryptoWireError} `unknown-algo` for an `algo` other than RSA or ECDSA.
 */
export function readAkcipherSessionFlf(b: Uint8Array, off: number): AkcipherSessionFlf {
  const algo = readU32(b, off);
  const keyType = readU32(b, off + 4);
  const keyLen = readU32(b, off + 8);
  switch (algo) {
    case AkcipherAlgo.RSA:
      return {
        algo,
        keyType,
        keyLen,
        para: { kind: "rsa", paddingAlgo: readU32(b, off + 12), hashAlgo: readU32(b, off + 16) },
      };
    case AkcipherAlgo.ECDSA:
      return { algo, keyType, keyLen, para: { kind: "ecdsa", curveId: readU32(b, off + 12) } };
    default:
      throw new CryptoWireError(
        "unknown-algo",
        `Cannot decode akcipher session: algo must be 1 (RSA) or 2 (ECDSA): current value is ${algo}`,
      );
  }
}

/** Writes `struct virtio_crypto_akcipher_create_session_flf` at `off`. */
export function writeAkcipherSessionFlf(b: Uint8Array, off: number, flf: AkcipherSessionFlf): void {
  writeU32(b, off, flf.algo);
  writeU32(b, off + 4, flf.keyType);
  writeU32(b, off + 8, flf.keyLen);
  if (flf.para.kind === "rsa") {
    writeU32(b, off + 12, flf.para.paddingAlgo);
    writeU32(b, off + 16, flf.para.hashAlgo);
  } else {
    writeU32(b, off + 12, flf.para.curveId);
  }
}

/** `struct virtio_crypto_create_session_input` (16 bytes, written by the device). */
export interface CreateSessionInput {
  /** `session_id` (le64): meaningful only when `status` is OK. */
  readonly sessionId: bigint;
  /** `status` (le32): `VIRTIO_CRYPTO_*` status. */
  readonly status: number;
}

/**
 * Encodes `struct virtio_crypto_create_session_input` (`session_id`@0 le64, `status`@8 le32, `padding`@12).
 *
 * @param input Session id and status.
 * @param target Where to write; a new 16-byte array when omitted.
 * @returns The 16 bytes written.
 */
export function encodeCreateSessionInput(input: CreateSessionInput, target?: Uint8Array): Uint8Array {
  const b = outputBuffer(target, Layout.CREATE_SESSION_INPUT, "virtio_crypto_create_session_input");
  writeU64(b, 0, input.sessionId);
  writeU32(b, 8, input.status);
  return b;
}

/** Decodes `struct virtio_crypto_create_session_input`. @throws {CryptoWireError} `short-buffer` below 16 bytes. */
export function decodeCreateSessionInput(bytes: Uint8Array): CreateSessionInput {
  requireBytes(bytes, Layout.CREATE_SESSION_INPUT, "virtio_crypto_create_session_input");
  return { sessionId: readU64(bytes, 0), status: readU32(bytes, 8) };
}

/**
 * Encodes `struct virtio_crypto_destroy_session_input` (one status byte).
 *
 * @param status A `VIRTIO_CRYPTO_*` status.
 * @param target Where to write; a new 1-byte array when omitted.
 * @returns The byte written.
 */
export function encodeDestroySessionInput(status: number, target?: Uint8Array): Uint8Array {
  const b = outputBuffer(target, Layout.INHDR, "virtio_crypto_destroy_session_input");
  writeU8(b, 0, status);
  return b;
}

/** Decodes `struct virtio_crypto_destroy_session_input`. @throws {CryptoWireError} `short-buffer` when empty. */
export function decodeDestroySessionInput(bytes: Uint8Array): number {
  requireBytes(bytes, Layout.INHDR, "virtio_crypto_destroy_session_input");
  return bytes[0]!;
}
