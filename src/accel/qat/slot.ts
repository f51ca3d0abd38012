/**
 * `QatSlot`: one request in flight on a ring pair, with its part of the scratch area (source and destination
 * scatter-gather lists, digest and AAD copies, the chain AAD sink, the bounce area) and the copies to make when
 * it completes: destination or digest bytes that went through the slot because the guest's memory was not
 * reachable by the device or not contiguous.
 *
 * @module
 */

import type { CryptoOp, EngineSession, HostMemory, SgList } from "../../engine/mod.ts";
import { SglBuilder } from "./sgl.ts";
import type { SlotLayout } from "./ticket.ts";

/** The scratch area as the data path sees it. */
export interface Scratch {
  readonly bytes: Uint8Array;
  readonly words: Uint32Array;
  readonly iova: number;
}

/** One request slot. */
export class QatSlot {
  /** Slot number: the request's opaque value. */
  readonly index: number;
  /** Offset of the slot in the scratch area. */
  readonly base: number;
  readonly src: SglBuilder;
  readonly dst: SglBuilder;
  /** The operation in flight, or null. */
  op: CryptoOp | null = null;
  session: EngineSession | null = null;
  /** When it went to the device (`performance.now()`). */
  submittedAt = 0;
  /** Bounce bytes used by this request. */
  bounceUsed = 0;
  /** Whether any of its bytes bounced because the device could not reach them (counted). */
  bounced = false;
  /** Copies back after completion: target memory, offset there, offset in the scratch area, length. */
  readonly fixMemory: (HostMemory | undefined)[];
  readonly fixOffset: Float64Array;
  readonly fixAt: Float64Array;
  readonly fixLen: Uint32Array;
  fixCount = 0;

  /**
   * @param index Slot number.
   * @param scratch The scratch area.
   * @param layout Offsets in a slot.
   * @param maxSegments Most list entries (copy-backs are bounded the same way, plus the digest's).
   */
  constructor(index: number, scratch: Scratch, layout: SlotLayout, maxSegments: number) {
    this.index = index;
    this.base = layout.first + index * layout.stride;
    this.src = new SglBuilder(
      scratch.words,
      this.base + layout.srcSgl,
      scratch.iova + this.base + layout.srcSgl,
      maxSegments,
    );
    this.dst = new SglBuilder(
      scratch.words,
      this.base + layout.dstSgl,
      scratch.iova + this.base + layout.dstSgl,
      maxSegments,
    );
    const fixes = maxSegments + 8;
    this.fixMemory = new Array<HostMemory | undefined>(fixes).fill(undefined);
    this.fixOffset = new Float64Array(fixes);
    this.fixAt = new Float64Array(fixes);
    this.fixLen = new Uint32Array(fixes);
  }

  /** Ready for a new request. */
  reset(): void {
    this.src.reset();
    this.dst.reset();
    this.bounceUsed = 0;
    this.bounced = false;
    for (let k = 0; k < this.fixCount; k++) this.fixMemory[k] = undefined;
    this.fixCount = 0;
  }

  /**
   * Records a copy back: `len` bytes at scratch offset `at` go to `memory.bytes[offset..]` on success.
   *
   * @returns False when the slot has no room for another.
   */
  addFix(memory: HostMemory, offset: number, at: number, len: number): boolean {
    const k = this.fixCount;
    if (k === this.fixLen.length) return false;
    this.fixMemory[k] = memory;
    this.fixOffset[k] = offset;
    this.fixAt[k] = at;
    this.fixLen[k] = len;
    this.fixCount = k + 1;
    return true;
  }

  /**
   * After success: the bytes that went through the slot go where the operation wants them.
   *
   * @param scratch The scratch area.
   */
  copyBack(scratch: Scratch): void {
    for (let k = 0; k < this.fixCount; k++) {
      copyBytes(scratch.bytes, this.fixAt[k]!, this.fixMemory[k]!.bytes, this.fixOffset[k]!, this.fixLen[k]!);
    }
  }

  /** Frees the slot's references (an idle ring pair keeps no guest memory alive). */
  release(): void {
    this.op = null;
    this.session = null;
    this.reset();
  }
}

/**
 * A byte loop for small copies (no subarray object), `set` for large ones.
 *
 * @param src Source bytes.
 * @param from Offset there.
 * @param dst Destination bytes.
 * @param to Offset there.
 * @param n Bytes.
 */
export function copyBytes(src: Uint8Array, from: number, dst: Uint8Array, to: number, n: number): void {
  if (n <= 64) {
    for (let k = 0; k < n; k++) dst[to + k] = src[from + k]!;
  } else {
    dst.set(src.subarray(from, from + n), to);
  }
}

/**
 * Copies `length` bytes of a list, from list position `start`, to `dst[to..]` (IVs, AAD, tags: small).
 *
 * @param l The list.
 * @param start Position in the list.
 * @param length Bytes.
 * @param dst Destination.
 * @param to Offset there.
 */
export function gather(l: SgList, start: number, length: number, dst: Uint8Array, to: number): void {
  let skip = start;
  let pos = to;
  let left = length;
  for (let i = 0; i < l.count && left > 0; i++) {
    const len = l.length[i]!;
    if (skip >= len) {
      skip -= len;
      continue;
    }
    const n = Math.min(len - skip, left);
    copyBytes(l.memory[i]!.bytes, l.offset[i]! + skip, dst, pos, n);
    pos += n;
    left -= n;
    skip = 0;
  }
}

/**
 * Zeroes the first `length` bytes of a list (a GCM decryption whose tag did not match releases no plaintext,
 * whatever the device wrote).
 *
 * @param l The list.
 * @param length Bytes.
 */
export function zeroList(l: SgList, length: number): void {
  let left = length;
  for (let i = 0; i < l.count && left > 0; i++) {
    const n = Math.min(l.length[i]!, left);
    l.memory[i]!.bytes.fill(0, l.offset[i]!, l.offset[i]! + n);
    left -= n;
  }
}
