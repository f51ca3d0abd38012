/**
 * Spans: a region `[start, start + length)` of an `SgList`, the unit the engine's cores work on (a whole source,
 * or the cipher or hash region of a chained request). Spans are preallocated in the workspace and refilled per
 * operation, so passing regions around allocates nothing.
 *
 * @module
 */

import type { SgList } from "../sg_list.ts";
import { EMPTY_LIST } from "./sg_cursor.ts";
import { hostAddress } from "./address.ts";

/** Largest single EVP update: lengths are C `int` in `EVP_CipherUpdate`, so stay well below 2^31. */
export const MAX_UPDATE = 1 << 30;

/** A region of an `SgList`. */
export class Span {
  /** The list. */
  list: SgList = EMPTY_LIST;
  /** Start position in the list. */
  start = 0;
  /** Length in bytes. */
  length = 0;

  /**
   * Refills the span.
   *
   * @param list The list.
   * @param start Start position.
   * @param length Length (`start + length <= list.total` is the caller's check).
   * @returns This span.
   */
  set(list: SgList, start: number, length: number): this {
    this.list = list;
    this.start = start;
    this.length = length;
    return this;
  }

  /** Drops the list reference (an idle engine keeps no guest memory alive). */
  release(): void {
    this.list = EMPTY_LIST;
  }
}

/**
 * Something fed with contiguous byte runs (a digest, a MAC, GCM's AAD).
 *
 * A run arrives as the memory's base address plus an offset, not as one computed address: the sink computes
 * `hostAddress(base, offset)` right at its FFI call, where V8 keeps the bigint unboxed. A computed bigint passed
 * through a call V8 does not inline would be boxed on the heap, once per run.
 */
export interface Sink {
  /**
   * Takes `length` bytes at host address `base + offset`.
   *
   * @returns False when OpenSSL failed.
   */
  feed(base: bigint, offset: number, length: number): boolean;
}

/**
 * Feeds a span to `sink`, one call per contiguous run (at most `MAX_UPDATE` bytes each).
 *
 * @param span The bytes.
 * @param sink The consumer.
 * @returns False when the sink failed.
 */
export function feedSpan(span: Span, sink: Sink): boolean {
  const { list, start } = span;
  const end = start + span.length;
  let pos = 0;
  for (let i = 0; i < list.count && pos < end; i++) {
    const rLen = list.length[i]!;
    let a0 = Math.max(pos, start);
    const a1 = Math.min(pos + rLen, end);
    while (a0 < a1) {
      const n = Math.min(a1 - a0, MAX_UPDATE);
      const offset = list.offset[i]! + a0 - pos;
      // `>>> 0` hands V8 32-bit integers, which it passes without boxing a HeapNumber per call.
      const ok = offset <= 0xffff_ffff
        ? sink.feed(list.memory[i]!.address, offset >>> 0, n >>> 0)
        : sink.feed(list.memory[i]!.address, offset, n);
      if (!ok) return false;
      a0 += n;
    }
    pos += rLen;
  }
  return true;
}

/**
 * Zeroes a span (a failed AEAD decryption must not release plaintext).
 *
 * @param span The bytes to zero.
 */
export function zeroSpan(span: Span): void {
  const { list, start } = span;
  const end = start + span.length;
  let pos = 0;
  for (let i = 0; i < list.count && pos < end; i++) {
    const rLen = list.length[i]!;
    const a0 = Math.max(pos, start);
    const a1 = Math.min(pos + rLen, end);
    if (a0 < a1) list.memory[i]!.bytes.fill(0, list.offset[i]! + a0 - pos, list.offset[i]! + a1 - pos);
    pos += rLen;
  }
}

/**
 * The host address of a span when its bytes are contiguous, else -1n.
 *
 * @param span The bytes.
 * @returns The address of the first byte, or -1n when the span crosses ranges.
 */
export function contiguousAddress(span: Span): bigint {
  const { list, start } = span;
  let pos = 0;
  for (let i = 0; i < list.count; i++) {
    const rLen = list.length[i]!;
    if (start < pos + rLen) {
      return start + span.length <= pos + rLen
        ? hostAddress(list.memory[i]!.address, list.offset[i]! + start - pos)
        : -1n;
    }
    pos += rLen;
  }
  return span.length === 0 ? 0n : -1n;
}

/**
 * Whether the source and destination spans share a byte at different positions.
 *
 * In-place operation (every shared byte sits at the same position of both spans) is fine: a cipher reads
 * position p before it writes position p. Any other overlap would let a write clobber input not yet read, so
 * the operation is refused with ERR.
 *
 * @param src Source span.
 * @param dst Destination span (same length).
 * @returns True when they overlap partially.
 */
export function overlapsPartially(src: Span, dst: Span): boolean {
  const s = src.list;
  const d = dst.list;
  if (s.count === 1 && d.count === 1) {
    if (s.memory[0] !== d.memory[0]) return false;
    const a = s.offset[0]! + src.start;
    const b = d.offset[0]! + dst.start;
    return a !== b && a < b + dst.length && b < a + src.length;
  }
  const end = src.start + src.length;
  let pos = 0;
  for (let i = 0; i < s.count && pos < end; i++) {
    const rLen = s.length[i]!;
    const a0 = Math.max(pos, src.start);
    const a1 = Math.min(pos + rLen, end);
    // Memory offset minus span position: a shared byte with equal shifts in both spans is in place.
    if (a0 < a1 && clashes(dst, s, i, s.offset[i]! + a0 - pos, a1 - a0, a0 - src.start)) return true;
    pos += rLen;
  }
  return false;
}

/** Whether `n` bytes of `list` range `i` at memory offset `off` (span position `spanPos`) clash with `dst`. */
function clashes(dst: Span, list: SgList, i: number, off: number, n: number, spanPos: number): boolean {
  const memory = list.memory[i];
  const d = dst.list;
  const end = dst.start + dst.length;
  let pos = 0;
  for (let j = 0; j < d.count && pos < end; j++) {
    const rLen = d.length[j]!;
    const b0 = Math.max(pos, dst.start);
    const b1 = Math.min(pos + rLen, end);
    if (b0 < b1 && d.memory[j] === memory) {
      const d0 = d.offset[j]! + b0 - pos;
      if (d0 < off + n && off < d0 + (b1 - b0) && d0 - (b0 - dst.start) !== off - spanPos) return true;
    }
    pos += rLen;
  }
  return false;
}
