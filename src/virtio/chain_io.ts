/**
 * Byte-stream access to a popped `DescriptorChain` (vm-virtio's `Reader`/`Writer`): the readable part and the
 * writable part are each one logical byte range, split over descriptors. `ChainCursor` maps a logical range to
 * (descriptor, offset, length) pieces without copying; `ChainReader` and `ChainWriter` copy through it.
 *
 * Nothing here allocates on the common path: cursors are reused, a piece inside one region is copied straight
 * from the region's view, and short copies use a loop instead of a `subarray`. Only a piece that spans two
 * adjacent regions goes through `mem.read`/`mem.write`.
 *
 * @module
 */

import type { GuestMemory } from "../memory/mod.ts";
import type { DescriptorChain } from "./descriptor_chain.ts";
import { copySmall } from "./_word_views.ts";

// Up to this many bytes (a request header plus IV) a byte loop is cheaper than the subarray TypedArray.set needs,
// which would allocate per request.
const SMALL_COPY = 128;

/**
 * Walks a logical byte range of a chain's readable or writable part, one descriptor piece at a time (VIRTIO v1.2,
 * 2.7.4: the device makes no assumption about how buffers are split into descriptors).
 *
 * @example Mapping a destination range onto guest buffers
 * ```ts ignore
 * const cursor = new ChainCursor();
 * if (!cursor.start(chain, true, 0, dstLen)) return BADMSG; // the writable part is too short
 * while (cursor.next()) sg.push(cursor.gpa, cursor.length);
 * ```
 */
export class ChainCursor {
  /** Index in the chain of the current piece's descriptor. */
  index = -1;
  /** Offset of the current piece inside its descriptor. */
  offset = 0;
  /** Length of the current piece. */
  length = 0;
  /** Guest-physical address of the current piece (`chain.addr[index] + offset`). */
  gpa = 0;
  #chain: DescriptorChain | null = null;
  #at = 0;
  #inDesc = 0;
  #remaining = 0;

  /**
   * Positions the cursor before the first piece of `[offset, offset + length)` of one part of `chain`.
   *
   * @param chain A chain without `error`.
   * @param writable true for the device-writable part, false for the device-readable part.
   * @param offset Logical offset in that part.
   * @param length Bytes to walk (the cursor then needs an `offset`/`length` pair, so no options object here).
   * @returns false (and `next()` returns false) when the range does not fit in the part.
   */
  start(chain: DescriptorChain, writable: boolean, offset: number, length: number): boolean {
    const partBytes = writable ? chain.writableBytes : chain.readableBytes;
    this.#chain = chain;
    this.#remaining = 0;
    this.index = -1;
    this.length = 0;
    if (!(offset >= 0 && length >= 0 && offset + length <= partBytes)) return false;
    let i = writable ? chain.readableCount : 0;
    let skip = offset;
    // Every stored descriptor has len > 0 (zero-length ones are dropped), so this ends inside the part.
    while (length > 0 && skip >= chain.len[i]!) skip -= chain.len[i++]!;
    this.#at = i;
    this.#inDesc = skip;
    this.#remaining = length;
    return true;
  }

