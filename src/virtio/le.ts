/**
 * Little-endian field access on byte arrays. Virtio 1.x is little-endian; DataView defaults to big-endian, so every
 * ring and request field goes through these helpers instead of DataView (style.md rule 11).
 *
 * They work on plain `Uint8Array`s with byte arithmetic: no DataView object per call, no allocation, and bounds are
 * the caller's job (an out-of-range read yields `undefined` bytes, so callers check lengths first).
 *
 * @module
 */

/** Reads a u8. */
export function readU8(b: Uint8Array, off: number): number {
  return b[off]!;
}

/** Reads a little-endian u16. */
export function readU16(b: Uint8Array, off: number): number {
  return b[off]! | (b[off + 1]! << 8);
}

/** Reads a little-endian u32. */
export function readU32(b: Uint8Array, off: number): number {
  return (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
}

/** Reads a little-endian u64 as a bigint (session ids, feature bits). */
export function readU64(b: Uint8Array, off: number): bigint {
  return BigInt(readU32(b, off)) | (BigInt(readU32(b, off + 4)) << 32n);
}

/**
 * Reads a little-endian u64 as a number (addresses, lengths).
 *
 * @throws RangeError when the value is above 2^53 - 1 (style.md rule 12: convert at the boundary).
 */
export function readU64Number(b: Uint8Array, off: number): number {
  const hi = readU32(b, off + 4);
  if (hi > 0x1fffff) {
    throw new RangeError(`Cannot read u64 at offset ${off}: value exceeds 2^53: high word is ${hi}`);
  }
  return hi * 0x1_0000_0000 + readU32(b, off);
}

/** Writes a u8. */
export function writeU8(b: Uint8Array, off: number, v: number): void {
  b[off] = v;
}

/** Writes a little-endian u16. */
export function writeU16(b: Uint8Array, off: number, v: number): void {
  b[off] = v & 0xff;
  b[off + 1] = (v >>> 8) & 0xff;
}

/** Writes a little-endian u32. */
export function writeU32(b: Uint8Array, off: number, v: number): void {
  b[off] = v & 0xff;
  b[off + 1] = (v >>> 8) & 0xff;
  b[off + 2] = (v >>> 16) & 0xff;
  b[off + 3] = (v >>> 24) & 0xff;
}

/** Writes a little-endian u64 from a bigint (negative values are written as two's complement). */
export function writeU64(b: Uint8Array, off: number, v: bigint): void {
  const u = BigInt.asUintN(64, v);
  writeU32(b, off, Number(u & 0xffff_ffffn));
  writeU32(b, off + 4, Number(u >> 32n));
}

/**
 * Writes a little-endian u64 from a non-negative safe integer.
 *
 * @throws RangeError for negative or unsafe values.
 */
export function writeU64Number(b: Uint8Array, off: number, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new RangeError(
      `Cannot write u64 at offset ${off}: value must be a safe integer >= 0: current value is ${v}`,
    );
  }
  writeU32(b, off, v % 0x1_0000_0000);
  writeU32(b, off + 4, Math.floor(v / 0x1_0000_0000));
}
