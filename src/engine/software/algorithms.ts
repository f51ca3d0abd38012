/**
 * The software engine's algorithm table: specification id → OpenSSL algorithm name, key lengths and mode facts.
 *
 * This is the explicit list of what the engine can offer (style.md §4, "Engine coverage"); what it actually
 * claims is the subset whose OpenSSL objects the host's providers can fetch (`providers.ts`). Specification
 * algorithms without an OpenSSL implementation (KASUMI, SNOW 3G, ZUC, AES-F8, XCBC, CBC-MAC, GMAC-Twofish) have
 * no entry, so they are never claimed and sessions for them fail with `notsupp`.
 *
 * @module
 */

import { AeadAlgo, CipherAlgo, HashAlgo, MacAlgo } from "../../spec/virtio_crypto.ts";

/** Which OpenSSL provider serves an algorithm. */
export type ProviderName = "default" | "legacy";

/**
 * How a cipher runs:
 * - `stream`: EVP streams any length (CTR); `block`: whole blocks only (ECB, CBC), IV re-set per operation;
 * - `whole`: one EVP call per message (XTS: the message is one data unit);
 * - `rekey`: no IV, the key is set again per operation (ARC4 restarts its key stream);
 * - `ctr64`: counter mode built on the ECB cipher (3DES-CTR, see `ctr64_core.ts`).
 */
export type CipherKind = "stream" | "block" | "whole" | "rekey" | "ctr64";

/** One cipher entry. */
export interface CipherEntry {
  readonly name: string;
  readonly kind: CipherKind;
  /** Accepted key lengths in bytes. */
  readonly keyLengths: readonly number[];
  /** OpenSSL cipher name for a key length. */
  readonly evpName: (keyLen: number) => string;
  /** IV (counter, tweak) length in bytes; 0 when the mode takes none. */
  readonly ivLen: number;
  /** Data length must be a multiple of this (1 for stream modes). */
  readonly unit: number;
  /** Smallest data length (XTS: one block). */
  readonly minLen: number;
  readonly provider: ProviderName;
}

/** One hash entry. */
export interface HashEntry {
  readonly name: string;
  readonly evpName: string;
  /** Extendable output (SHAKE): any result length. */
  readonly xof: boolean;
}

/** How a MAC is computed. */
export type MacKind = "hmac" | "cmac" | "gmac";

/** One MAC entry. */
export interface MacEntry {
  readonly name: string;
  readonly kind: MacKind;
  readonly keyLengths: readonly number[];
  /** HMAC: digest name; CMAC: CBC cipher name; GMAC: GCM cipher name (per key length). */
  readonly evpName: (keyLen: number) => string;
  readonly provider: ProviderName;
}

/** How an AEAD runs: `stream` (GCM, ChaCha20-Poly1305) or `whole` (CCM: one call, re-keyed per operation). */
export type AeadKind = "stream" | "whole";

/** One AEAD entry. */
export interface AeadEntry {
  readonly name: string;
  readonly kind: AeadKind;
  readonly keyLengths: readonly number[];
  readonly evpName: (keyLen: number) => string;
  /** Accepted tag lengths in bytes. */
  readonly tagLengths: readonly number[];
  /** Accepted nonce lengths in bytes (`op.iv.total`). */
  readonly nonceMin: number;
  readonly nonceMax: number;
}

/** Largest HMAC key the engine accepts (`max_auth_key_len`); DPDK and QEMU use 512 as well. */
export const MAX_AUTH_KEY_LEN = 512;

const AES_KEYS = [16, 24, 32] as const;

/** Inclusive integer range as an array. */
function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function aes(mode: string): (keyLen: number) => string {
  return (keyLen) => `AES-${keyLen * 8}-${mode}`;
}

function fixed(name: string): () => string {
  return () => name;
}

/** Ciphers by `VIRTIO_CRYPTO_CIPHER_*` id. */
export const CIPHERS: ReadonlyMap<number, CipherEntry> = new Map<number, CipherEntry>([
  [CipherAlgo.ARC4, {
    name: "ARC4",
    kind: "rekey",
    keyLengths: range(1, 256),
    evpName: fixed("RC4"),
    ivLen: 0,
    unit: 1,
    minLen: 0,
    provider: "legacy",
  }],
  [CipherAlgo.AES_ECB, c("AES-ECB", "block", AES_KEYS, aes("ECB"), 0, 16)],
  [CipherAlgo.AES_CBC, c("AES-CBC", "block", AES_KEYS, aes("CBC"), 16, 16)],
  [CipherAlgo.AES_CTR, c("AES-CTR", "stream", AES_KEYS, aes("CTR"), 16, 1)],
  [CipherAlgo.DES_ECB, { ...c("DES-ECB", "block", [8], fixed("DES-ECB"), 0, 8), provider: "legacy" }],
  [CipherAlgo.DES_CBC, { ...c("DES-CBC", "block", [8], fixed("DES-CBC"), 8, 8), provider: "legacy" }],
  [CipherAlgo.DES3_ECB, c("3DES-ECB", "block", [24], fixed("DES-EDE3-ECB"), 0, 8)],
  [CipherAlgo.DES3_CBC, c("3DES-CBC", "block", [24], fixed("DES-EDE3-CBC"), 8, 8)],
  [CipherAlgo.DES3_CTR, c("3DES-CTR", "ctr64", [24], fixed("DES-EDE3-ECB"), 8, 1)],
  [CipherAlgo.AES_XTS, {
    ...c("AES-XTS", "whole", [32, 64], (keyLen) => `AES-${keyLen * 4}-XTS`, 16, 1),
    minLen: 16,
  }],
]);