  /**
   * Moves to the next piece and sets `index`, `offset`, `length` and `gpa`.
   *
   * @returns false when the range is exhausted.
   */
  next(): boolean {
    const chain = this.#chain;
    if (this.#remaining === 0 || chain === null) return false;
    const i = this.#at;
    const n = Math.min(chain.len[i]! - this.#inDesc, this.#remaining);
    this.index = i;
    this.offset = this.#inDesc;
    this.length = n;
    this.gpa = chain.addr[i]! + this.#inDesc;
    this.#remaining -= n;
    this.#at = i + 1;
    this.#inDesc = 0;
    return true;
  }
}

/** Copies bytes out of a chain's device-readable part (vm-virtio `Reader`). Reuse one per queue. */
export class ChainReader {
  #cursor = new ChainCursor();

  /**
   * Copies readable bytes from logical `offset` into `dst`, up to `dst.length` or the end of the readable part.
   * The guest may change these bytes at any time: copy anything that is validated (a request header) and parse
   * the copy (style.md rule 10b).
   *
   * @param mem Guest memory.
   * @param chain A chain without `error`.
   * @param offset Logical offset in the readable part.
   * @param dst Destination.
   * @returns Bytes copied: fewer than `dst.length` when the readable part ends first, 0 when `offset` is past it.
   * @throws GuestMemoryError when a buffer is no longer guest memory (the memory table changed since the pop).
   */
  readInto(mem: GuestMemory, chain: DescriptorChain, offset: number, dst: Uint8Array): number {
    const n = Math.max(0, Math.min(dst.length, chain.readableBytes - offset));
    // The usual read, a request header at the start of its own first descriptor: no cursor.
    if (offset === 0 && n > 0 && n <= chain.len[0]!) {
      copyFromGuest(mem, chain.addr[0]!, dst, 0, n);
      return n;
    }
    const c = this.#cursor;
    if (!c.start(chain, false, offset, n)) return 0;
    let pos = 0;
    while (c.next()) {
      copyFromGuest(mem, c.gpa, dst, pos, c.length);
      pos += c.length;
    }
    return n;
  }
}

/** Copies bytes into a chain's device-writable part (vm-virtio `Writer`). Reuse one per queue. */
export class ChainWriter {
  #cursor = new ChainCursor();

  /**
   * Copies `src` to logical `offset` of the writable part, up to the end of that part.
   *
   * @param mem Guest memory.
   * @param chain A chain without `error`.
   * @param offset Logical offset in the writable part.
   * @param src Bytes to write.
   * @returns Bytes written: fewer than `src.length` when the writable part ends first.
   * @throws GuestMemoryError when a buffer is no longer guest memory (the memory table changed since the pop).
   */
  writeFrom(mem: GuestMemory, chain: DescriptorChain, offset: number, src: Uint8Array): number {
    const n = Math.max(0, Math.min(src.length, chain.writableBytes - offset));
    const c = this.#cursor;
    if (!c.start(chain, true, offset, n)) return 0;
    let pos = 0;
    while (c.next()) {
      copyToGuest(mem, c.gpa, src, pos, c.length);
      pos += c.length;
    }
    return n;
  }

  /**
   * Writes one byte (a status byte) at logical `offset` of the writable part.
   *
   * @param mem Guest memory.
   * @param chain A chain without `error`.
   * @param offset Logical offset in the writable part (`chain.writableBytes - 1` for the last byte).
   * @param value The byte.
   * @returns false when `offset` is outside the writable part or no longer guest memory.
   */
  writeByte(mem: GuestMemory, chain: DescriptorChain, offset: number, value: number): boolean {
    let gpa: number;
    const last = chain.count - 1;
    if (offset === chain.writableBytes - 1 && last >= chain.readableCount) {
      gpa = chain.addr[last]! + chain.len[last]! - 1; // the status byte: the writable part's last byte, no cursor
    } else {
      const c = this.#cursor;
      if (!c.start(chain, true, offset, 1) || !c.next()) return false;
      gpa = c.gpa;
    }
    const region = mem.find(gpa, 1);
    if (region === undefined) return false;
    // UNSAFE: a write into live guest memory, at an address validated when the chain was popped.
    region.bytes[gpa - region.gpa] = value;
    return true;
  }
}

function copyFromGuest(mem: GuestMemory, gpa: number, dst: Uint8Array, pos: number, n: number): void {
  const region = mem.find(gpa, n);
  if (region === undefined) {
    mem.read(gpa, dst.subarray(pos, pos + n)); // the piece spans adjacent regions (or is gone: throws)
    return;
  }
  // UNSAFE: guest memory the driver may change while it is copied; the copy is then just data, never a length.
  const src = region.bytes;
  const at = gpa - region.gpa;
  if (n <= SMALL_COPY) copySmall(src, at, dst, pos, n);
  else dst.set(src.subarray(at, at + n), pos);
}

function copyToGuest(mem: GuestMemory, gpa: number, src: Uint8Array, pos: number, n: number): void {
  const region = mem.find(gpa, n);
  if (region === undefined) {
    mem.write(gpa, src.subarray(pos, pos + n)); // the piece spans adjacent regions (or is gone: throws)
    return;
  }
  const dst = region.bytes;
  const at = gpa - region.gpa;
  if (n <= SMALL_COPY) copySmall(src, pos, dst, at, n);
  else dst.set(src.subarray(pos, pos + n), at);
}
