/**
 * Builds one LA request in the TX ring from a `CryptoOp`: the session's template copied in, then the per-request
 * words patched (opaque, buffer addresses and lengths, offsets, IV, result and AAD addresses). Buffers point at
 * guest memory by IOVA through the VM's `GuestIovaLookup`; a source or destination of more than one range becomes
 * a scatter-gather list in the slot; a range the device cannot reach goes through the slot's bounce area (copied
 * in before, back after, counted). Nothing is allocated on this path.
 *
 * | session | source | destination | also |
 * | --- | --- | --- | --- |
 * | cipher | src | dst (same IOVAs in place) | IV inline |
 * | hash, MAC | src | src (as DPDK does for auth) | digest address |
 * | GCM | src | dst | IV inline (12 bytes), AAD address, tag address (written or compared) |
 * | chain | src with the AAD inserted before the hashed region | dst with a sink for it | IV, digest |
 *
 * The chain's hash covers `aad ‖ region` (README, "Chaining"): the AAD is spliced into the buffer list right
 * before the hashed region, and the auth region grows by its length, so the device hashes exactly that; on the way
 * out the AAD's bytes land in a sink in the slot.
 *
 * @module
 */

import type { CryptoOp, SgList } from "../../engine/mod.ts";
import { COMN_FLAGS_SHIFT, COMN_PTR_SGL, Req, Word } from "./fw_la.ts";
import type { GuestIovaLookup } from "../virtio_pci/mod.ts";
import { Kind, type QatSession } from "./session.ts";
import { gather, type QatSlot, type Scratch } from "./slot.ts";
import type { SglBuilder } from "./sgl.ts";
import type { SlotLayout } from "./ticket.ts";

/** The TX ring as the builder writes it. */
export interface RingView {
  readonly words: Uint32Array;
  readonly bytes: Uint8Array;
}

/** What the builder works with. */
export interface BuilderParts {
  readonly scratch: Scratch;
  readonly layout: SlotLayout;
  readonly bounceBytes: number;
  /** Stamped into every request's opaque high word. */
  readonly epoch: number;
}

const TWO32 = 0x1_0000_0000;

/** Fills TX ring entries. One per ring pair; not re-entrant. */
export class QatRequestBuilder {
  readonly #p: BuilderParts;
  #guest: GuestIovaLookup;
  #slot: QatSlot | null = null;

  /**
   * @param parts Scratch area, layout, limits.
   * @param guest The VM's translation.
   */
  constructor(parts: BuilderParts, guest: GuestIovaLookup) {
    this.#p = parts;
    this.#guest = guest;
  }

  /** The VM's translation (replaced when its memory table changes). */
  set guest(guest: GuestIovaLookup) {
    this.#guest = guest;
  }

  /**
   * Lays a checked operation out at word `at` of the TX ring.
   *
   * @param op The operation (`checkRequest` said OK).
   * @param s Its session.
   * @param slot A free slot.
   * @param ring The TX ring.
   * @param at Word index of the entry.
   * @returns False when the device cannot take it as it is (too many ranges, bounce area full): software runs it.
   */
  build(op: CryptoOp, s: QatSession, slot: QatSlot, ring: RingView, at: number): boolean {
    const w = ring.words;
    w.set(s.template, at);
    w[at + Word.OPAQUE_LO] = slot.index;
    w[at + Word.OPAQUE_HI] = this.#p.epoch;
    slot.reset();
    this.#slot = slot;
    try {
      switch (s.kind) {
        case Kind.CIPHER:
          return this.#cipher(op, slot, ring, at);
        case Kind.HASH:
        case Kind.MAC:
          return this.#auth(op, s, slot, w, at);
        case Kind.AEAD:
          return this.#aead(op, s, slot, ring, at);
        default:
          return this.#chain(op, s, slot, ring, at);
      }
    } finally {
      this.#slot = null;
    }
  }

  #cipher(op: CryptoOp, slot: QatSlot, ring: RingView, at: number): boolean {
    const n = op.src.total;
    if (!this.#list(op.src, 0, n, slot.src, false) || !this.#list(op.dst, 0, n, slot.dst, true)) return false;
    gather(op.iv, 0, 16, ring.bytes, 4 * at + Req.CIPHER_IV);
    ring.words[at + Word.CIPHER_OFFSET] = 0;
    ring.words[at + Word.CIPHER_LENGTH] = n;
    this.#buffers(ring.words, at, slot.src, slot.dst, n);
    return true;
  }

  #auth(op: CryptoOp, s: QatSession, slot: QatSlot, w: Uint32Array, at: number): boolean {
    const n = op.src.total;
    if (!this.#list(op.src, 0, n, slot.src, false)) return false;
    const res = this.#result(op.digest, s.resultLen, true);
    if (res < 0) return false;
    w[at + Word.AUTH_OFF] = 0;
    w[at + Word.AUTH_LEN] = n;
    address(w, at + Word.RES_LO, res);
    this.#buffers(w, at, slot.src, slot.src, n);
    return true;
  }

  #aead(op: CryptoOp, s: QatSession, slot: QatSlot, ring: RingView, at: number): boolean {
    const n = op.src.total;
    if (!this.#list(op.src, 0, n, slot.src, false) || !this.#list(op.dst, 0, n, slot.dst, true)) return false;
    const aad = op.aad.total === 0 ? 0 : this.#contiguous(op.aad, op.aad.total, this.#p.layout.aad, false);
    const tag = this.#result(op.digest, s.resultLen, s.encrypt);
    if (aad < 0 || tag < 0) return false;
    gather(op.iv, 0, 12, ring.bytes, 4 * at + Req.CIPHER_IV);
    const w = ring.words;
    w[at + Word.CIPHER_OFFSET] = 0;
    w[at + Word.CIPHER_LENGTH] = n;
    address(w, at + Word.AAD_LO, aad);
    address(w, at + Word.RES_LO, tag);
    this.#buffers(w, at, slot.src, slot.dst, n);
    return true;
  }

