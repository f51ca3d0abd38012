/**
 * Builds one data request (virtio 1.3 §5.9.7.4, legacy layout) for the device into a slot of bridge-owned DMA
 * memory: the 72-byte header and the IV are written into the slot, the status byte is reserved there, and the
 * payload (source, destination, AAD, digest or tag) goes to the device as descriptors that point straight at guest
 * RAM, at the IOVA its VM's table gives (`GuestIovaLookup`, design.md decision 4). A range without a
 * guest-physical address (engine-owned memory, such as the conformance suite's buffers) or in a region that is not
 * DMA-mapped goes through the slot's bounce area instead: copied in before, copied back after.
 *
 * Descriptor order is the specification's `op_vlf` order, the one the bridge's own parser reads (`data_vlf.ts`):
 *
 * | session | device-readable | device-writable |
 * | --- | --- | --- |
 * | cipher | header, iv, src | dst, status |
 * | hash, MAC | header, (GMAC iv), src | digest, status |
 * | AEAD encrypt | header, iv, src, aad | dst, tag, status |
 * | AEAD decrypt | header, iv, src, tag, aad | dst, status |
 * | chain | header, iv, src, aad | dst, digest, status |
 *
 * Requests are checked first, as the software engine checks them (lengths, IV, partial overlap: ERR), so the
 * device never sees one it should refuse; what the device could not take as it is (more descriptors than a slot
 * holds, more than its `max_size`, a full bounce area) is answered `ENGINE_FAILED`, which the router runs in
 * software. Nothing is allocated per request on the zero-copy path.
 *
 * @module
 */

import { type CryptoOp, ENGINE_FAILED, type SgList } from "../../engine/mod.ts";
import { overlapsPartially, Span } from "../../engine/software/span.ts";
import { Status, SymOpType } from "../../spec/virtio_crypto.ts";
import { DataRequest, writeDataRequest } from "../../crypto/mod.ts";
import type { DriverBufferList } from "../../virtio/mod.ts";
import type { DmaArea } from "./port.ts";
import type { GuestIovaLookup } from "./guest_dma.ts";
import type { AccelSession } from "./session.ts";

/** Slot layout: header at 0, IV at 80 (up to 128 bytes), status at 208, bounce area from 256. */
export const SLOT_IV = 80;
/** Most IV bytes a slot holds (GCM nonces go up to 128). */
export const SLOT_IV_MAX = 128;
/** Offset of the status byte. */
export const SLOT_STATUS = 208;
/** Offset of the bounce area. */
export const SLOT_BOUNCE = 256;
/** The legacy data request header + op_flf. */
export const HEADER_LEN = 72;

/** Which list a bounce copy-back goes to. */
const TO_DST = 0;
const TO_DIGEST = 1;

/** One request's place in DMA memory, and what to copy back when it completes. */
export class Slot {
  /** Slot number (the token the ring carries). */
  readonly index: number;
  /** Offset of the slot in the area. */
  readonly base: number;
  /** A view of the slot's header bytes (made once: a subarray per request would allocate). */
  readonly header: Uint8Array;
  /** The operation in flight, or null. */
  op: CryptoOp | null = null;
  /** Its session. */
  session: AccelSession | null = null;
  /** When it was submitted (`performance.now()`). */
  submittedAt = 0;
  /** Bounce copy-backs: target list, range index, offset in the area, length. */
  readonly fixList: Uint8Array;
  readonly fixIndex: Uint32Array;
  readonly fixAt: Float64Array;
  readonly fixLen: Uint32Array;
  fixCount = 0;
  /** Bounce bytes used by this request. */
  bounceUsed = 0;

  /**
   * @param index Slot number.
   * @param area The DMA area.
   * @param base Offset of the slot in it.
   * @param maxSegments Most descriptors per request.
   */
  constructor(index: number, area: DmaArea, base: number, maxSegments: number) {
    this.index = index;
    this.base = base;
    this.header = area.bytes.subarray(base, base + HEADER_LEN);
    this.fixList = new Uint8Array(maxSegments);
    this.fixIndex = new Uint32Array(maxSegments);
    this.fixAt = new Float64Array(maxSegments);
    this.fixLen = new Uint32Array(maxSegments);
  }
}

/** Limits of one request. */
export interface BuildLimits {
  /** Most descriptors (indirect table entries). */
  readonly maxSegments: number;
  /** Bounce bytes per slot. */
  readonly bounceBytes: number;
  /** The device's `max_size` (clamped to a safe integer). */
  readonly maxSize: number;
}

/** Fills slots and descriptor lists. One per data queue; not re-entrant. */
export class RequestBuilder {
  readonly #area: DmaArea;
  readonly #limits: BuildLimits;
  #guest: GuestIovaLookup;
  readonly #req = new DataRequest();
  readonly #src = new Span();
  readonly #dst = new Span();
  #list: DriverBufferList | null = null;
  #slot: Slot | null = null;
  /** Requests that used the bounce area (not zero-copy), for the engine's counters. */
  bounced = 0;

