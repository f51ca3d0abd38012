/**
 * 32-bit word views of byte arrays, made once per array: the hot path's small copies and descriptor loads then
 * move four bytes per access instead of one (the data path's profile showed both).
 *
 * @module
 */

const views = new WeakMap<Uint8Array, Uint32Array | null>();
// The two arrays looked up last and their views (strong references: a region unmapped is at most two arrays late
// to be collected).
let recent0: Uint8Array | null = null;
let words0: Uint32Array | null = null;
let recent1: Uint8Array | null = null;
let words1: Uint32Array | null = null;

/**
 * A `Uint32Array` over the same bytes as `bytes` (its tail past a multiple of 4 left out), cached per array.
 *
 * @param bytes A guest region's view or any buffer the hot path reuses.
 * @returns The word view, or null when `bytes` does not start 4-byte aligned in its buffer.
 */
export function wordsOf(bytes: Uint8Array): Uint32Array | null {
  // Two arrays alternate on the hot path (a guest region and the parser's header copy): remembered in front of
  // the WeakMap, whose look-up costs more than the copies it serves.
  if (bytes === recent0) return words0;
  if (bytes === recent1) return words1;
  let words = views.get(bytes);
  if (words === undefined) {
    words = bytes.byteOffset % 4 === 0
      ? new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2)
      : null;
    views.set(bytes, words);
  }
  recent1 = recent0;
  words1 = words0;
  recent0 = bytes;
  words0 = words;
  return words;
}

/**
 * Copies `n` bytes from `src[at..]` to `dst[pos..]`, a word at a time where all three are multiples of 4 and
 * both arrays have word views, else a byte at a time. For short copies, where `set(subarray())` costs more in
 * its allocation than in the copy.
 *
 * @param src Source bytes.
 * @param at Offset in `src`.
 * @param dst Destination bytes.
 * @param pos Offset in `dst`.
 * @param n Bytes to copy (both ranges must be in bounds).
 */
export function copySmall(src: Uint8Array, at: number, dst: Uint8Array, pos: number, n: number): void {
  if (((at | pos | n) & 3) === 0) {
    const s = wordsOf(src);
    const d = wordsOf(dst);
    if (s !== null && d !== null) {
      const from = at >>> 2;
      const to = pos >>> 2;
      for (let k = 0, words = n >>> 2; k < words; k++) d[to + k] = s[from + k]!;
      return;
    }
  }
  for (let k = 0; k < n; k++) dst[pos + k] = src[at + k]!;
}