  #chain(op: CryptoOp, s: QatSession, slot: QatSlot, ring: RingView, at: number): boolean {
    const n = op.src.total;
    const a = op.aad.total;
    // Without AAD the hashed region starts where the guest said; with it, the AAD goes in right before.
    const h = a === 0 ? 0 : op.hashOffset;
    const sink = this.#p.scratch.iova + slot.base + this.#p.layout.sink;
    const ok = this.#list(op.src, 0, h, slot.src, false) && this.#list(op.aad, 0, a, slot.src, false) &&
      this.#list(op.src, h, n - h, slot.src, false) && this.#list(op.dst, 0, h, slot.dst, true) &&
      slot.dst.push(sink, a) && this.#list(op.dst, h, n - h, slot.dst, true);
    const res = ok ? this.#result(op.digest, s.resultLen, true) : -1;
    if (res < 0) return false;
    gather(op.iv, 0, 16, ring.bytes, 4 * at + Req.CIPHER_IV);
    const w = ring.words;
    w[at + Word.CIPHER_OFFSET] = op.cipherOffset >= h && a > 0 ? op.cipherOffset + a : op.cipherOffset;
    w[at + Word.CIPHER_LENGTH] = op.cipherLen;
    w[at + Word.AUTH_OFF] = a === 0 ? op.hashOffset : h;
    w[at + Word.AUTH_LEN] = op.hashLen + a;
    address(w, at + Word.RES_LO, res);
    this.#buffers(w, at, slot.src, slot.dst, n + a);
    return true;
  }

  // Flat buffers when both sides are one range, else both as lists (one pointer-type flag covers both).
  #buffers(w: Uint32Array, at: number, src: SglBuilder, dst: SglBuilder, length: number): void {
    if (src.flat && dst.flat) {
      address(w, at + Word.SRC_LO, src.address);
      address(w, at + Word.DST_LO, dst.address);
    } else {
      src.finish();
      if (dst !== src) dst.finish();
      address(w, at + Word.SRC_LO, src.iova);
      address(w, at + Word.DST_LO, dst.iova);
      w[at + Word.FLAGS] = w[at + Word.FLAGS]! | (COMN_PTR_SGL << COMN_FLAGS_SHIFT);
    }
    w[at + Word.SRC_LENGTH] = length;
    w[at + Word.DST_LENGTH] = length;
  }

  // `length` bytes of a list from position `start` into a buffer list: guest memory by IOVA, the rest bounced.
  #list(l: SgList, start: number, length: number, sgl: SglBuilder, writable: boolean): boolean {
    let skip = start;
    let left = length;
    for (let i = 0; i < l.count && left > 0; i++) {
      const len = l.length[i]!;
      if (skip >= len) {
        skip -= len;
        continue;
      }
      const n = Math.min(len - skip, left);
      const gpa = l.gpa[i]! + skip;
      const iova = gpa === gpa ? this.#guest.iova(gpa, n) : -1; // gpa === gpa: not NaN (engine-owned memory)
      const ok = iova >= 0 ? sgl.push(iova, n) : this.#bounce(l, i, skip, n, sgl, writable);
      if (!ok) return false;
      left -= n;
      skip = 0;
    }
    return left === 0;
  }

  #bounce(l: SgList, i: number, skip: number, n: number, sgl: SglBuilder, writable: boolean): boolean {
    const slot = this.#slot!;
    const scratch = this.#p.scratch;
    if (slot.bounceUsed + n > this.#p.bounceBytes) return false;
    const at = slot.base + this.#p.layout.bounce + slot.bounceUsed;
    const memory = l.memory[i]!;
    const from = l.offset[i]! + skip;
    if (writable) {
      if (!slot.addFix(memory, from, at, n)) return false;
    } else {
      scratch.bytes.set(memory.bytes.subarray(from, from + n), at);
    }
    slot.bounceUsed += n;
    slot.bounced = true;
    return sgl.push(scratch.iova + at, n);
  }

  // A digest or tag address: the guest's when it is one reachable range, else the slot's digest area.
  #result(l: SgList, length: number, writable: boolean): number {
    return this.#contiguous(l, length, this.#p.layout.digest, writable);
  }

  #contiguous(l: SgList, length: number, area: number, writable: boolean): number {
    if (l.count > 0 && l.length[0]! >= length) {
      const gpa = l.gpa[0]!;
      const iova = gpa === gpa ? this.#guest.iova(gpa, length) : -1;
      if (iova >= 0) return iova;
    }
    const slot = this.#slot!;
    const at = slot.base + area;
    if (!writable) {
      gather(l, 0, length, this.#p.scratch.bytes, at);
      return this.#p.scratch.iova + at;
    }
    let left = length;
    let pos = at;
    for (let i = 0; i < l.count && left > 0; i++) {
      const n = Math.min(l.length[i]!, left);
      if (!slot.addFix(l.memory[i]!, l.offset[i]!, pos, n)) return -1;
      if (l.gpa[i]! !== l.gpa[i]! || this.#guest.iova(l.gpa[i]!, n) < 0) slot.bounced = true;
      pos += n;
      left -= n;
    }
    return this.#p.scratch.iova + at;
  }
}

function address(w: Uint32Array, lo: number, iova: number): void {
  w[lo] = iova >>> 0;
  w[lo + 1] = Math.floor(iova / TWO32);
}