  /**
   * @param area The DMA area the slots are in.
   * @param limits Descriptor, bounce and size limits.
   * @param guest Where guest RAM is mapped.
   */
  constructor(area: DmaArea, limits: BuildLimits, guest: GuestIovaLookup) {
    this.#area = area;
    this.#limits = limits;
    this.#guest = guest;
  }

  /** A new translation table (the VM's memory table changed). */
  setGuest(guest: GuestIovaLookup): void {
    this.#guest = guest;
  }

  /**
   * Checks `op` and lays it out in `slot` and `list`.
   *
   * @param op The operation.
   * @param s Its device session.
   * @param slot A free slot.
   * @param list The descriptor list to fill.
   * @returns `Status.OK` when the list is ready to queue; another status (the answer, device untouched); or
   *   `ENGINE_FAILED` when the device cannot take the request as it is.
   */
  build(op: CryptoOp, s: AccelSession, slot: Slot, list: DriverBufferList): number {
    const status = this.#check(op, s);
    if (status !== Status.OK) return status;
    list.clear();
    slot.fixCount = 0;
    slot.bounceUsed = 0;
    this.#list = list;
    this.#slot = slot;
    try {
      const ok = this.#header(op, s) && this.#body(op, s);
      if (!ok) return ENGINE_FAILED;
      const at = this.#area.iova + slot.base + SLOT_STATUS;
      this.#area.bytes[slot.base + SLOT_STATUS] = 0xff; // no status has this value: the device must write it
      if (list.count === list.capacity) return ENGINE_FAILED;
      list.push(at, 1, true);
      if (slot.bounceUsed > 0) this.bounced++;
      return Status.OK;
    } finally {
      this.#list = null;
      this.#slot = null;
      this.#src.release();
      this.#dst.release();
    }
  }

