/**
 * A cursor over an `SgList`: walks runs of contiguous bytes and copies small pieces between a list and
 * engine-owned scratch memory, without allocating.
 *
 * Small copies are byte loops over the lists' existing views: they create no `Uint8Array` (no `subarray`), so
 * they fit the hot path for the few bytes they move (a block straddling two ranges, an IV, a tag). Large ones
 * only happen on the rare whole-message gathers and use `set`.
 *
 * @module
 */

import { SgList } from "../sg_list.ts";
import { hostAddress } from "./address.ts";

/** Copies up to this size are byte loops (no view created); larger ones (rare gathers) use `set`. */
const SMALL_COPY = 64;

/** A list with no ranges, the resting value of cursors and spans (holds no memory alive). */
export const EMPTY_LIST: SgList = new SgList(0);

/** A position inside an `SgList`: range index plus offset inside that range. */
export class SgCursor {
  #list: SgList = EMPTY_LIST;
  #index = 0;
  #inner = 0;

  /**
   * Moves the cursor to list position `pos`.
   *
   * @param list The list to walk.
   * @param pos Byte position in the list (at most `list.total`).
   */
  seek(list: SgList, pos: number): void {
    this.#list = list;
    let i = 0;
    let skip = pos;
    while (i < list.count && skip >= list.length[i]!) {
      skip -= list.length[i]!;
      i++;
    }
    this.#index = i;
    this.#inner = skip;
  }

  /** Bytes left in the current range (0 at the end of the list). */
  get avail(): number {
    return this.#index < this.#list.count ? this.#list.length[this.#index]! - this.#inner : 0;
  }

  /** The view of the current range's memory (valid while `avail > 0`). */
  get bytes(): Uint8Array {
    return this.#list.memory[this.#index]!.bytes;
  }

  /** Offset of the current byte in `bytes`. */
  get offset(): number {
    return this.#list.offset[this.#index]! + this.#inner;
  }

  /** Host address of the current byte, for FFI `usize` parameters. */
  address(): bigint {
    const list = this.#list;
    return hostAddress(list.memory[this.#index]!.address, list.offset[this.#index]! + this.#inner);
  }

  /**
   * Moves forward by `n` bytes inside the current range (`n <= avail`).
   *
   * @param n Bytes to skip.
   */
  advance(n: number): void {
    this.#inner += n;
    const list = this.#list;
    while (this.#index < list.count && this.#inner >= list.length[this.#index]!) {
      this.#inner -= list.length[this.#index]!;
      this.#index++;
    }
  }

  /**
   * Copies `n` bytes from the list into `to[at..]`, across ranges, and moves forward.
   *
   * @param to Destination view (engine scratch).
   * @param at Offset in `to`.
   * @param n Bytes to copy (at most what the list holds from here).
   */
  read(to: Uint8Array, at: number, n: number): void {
    for (let k = 0; k < n;) {
      const list = this.#list;
      const bytes = list.memory[this.#index]!.bytes;
      const off = list.offset[this.#index]! + this.#inner;
      const take = Math.min(this.avail, n - k);
      if (take > SMALL_COPY) to.set(bytes.subarray(off, off + take), at + k);
      else for (let j = 0; j < take; j++) to[at + k + j] = bytes[off + j]!;
      k += take;
      this.advance(take);
    }
  }

  /**
   * Copies `n` bytes from `from[at..]` into the list, across ranges, and moves forward.
   *
   * @param from Source view (engine scratch).
   * @param at Offset in `from`.
   * @param n Bytes to copy (at most what the list holds from here).
   */
  write(from: Uint8Array, at: number, n: number): void {
    for (let k = 0; k < n;) {
      const list = this.#list;
      const bytes = list.memory[this.#index]!.bytes;
      const off = list.offset[this.#index]! + this.#inner;
      const take = Math.min(this.avail, n - k);
      if (take > SMALL_COPY) bytes.set(from.subarray(at + k, at + k + take), off);
      else for (let j = 0; j < take; j++) bytes[off + j] = from[at + k + j]!;
      k += take;
      this.advance(take);
    }
  }

  /** Drops the reference to the list (so guest memory is not kept alive by an idle engine). */
  release(): void {
    this.#list = EMPTY_LIST;
    this.#index = 0;
    this.#inner = 0;
  }
}
