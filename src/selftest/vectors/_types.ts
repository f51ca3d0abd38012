/**
 * Shapes of the known-answer vectors in this folder (this file holds no vectors). Byte strings are hex; helpers
 * turn ASCII and repeated bytes into hex so vectors read like their source documents.
 *
 * @module
 */

/** A cipher known-answer vector: `plaintext` under `key` and `iv` gives `ciphertext`. */
export interface CipherVector {
  /** Where the vector comes from, such as `SP 800-38A F.2.1`. */
  readonly id: string;
  /** The source's name for the decryption direction when it has its own (SP 800-38A F.2.2). */
  readonly decryptId?: string;
  /** `VIRTIO_CRYPTO_CIPHER_*`. */
  readonly algo: number;
  readonly key: string;
  /** Empty for modes without IV. */
  readonly iv: string;
  readonly plaintext: string;
  readonly ciphertext: string;
}

/** A hash known-answer vector; the result length is the digest's length (SHAKE: the output asked for). */
export interface HashVector {
  readonly id: string;
  /** `VIRTIO_CRYPTO_HASH_*`. */
  readonly algo: number;
  readonly message: string;
  readonly digest: string;
}

/** A MAC known-answer vector; `mac` may be truncated (the result length is its length). */
export interface MacVector {
  readonly id: string;
  /** `VIRTIO_CRYPTO_MAC_*`. */
  readonly algo: number;
  readonly key: string;
  /** GMAC only: the IV. */
  readonly iv?: string;
  readonly message: string;
  readonly mac: string;
}

/** An AEAD known-answer vector. */
export interface AeadVector {
  readonly id: string;
  /** `VIRTIO_CRYPTO_AEAD_*`. */
  readonly algo: number;
  readonly key: string;
  readonly nonce: string;
  readonly aad: string;
  readonly plaintext: string;
  readonly ciphertext: string;
  readonly tag: string;
}

/**
 * Hex of an ASCII string.
 *
 * @param s The text.
 * @returns Its bytes in hex.
 */
export function ascii(s: string): string {
  return Array.from(new TextEncoder().encode(s), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Hex of a byte repeated `n` times.
 *
 * @param byte The byte, as two hex digits.
 * @param n The count.
 * @returns The hex string.
 */
export function repeat(byte: string, n: number): string {
  return byte.repeat(n);
}

/**
 * Hex of the bytes `from, from+1, ..., to` (mod 256), as IEEE 1619 and RFC 2202 write them.
 *
 * @param from First byte value.
 * @param to Last byte value (inclusive).
 * @returns The hex string.
 */
export function counting(from: number, to: number): string {
  let out = "";
  for (let b = from; b <= to; b++) out += (b & 0xff).toString(16).padStart(2, "0");
  return out;
}

/**
 * Removes spaces and newlines from a hex string written in groups.
 *
 * @param s Grouped hex.
 * @returns Plain hex.
 */
export function h(s: string): string {
  return s.replace(/\s+/g, "").toLowerCase();
}
