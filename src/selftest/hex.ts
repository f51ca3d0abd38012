/**
 * Hex, as the vectors are written, and the short form of bytes a mismatch report shows.
 *
 * @module
 */

/**
 * Bytes of a hex string.
 *
 * @param s Hex, even length.
 * @returns The bytes.
 */
export function fromHex(s: string): Uint8Array {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * Hex of bytes.
 *
 * @param b The bytes.
 * @returns Lower-case hex.
 */
export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Bytes a report shows of a longer value. */
const SHOWN = 32;

/**
 * Hex of at most the first 32 bytes, with the length when cut, for a report line.
 *
 * @param b The bytes.
 * @returns `7649abac…` or `7649abac… (64 bytes)`.
 */
export function shortHex(b: Uint8Array): string {
  if (b.length <= SHOWN) return toHex(b);
  return `${toHex(b.subarray(0, SHOWN))}… (${b.length} bytes)`;
}
