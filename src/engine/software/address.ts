/**
 * Host addresses as `bigint` for FFI `usize` parameters, computed without allocating.
 *
 * V8 (Deno 2.9.6) lowers `base + BigInt(x >>> 0)` to a plain 64-bit add when the result goes straight to a fast
 * FFI call: ~12 ns, no heap BigInt. `base + BigInt(x)` for a non-integer-typed double allocates and costs ~35 ns
 * (measured on the development machine). Offsets and lengths below 4 GiB take the fast form; larger ones (a big
 * guest RAM region) still work, on the slower path.
 *
 * @module
 */

/**
 * `base + offset` as a bigint.
 *
 * @param base The memory's host address.
 * @param offset Byte offset (a non-negative integer).
 * @returns The address.
 */
export function hostAddress(base: bigint, offset: number): bigint {
  return offset <= 0xffff_ffff ? base + BigInt(offset >>> 0) : base + BigInt(offset);
}

/**
 * A length as a bigint, for `size_t` parameters.
 *
 * @param length Bytes (a non-negative integer).
 * @returns The length.
 */
export function sizeT(length: number): bigint {
  return length <= 0xffff_ffff ? BigInt(length >>> 0) : BigInt(length);
}
