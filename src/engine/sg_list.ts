/**
 * A scatter-gather list: the byte ranges one role of a request (IV, source, destination, AAD, digest) occupies in
 * host memory. It is preallocated and refilled per request, so building it allocates nothing.
 *
 * @module
 */

import type { HostMemory } from "./host_memory.ts";

/**
 * Ordered byte ranges, each a (memory, offset, length) triple, plus the guest-physical address of each range for
 * engines that DMA (NaN where there is none, as for engine-owned buffers).
 */
export class SgList {
  /** Maximum number of ranges. */
  readonly capacity: number;
  /** The memory each range lies in. */
  readonly memory: (HostMemory | undefined)[];
  /** Offset of each range inside its memory's `bytes`. */
  readonly offset: Float64Array;
  /** Length of each range in bytes. */
  readonly length: Uint32Array;
  /** Guest-physical address (IOVA) of each range, or NaN. */
  readonly gpa: Float64Array;
  /** Number of ranges in use. */
  count = 0;
  /** Sum of the lengths in use. */
  total = 0;

  /** @param capacity Maximum number of ranges (a chain never has more descriptors than its queue size). */
  constructor(capacity: number) {
    this.capacity = capacity;
    this.memory = new Array<HostMemory | undefined>(capacity).fill(undefined);
    this.offset = new Float64Array(capacity);
    this.length = new Uint32Array(capacity);
    this.gpa = new Float64Array(capacity);
  }

  /** Empties the list (references to memory are dropped too, so a region can be unmapped and collected). */
  clear(): void {
    for (let i = 0; i < this.count; i++) this.memory[i] = undefined;
    this.count = 0;
    this.total = 0;
  }

  /**
   * Appends a range; merges it with the last one when both are adjacent in the same memory.
   *
   * @param memory The memory the range lies in.
   * @param offset Offset in `memory.bytes`.
   * @param length Length in bytes (0 is ignored).
   * @param gpa Guest-physical address of the range, or NaN.
   * @throws RangeError when the list is full or the range lies outside `memory`.
   */
  push(memory: HostMemory, offset: number, length: number, gpa = NaN): void {
    if (length === 0) return;
    if (offset < 0 || length < 0 || offset + length > memory.bytes.length) {
      throw new RangeError(
        `Cannot add range: ${offset}+${length} lies outside memory of ${memory.bytes.length} bytes`,
      );
    }
    const last = this.count - 1;
    if (
      last >= 0 && this.memory[last] === memory && this.offset[last]! + this.length[last]! === offset &&
      (Number.isNaN(gpa) || this.gpa[last]! + this.length[last]! === gpa)
    ) {
      this.length[last] = this.length[last]! + length;
      this.total += length;
      return;
    }
    if (this.count === this.capacity) {
      throw new RangeError(`Cannot add range: list is full: capacity is ${this.capacity}`);
    }
    const i = this.count++;
    this.memory[i] = memory;
    this.offset[i] = offset;
    this.length[i] = length;
    this.gpa[i] = gpa;
    this.total += length;
  }

  /**
   * Appends the sub-range `[start, start + length)` of another list (in list byte positions).
   *
   * @param other The list to take ranges from.
   * @param start Byte position in `other` where the sub-range starts.
   * @param length Bytes to take.
   * @throws RangeError when the sub-range exceeds `other.total`.
   */
  pushRange(other: SgList, start: number, length: number): void {
    if (start < 0 || length < 0 || start + length > other.total) {
      throw new RangeError(`Cannot take ${start}+${length} from a list of ${other.total} bytes`);
    }
    let skip = start;
    let left = length;
    for (let i = 0; i < other.count && left > 0; i++) {
      const len = other.length[i]!;
      if (skip >= len) {
        skip -= len;
        continue;
      }
      const take = Math.min(len - skip, left);
      this.push(other.memory[i]!, other.offset[i]! + skip, take, other.gpa[i]! + skip);
      left -= take;
      skip = 0;
    }
  }

  /**
   * Copies bytes out of the list, starting at list position `start`, into `dst`.
   *
   * @param start Byte position in the list.
   * @param dst Destination; `dst.length` bytes are copied.
   * @throws RangeError when the list holds fewer bytes.
   */
  copyOut(start: number, dst: Uint8Array): void {
    this.#walk(start, dst.length, (bytes, at, pos, n) => dst.set(bytes.subarray(at, at + n), pos));
  }

  /**
   * Copies `src` into the list, starting at list position `start`.
   *
   * @param start Byte position in the list.
   * @param src Source bytes.
   * @throws RangeError when the list holds fewer bytes.
   */
  copyIn(start: number, src: Uint8Array): void {
    this.#walk(start, src.length, (bytes, at, pos, n) => bytes.set(src.subarray(pos, pos + n), at));
  }

  #walk(
    start: number,
    length: number,
    step: (bytes: Uint8Array, at: number, pos: number, n: number) => void,
  ): void {
    if (start < 0 || start + length > this.total) {
      throw new RangeError(`Cannot access ${start}+${length} in a list of ${this.total} bytes`);
    }
    let skip = start;
    let pos = 0;
    for (let i = 0; i < this.count && pos < length; i++) {
      const len = this.length[i]!;
      if (skip >= len) {
        skip -= len;
        continue;
      }
      const n = Math.min(len - skip, length - pos);
      step(this.memory[i]!.bytes, this.offset[i]! + skip, pos, n);
      pos += n;
      skip = 0;
    }
  }
}
