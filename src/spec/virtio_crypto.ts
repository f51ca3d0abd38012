/**
 * The virtio-crypto specification's numbers: services, algorithm ids, opcodes, status codes, feature bits and
 * layout sizes. Names follow the specification (virtio 1.3, `device-types/crypto/description.tex`; the v22 draft in
 * `seeds/` for the history). This file imports nothing, so every layer may use it (the engines key their
 * capability tables by these ids).
 *
 * @module
 */

/** `VIRTIO_ID_CRYPTO`: the virtio device id. */
export const VIRTIO_ID_CRYPTO = 20;

/** Crypto services; each is also a bit number in `crypto_services`. */
export const Service = {
  CIPHER: 0,
  HASH: 1,
  MAC: 2,
  AEAD: 3,
  /** Added in virtio 1.3 (was absent from the v22 draft). */
  AKCIPHER: 4,
} as const;
/** A service number. */
export type ServiceId = (typeof Service)[keyof typeof Service];

/** `VIRTIO_CRYPTO_CIPHER_*`: values in requests and bit numbers in `cipher_algo_l/h`. */
export const CipherAlgo = {
  NO_CIPHER: 0,
  ARC4: 1,
  AES_ECB: 2,
  AES_CBC: 3,
  AES_CTR: 4,
  DES_ECB: 5,
  DES_CBC: 6,
  DES3_ECB: 7,
  DES3_CBC: 8,
  DES3_CTR: 9,
  KASUMI_F8: 10,
  SNOW3G_UEA2: 11,
  AES_F8: 12,
  AES_XTS: 13,
  ZUC_EEA3: 14,
} as const;

/** `VIRTIO_CRYPTO_HASH_*`: values in requests and bit numbers in `hash_algo`. */
export const HashAlgo = {
  NO_HASH: 0,
  MD5: 1,
  SHA1: 2,
  SHA_224: 3,
  SHA_256: 4,
  SHA_384: 5,
  SHA_512: 6,
  SHA3_224: 7,
  SHA3_256: 8,
  SHA3_384: 9,
  SHA3_512: 10,
  SHA3_SHAKE128: 11,
  SHA3_SHAKE256: 12,
} as const;

/** `VIRTIO_CRYPTO_MAC_*`: values in requests and bit numbers in `mac_algo_l/h`. */
export const MacAlgo = {
  NO_MAC: 0,
  HMAC_MD5: 1,
  HMAC_SHA1: 2,
  HMAC_SHA_224: 3,
  HMAC_SHA_256: 4,
  HMAC_SHA_384: 5,
  HMAC_SHA_512: 6,
  CMAC_3DES: 25,
  CMAC_AES: 26,
  KASUMI_F9: 27,
  SNOW3G_UIA2: 28,
  GMAC_AES: 41,
  GMAC_TWOFISH: 42,
  CBCMAC_AES: 49,
  CBCMAC_KASUMI_F9: 50,
  XCBC_AES: 53,
  /** In the specification, absent from the Linux and QEMU headers (interop.md §5). */
  ZUC_EIA3: 54,
} as const;

/** `VIRTIO_CRYPTO_AEAD_*`: values in requests and bit numbers in `aead_algo`. */
export const AeadAlgo = {
  NO_AEAD: 0,
  GCM: 1,
  CCM: 2,
  CHACHA20_POLY1305: 3,
} as const;

/**
 * `VIRTIO_CRYPTO_AKCIPHER_*` as the specification numbers them. Linux, QEMU and DPDK headers use DSA = 2 and
 * ECDSA = 3 instead (interop.md §5); only RSA (1) is used anywhere.
 */
export const AkcipherAlgo = {
  NO_AKCIPHER: 0,
  RSA: 1,
  ECDSA: 2,
} as const;

/** Builds an opcode: `VIRTIO_CRYPTO_OPCODE(service, op)`. */
export function opcode(service: number, op: number): number {
  return (service << 8) | op;
}

/** Control-queue and data-queue opcodes (`virtio_crypto_ctrl_header.opcode`, `virtio_crypto_op_header.opcode`). */
export const Opcode = {
  CIPHER_ENCRYPT: 0x0000,
  CIPHER_DECRYPT: 0x0001,
  CIPHER_CREATE_SESSION: 0x0002,
  CIPHER_DESTROY_SESSION: 0x0003,
  HASH: 0x0100,
  HASH_CREATE_SESSION: 0x0102,
  HASH_DESTROY_SESSION: 0x0103,
  MAC: 0x0200,
  MAC_CREATE_SESSION: 0x0202,
  MAC_DESTROY_SESSION: 0x0203,
  AEAD_ENCRYPT: 0x0300,
  AEAD_DECRYPT: 0x0301,
  AEAD_CREATE_SESSION: 0x0302,
  AEAD_DESTROY_SESSION: 0x0303,
  AKCIPHER_ENCRYPT: 0x0400,
  AKCIPHER_DECRYPT: 0x0401,
  AKCIPHER_SIGN: 0x0402,
  AKCIPHER_VERIFY: 0x0403,
  AKCIPHER_CREATE_SESSION: 0x0404,
  AKCIPHER_DESTROY_SESSION: 0x0405,
} as const;