  // The software engine's checks, so both engines answer a bad request alike.
  #check(op: CryptoOp, s: AccelSession): number {
    const src = op.src.total;
    switch (s.params.service) {
      case "cipher":
        if (op.dst.total < src || op.iv.total !== s.ivLen || src % s.unit !== 0 || src < s.minLen) {
          return Status.ERR;
        }
        return this.#overlaps(op, src) ? Status.ERR : this.#size(op);
      case "hash":
      case "mac":
        return op.digest.total < s.resultLen || op.iv.total > SLOT_IV_MAX ? Status.ERR : this.#size(op);
      case "aead":
        if (op.digest.total !== s.resultLen || op.dst.total < src) return Status.ERR;
        if (op.iv.total < s.nonceMin || op.iv.total > Math.min(s.nonceMax, SLOT_IV_MAX)) return Status.ERR;
        return this.#overlaps(op, src) ? Status.ERR : this.#size(op);
      case "chain": {
        const inside = op.cipherOffset + op.cipherLen <= src && op.hashOffset + op.hashLen <= src;
        if (!inside || op.dst.total < src || op.digest.total < s.resultLen || op.iv.total !== s.ivLen) {
          return Status.ERR;
        }
        return op.cipherLen % s.unit !== 0 || this.#overlaps(op, src) ? Status.ERR : this.#size(op);
      }
      default:
        return Status.NOTSUPP;
    }
  }

  #overlaps(op: CryptoOp, length: number): boolean {
    return overlapsPartially(this.#src.set(op.src, 0, length), this.#dst.set(op.dst, 0, length));
  }

  // `max_size` is "the maximum length of the variable-length parts" (§5.9.4); QEMU resets itself past it.
  #size(op: CryptoOp): number {
    const total = op.iv.total + op.src.total * 2 + op.aad.total + op.digest.total;
    return total > this.#limits.maxSize ? ENGINE_FAILED : Status.OK;
  }

  #header(op: CryptoOp, s: AccelSession): boolean {
    const r = this.#req;
    r.reset();
    r.opcode = s.opcode;
    r.algo = s.algo;
    r.sessionIdLo = s.idLo;
    r.sessionIdHi = s.idHi;
    r.opType = s.opType;
    const src = op.src.total;
    const tag = s.resultLen;
    switch (s.params.service) {
      case "cipher":
        r.ivLen = op.iv.total;
        r.srcDataLen = r.dstDataLen = src;
        break;
      case "hash":
      case "mac":
        r.srcDataLen = op.iv.total + src;
        r.hashResultLen = tag;
        break;
      case "aead": {
        const encrypt = s.params.direction === 1;
        r.ivLen = op.iv.total;
        r.aadLen = op.aad.total;
        r.tagLen = tag;
        r.srcDataLen = encrypt ? src : src + tag;
        r.dstDataLen = encrypt ? src + tag : src;
        break;
      }
      default:
        this.#chainHeader(r, op, tag);
    }
    const slot = this.#slot!;
    writeDataRequest(r, "legacy", slot.header);
    this.#push(this.#area.iova + slot.base, HEADER_LEN, false);
    if (op.iv.total === 0) return true;
    gather(op.iv, this.#area.bytes, slot.base + SLOT_IV);
    return this.#push(this.#area.iova + slot.base + SLOT_IV, op.iv.total, false);
  }

  #chainHeader(r: DataRequest, op: CryptoOp, resultLen: number): void {
    r.opType = SymOpType.ALGORITHM_CHAINING;
    r.ivLen = op.iv.total;
    r.srcDataLen = r.dstDataLen = op.src.total;
    r.cipherStartSrcOffset = op.cipherOffset;
    r.lenToCipher = op.cipherLen;
    r.hashStartSrcOffset = op.hashOffset;
    r.lenToHash = op.hashLen;
    r.aadLen = op.aad.total;
    r.hashResultLen = resultLen;
  }

  // No closures here: this runs per request and must not allocate.
  #body(op: CryptoOp, s: AccelSession): boolean {
    const src = op.src.total;
    const tag = s.resultLen;
    switch (s.params.service) {
      case "cipher":
        return this.#ranges(op.src, src, false, 0) && this.#ranges(op.dst, src, true, TO_DST);
      case "hash":
      case "mac":
        return this.#ranges(op.src, src, false, 0) && this.#ranges(op.digest, tag, true, TO_DIGEST);
      case "aead":
        if (s.params.direction === 1) {
          return this.#ranges(op.src, src, false, 0) && this.#ranges(op.aad, op.aad.total, false, 0) &&
            this.#ranges(op.dst, src, true, TO_DST) && this.#ranges(op.digest, tag, true, TO_DIGEST);
        }
        return this.#ranges(op.src, src, false, 0) && this.#ranges(op.digest, tag, false, 0) &&
          this.#ranges(op.aad, op.aad.total, false, 0) && this.#ranges(op.dst, src, true, TO_DST);
      default:
        return this.#ranges(op.src, src, false, 0) && this.#ranges(op.aad, op.aad.total, false, 0) &&
          this.#ranges(op.dst, src, true, TO_DST) && this.#ranges(op.digest, tag, true, TO_DIGEST);
    }
  }

  // The first `length` bytes of a list as descriptors: guest RAM in place, anything else through the bounce area.
  #ranges(l: SgList, length: number, writable: boolean, target: number): boolean {
    let left = length;
    for (let i = 0; i < l.count && left > 0; i++) {
      const n = Math.min(l.length[i]!, left);
      const gpa = l.gpa[i]!;
      const iova = gpa === gpa ? this.#guest.iova(gpa, n) : -1; // gpa === gpa: not NaN (host memory)
      const ok = iova >= 0 ? this.#push(iova, n, writable) : this.#bounce(l, i, n, writable, target);
      if (!ok) return false;
      left -= n;
    }
    return true;
  }

  #bounce(l: SgList, i: number, n: number, writable: boolean, target: number): boolean {
    const slot = this.#slot!;
    if (slot.bounceUsed + n > this.#limits.bounceBytes) return false;
    const at = slot.base + SLOT_BOUNCE + slot.bounceUsed;
    const memory = l.memory[i]!;
    const from = l.offset[i]!;
    if (writable) {
      const k = slot.fixCount++;
      slot.fixList[k] = target;
      slot.fixIndex[k] = i;
      slot.fixAt[k] = at;
      slot.fixLen[k] = n;
    } else {
      copyBytes(memory.bytes, from, this.#area.bytes, at, n);
    }
    slot.bounceUsed += n;
    return this.#push(this.#area.iova + at, n, writable);
  }

  #push(iova: number, len: number, writable: boolean): boolean {
    const list = this.#list!;
    if (list.count >= list.capacity - 1) return false; // keep one entry for the status byte
    list.push(iova, len, writable);
    return true;
  }
}

/**
 * After a successful completion: the bounced destination and digest bytes go where the operation wants them.
 *
 * @param area The DMA area.
 * @param slot The completed slot.
 * @param op Its operation.
 */
export function copyBack(area: DmaArea, slot: Slot, op: CryptoOp): void {
  for (let k = 0; k < slot.fixCount; k++) {
    const l = slot.fixList[k] === TO_DST ? op.dst : op.digest;
    const i = slot.fixIndex[k]!;
    copyBytes(area.bytes, slot.fixAt[k]!, l.memory[i]!.bytes, l.offset[i]!, slot.fixLen[k]!);
  }
}

/**
 * Zeroes the first `length` bytes of a list (an AEAD decryption whose tag did not match releases no plaintext,
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

// Copies a whole list into `dst` at `at` (the IV: a few bytes, usually one range).
function gather(l: SgList, dst: Uint8Array, at: number): void {
  let pos = at;
  for (let i = 0; i < l.count; i++) {
    copyBytes(l.memory[i]!.bytes, l.offset[i]!, dst, pos, l.length[i]!);
    pos += l.length[i]!;
  }
}

// A byte loop for small copies (no subarray object), `set` for large ones.
function copyBytes(src: Uint8Array, from: number, dst: Uint8Array, to: number, n: number): void {
  if (n <= 64) {
    for (let k = 0; k < n; k++) dst[to + k] = src[from + k]!;
  } else {
    dst.set(src.subarray(from, from + n), to);
  }
}