function c(
  name: string,
  kind: CipherKind,
  keyLengths: readonly number[],
  evpName: (keyLen: number) => string,
  ivLen: number,
  unit: number,
): CipherEntry {
  return { name, kind, keyLengths, evpName, ivLen, unit, minLen: 0, provider: "default" };
}

/** Hashes by `VIRTIO_CRYPTO_HASH_*` id. */
export const HASHES: ReadonlyMap<number, HashEntry> = new Map<number, HashEntry>([
  [HashAlgo.MD5, { name: "MD5", evpName: "MD5", xof: false }],
  [HashAlgo.SHA1, { name: "SHA1", evpName: "SHA1", xof: false }],
  [HashAlgo.SHA_224, { name: "SHA-224", evpName: "SHA2-224", xof: false }],
  [HashAlgo.SHA_256, { name: "SHA-256", evpName: "SHA2-256", xof: false }],
  [HashAlgo.SHA_384, { name: "SHA-384", evpName: "SHA2-384", xof: false }],
  [HashAlgo.SHA_512, { name: "SHA-512", evpName: "SHA2-512", xof: false }],
  [HashAlgo.SHA3_224, { name: "SHA3-224", evpName: "SHA3-224", xof: false }],
  [HashAlgo.SHA3_256, { name: "SHA3-256", evpName: "SHA3-256", xof: false }],
  [HashAlgo.SHA3_384, { name: "SHA3-384", evpName: "SHA3-384", xof: false }],
  [HashAlgo.SHA3_512, { name: "SHA3-512", evpName: "SHA3-512", xof: false }],
  [HashAlgo.SHA3_SHAKE128, { name: "SHAKE128", evpName: "SHAKE128", xof: true }],
  [HashAlgo.SHA3_SHAKE256, { name: "SHAKE256", evpName: "SHAKE256", xof: true }],
]);

const HMAC_KEYS = range(0, MAX_AUTH_KEY_LEN);

function hmac(name: string, digest: string): MacEntry {
  return { name, kind: "hmac", keyLengths: HMAC_KEYS, evpName: fixed(digest), provider: "default" };
}

/** MACs by `VIRTIO_CRYPTO_MAC_*` id. */
export const MACS: ReadonlyMap<number, MacEntry> = new Map<number, MacEntry>([
  [MacAlgo.HMAC_MD5, hmac("HMAC-MD5", "MD5")],
  [MacAlgo.HMAC_SHA1, hmac("HMAC-SHA1", "SHA1")],
  [MacAlgo.HMAC_SHA_224, hmac("HMAC-SHA224", "SHA2-224")],
  [MacAlgo.HMAC_SHA_256, hmac("HMAC-SHA256", "SHA2-256")],
  [MacAlgo.HMAC_SHA_384, hmac("HMAC-SHA384", "SHA2-384")],
  [MacAlgo.HMAC_SHA_512, hmac("HMAC-SHA512", "SHA2-512")],
  [MacAlgo.CMAC_3DES, {
    name: "CMAC-3DES",
    kind: "cmac",
    keyLengths: [24],
    evpName: fixed("DES-EDE3-CBC"),
    provider: "default",
  }],
  [MacAlgo.CMAC_AES, {
    name: "CMAC-AES",
    kind: "cmac",
    keyLengths: AES_KEYS,
    evpName: aes("CBC"),
    provider: "default",
  }],
  [MacAlgo.GMAC_AES, {
    name: "GMAC-AES",
    kind: "gmac",
    keyLengths: AES_KEYS,
    evpName: aes("GCM"),
    provider: "default",
  }],
]);

/** AEADs by `VIRTIO_CRYPTO_AEAD_*` id. */
export const AEADS: ReadonlyMap<number, AeadEntry> = new Map<number, AeadEntry>([
  [AeadAlgo.GCM, {
    name: "AES-GCM",
    kind: "stream",
    keyLengths: AES_KEYS,
    evpName: aes("GCM"),
    tagLengths: range(4, 16),
    nonceMin: 1,
    nonceMax: 128,
  }],
  [AeadAlgo.CCM, {
    name: "AES-CCM",
    kind: "whole",
    keyLengths: AES_KEYS,
    evpName: aes("CCM"),
    tagLengths: [4, 6, 8, 10, 12, 14, 16],
    nonceMin: 7,
    nonceMax: 13,
  }],
  [AeadAlgo.CHACHA20_POLY1305, {
    name: "ChaCha20-Poly1305",
    kind: "stream",
    keyLengths: [32],
    evpName: fixed("ChaCha20-Poly1305"),
    tagLengths: [16],
    nonceMin: 12,
    nonceMax: 12,
  }],
]);