/** `enum VIRTIO_CRYPTO_STATUS`: the status byte of every request. */
export const Status = {
  OK: 0,
  ERR: 1,
  /** Authentication failed (AEAD decryption). */
  BADMSG: 2,
  NOTSUPP: 3,
  INVSESS: 4,
  /** No free session id (REVISION_1 only on the wire; QEMU maps it to ERR). */
  NOSPC: 5,
  /** Signature verification failed (AKCIPHER, virtio 1.3). */
  KEY_REJECTED: 6,
} as const;
/** A status byte value. */
export type StatusCode = (typeof Status)[keyof typeof Status];

/** Device feature bits (virtio 1.1+ names; bit 0 was `VIRTIO_CRYPTO_F_MUX_MODE` in the v22 draft). */
export const CryptoFeature = {
  REVISION_1: 0,
  CIPHER_STATELESS_MODE: 1,
  HASH_STATELESS_MODE: 2,
  MAC_STATELESS_MODE: 3,
  AEAD_STATELESS_MODE: 4,
  AKCIPHER_STATELESS_MODE: 5,
} as const;

/** `VIRTIO_CRYPTO_S_HW_READY`: the one defined bit of the config `status`. */
export const VIRTIO_CRYPTO_S_HW_READY = 1;

/** `virtio_crypto_cipher_session_flf.op` and friends. */
export const CryptoOpDirection = {
  ENCRYPT: 1,
  DECRYPT: 2,
} as const;
/** ENCRYPT or DECRYPT. */
export type Direction = (typeof CryptoOpDirection)[keyof typeof CryptoOpDirection];

/** `virtio_crypto_sym_create_session_flf.op_type` and `virtio_crypto_sym_data_flf.op_type`. */
export const SymOpType = {
  NONE: 0,
  CIPHER: 1,
  ALGORITHM_CHAINING: 2,
} as const;

/** `virtio_crypto_alg_chain_session_flf.alg_chain_order`. */
export const AlgChainOrder = {
  HASH_THEN_CIPHER: 1,
  CIPHER_THEN_HASH: 2,
} as const;

/** `virtio_crypto_alg_chain_session_flf.hash_mode`. */
export const SymHashMode = {
  PLAIN: 1,
  AUTH: 2,
  NESTED: 3,
} as const;

/** `virtio_crypto_op_header.flag`: session mode (stateless mode is flag 0, REVISION_1 only). */
export const VIRTIO_CRYPTO_FLAG_SESSION_MODE = 1;

/** `virtio_crypto_akcipher_create_session_flf.key_type`. */
export const AkcipherKeyType = {
  PUBLIC: 1,
  PRIVATE: 2,
} as const;

/** `virtio_crypto_rsa_session_para.padding_algo`. */
export const RsaPadding = {
  RAW: 0,
  PKCS1: 1,
} as const;

/** `virtio_crypto_rsa_session_para.hash_algo`. */
export const RsaHash = {
  NO_HASH: 0,
  MD2: 1,
  MD3: 2,
  MD4: 3,
  MD5: 4,
  SHA1: 5,
  SHA256: 6,
  SHA384: 7,
  SHA512: 8,
  SHA224: 9,
} as const;

/** `VIRTIO_CRYPTO_CURVE_*` for ECDSA sessions. */
export const EcdsaCurve = {
  UNKNOWN: 0,
  NIST_P192: 1,
  NIST_P224: 2,
  NIST_P256: 3,
  NIST_P384: 4,
  NIST_P521: 5,
} as const;

/** Byte sizes fixed by the specification. */
export const Layout = {
  /** `struct virtio_crypto_ctrl_header`. */
  CTRL_HEADER: 16,
  /** `VIRTIO_CRYPTO_CTRLQ_OP_SPEC_HDR_LEGACY`: ctrl `op_flf` padded size without REVISION_1. */
  CTRLQ_OP_SPEC_HDR_LEGACY: 56,
  /** `struct virtio_crypto_op_header`. */
  DATA_HEADER: 24,
  /** `VIRTIO_CRYPTO_DATAQ_OP_SPEC_HDR_LEGACY`: data `op_flf` padded size without REVISION_1. */
  DATAQ_OP_SPEC_HDR_LEGACY: 48,
  /** `VIRTIO_CRYPTO_SYM_SESS_OP_SPEC_HDR_SIZE`. */
  SYM_SESS_OP_SPEC_HDR_SIZE: 48,
  /** `VIRTIO_CRYPTO_ALG_CHAIN_SESS_OP_SPEC_HDR_SIZE`. */
  ALG_CHAIN_SESS_OP_SPEC_HDR_SIZE: 16,
  /** `VIRTIO_CRYPTO_SYM_DATA_REQ_HDR_SIZE`. */
  SYM_DATA_REQ_HDR_SIZE: 40,
  /** `VIRTIO_CRYPTO_SYM_DATE_REQ_HDR_STATELESS_SIZE` (sic). */
  SYM_DATA_REQ_HDR_STATELESS_SIZE: 72,
  /** `VIRTIO_CRYPTO_AKCIPHER_SESS_ALGO_SPEC_HDR_SIZE`. */
  AKCIPHER_SESS_ALGO_SPEC_HDR_SIZE: 44,
  /** `struct virtio_crypto_config`. */
  CONFIG: 56,
  /** `struct virtio_crypto_create_session_input`. */
  CREATE_SESSION_INPUT: 16,
  /** `struct virtio_crypto_inhdr` and `virtio_crypto_destroy_session_input`. */
  INHDR: 1,
} as const;
