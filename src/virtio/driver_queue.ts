/**
 * `DriverQueue`: one split virtqueue as the guest driver sees it (VIRTIO v1.2, 2.7.13, 2.7.14), for the test
 * front-end and the benchmark, which play the guest (vm-virtio's `MockSplitQueue`). It keeps a free list of
 * descriptors, writes direct or indirect chains, publishes `avail.idx`, decides kicks, and takes completions in
 * any order.
 *
 * Built for about a million requests a second: `addList()` with a reused `DriverBufferList` and `popUsed()` into a
 * reused `UsedBuffer` allocate nothing; `add()` and `pollUsed()` are the convenient, allocating forms.
 *
 * Memory order is the mirror of `SplitQueue`'s (`_index_order.ts`): ring entries and descriptors are plain stores,
 * `avail.idx` is a Release store (2.7.13.3.1) and `used.idx` an Acquire load, and two store-load orders need a
 * fence: before reading `flags`/`avail_event` after publishing (2.7.13.4.1: "a suitable memory barrier before
 * reading flags or avail_event"), and before believing an empty used ring after re-arming `used_event`.
 *
 * @module
 */

import type { GuestMemory } from "../memory/mod.ts";
import { driverIndexView, driverRingPart } from "./_driver_ring_parts.ts";
import { DriverBufferList, type DriverChain, UsedBuffer } from "./driver_buffers.ts";
import { DescriptorPool } from "./_descriptor_pool.ts";
import type { HeadOrder } from "./head_order.ts";
import { VirtqueueError } from "./errors.ts";
import { writeDesc } from "./_desc_write.ts";
import { readU32, writeU16 } from "./le.ts";
import { fenceAfterStore, loadIndex, loadIndexFenced, storeIndex } from "./_index_order.ts";
import {
  availEventOffset,
  availRingSize,
  descTableSize,
  isValidQueueSize,
  type RingAddresses,
  type RingPart,
  usedEventOffset,
  usedRingSize,
  VIRTQ_AVAIL_FLAGS,
  VIRTQ_AVAIL_IDX,
  VIRTQ_AVAIL_RING,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  VIRTQ_DESC_SIZE,
  VIRTQ_USED_ELEM_SIZE,
  VIRTQ_USED_FLAGS,
  VIRTQ_USED_IDX,
  VIRTQ_USED_RING,
  virtqNeedEvent,
  VRING_USED_F_NO_NOTIFY,
} from "./ring.ts";

/** Options of `DriverQueue.add()`. */
export interface DriverAddOptions {
  /** Put the buffers in an indirect table (VIRTIO v1.2, 2.7.5.3); needs `indirectArea`. */
  readonly indirect?: boolean;
}

/** Where the rings lie (see `splitRingLayout()`) and how the driver uses them. */
export interface DriverQueueOptions extends RingAddresses {
  /** Queue size (power of 2, 1..32768). */
  readonly size: number;
  /** GPA of `size` indirect tables, one per head (`indirectAreaSize(size, indirectEntries)` bytes). */
  readonly indirectArea?: number;
  /** Descriptors per indirect table; default 16. */
  readonly indirectEntries?: number;
  /** Use `used_event`/`avail_event` (VIRTIO_F_EVENT_IDX negotiated); default false. */
  readonly eventIdx?: boolean;
  /** Initial avail and used index, to test u16 wrap-around; default 0. */
  readonly startIndex?: number;
  /** How heads are handed out (`HeadOrder`); default `free-list`. */
  readonly headOrder?: HeadOrder;
}

/**
 * The guest side of one split virtqueue (VIRTIO v1.2, 2.7.13 and 2.7.14). The descriptor table, avail ring and
 * indirect tables are written only here; the used ring only by the device.
 *
 * @example A round trip
 * ```ts ignore
 * const q = new DriverQueue<string>(mem, { size: 256, ...splitRingLayout(0x10000, 256) });
 * q.add({ out: [{ gpa: 0x40000, len: 72 }], in: [{ gpa: 0x41000, len: 1 }] }, {}, "req-1");
 * q.publish();
 * if (q.needsKick()) kick();
 * // ... the device completes ...
 * const done = new UsedBuffer<string>();
 * while (q.popUsed(done)) console.log(done.token, done.len);
 * ```
 */
export class DriverQueue<T = unknown> {
  /** Queue size. */
  readonly size: number;
  /** Whether `used_event`/`avail_event` are used. */
  readonly eventIdx: boolean;
  /**
   * With event indices, whether `popUsed()` sets `used_event` to ask for a notification at the next element
   * (default true). A polling driver clears it: otherwise, between a pop and its own `setUsedEvent()`, the device
   * may read the re-armed index and rightly notify.
   */
  rearmOnPop = true;
  #desc: RingPart;
  #avail: RingPart;
  #used: RingPart;
  #indirect: RingPart | null = null;
  #indirectGpa = 0;
  #indirectEntries: number;
  #availIdx: Uint16Array;
  #usedEvent: Uint16Array;
  #usedIdx: Uint16Array;
  #usedFlags: Uint16Array;
  #availEvent: Uint16Array;
  #pool: DescriptorPool;
  #tokens: (T | undefined)[];
  #inflight = 0;
  #shadowAvail: number;
  #publishedAvail: number;
  #kickedAvail: number;
  #lastUsed: number;
  #scratch: DriverBufferList;

  /**
   * Takes over the rings: sets `flags` to 0 (2.7.10.1) and both `idx` fields, `used_event` and `avail_event` to
   * `startIndex`.
   *
   * @param mem Guest memory holding the rings and indirect area.
   * @param options Size, ring addresses and options.
   * @throws RangeError for an invalid size or a ring that is misaligned or not inside one region.
   */
  constructor(mem: GuestMemory, options: DriverQueueOptions) {
    const { size, startIndex = 0, indirectEntries = 16 } = options;
    if (!isValidQueueSize(size)) {
      throw new RangeError(
        `Cannot create driver queue: size must be a power of 2 in 1..32768: current value is ${size}`,
      );
    }
    this.size = size;
    this.eventIdx = options.eventIdx ?? false;
    this.#desc = driverRingPart(mem, "descriptor table", options.desc, descTableSize(size), 16);
    this.#avail = driverRingPart(mem, "available ring", options.avail, availRingSize(size), 2);
    this.#used = driverRingPart(mem, "used ring", options.used, usedRingSize(size), 4);
    this.#indirectEntries = indirectEntries;
    if (options.indirectArea !== undefined) {
      this.#indirect = driverRingPart(
        mem,
        "indirect area",
        options.indirectArea,
        size * indirectEntries * VIRTQ_DESC_SIZE,
        1,
      );
      this.#indirectGpa = options.indirectArea;
    }
    this.#availIdx = driverIndexView(this.#avail, VIRTQ_AVAIL_IDX);
    this.#usedEvent = driverIndexView(this.#avail, usedEventOffset(size));
    this.#usedIdx = driverIndexView(this.#used, VIRTQ_USED_IDX);
    this.#usedFlags = driverIndexView(this.#used, VIRTQ_USED_FLAGS);
    this.#availEvent = driverIndexView(this.#used, availEventOffset(size));
    this.#pool = new DescriptorPool(size, options.headOrder ?? "free-list");
    this.#tokens = new Array<T | undefined>(size).fill(undefined);
    this.#shadowAvail =
      this.#publishedAvail =
      this.#kickedAvail =
      this.#lastUsed =
        startIndex & 0xffff;
    this.#scratch = new DriverBufferList(Math.max(size, indirectEntries));
    this.#initRings();
  }

  /** Free descriptors. */
  get numFree(): number {
    return this.#pool.numFree;
  }
  /** Chains added and not yet returned by the device. */
  get inflight(): number {
    return this.#inflight;
  }
  /** The avail index the next `publish()` stores (`avail.idx` after it). */
  get availIdx(): number {
    return this.#shadowAvail;
  }
  /**
   * The used index of the next element `popUsed()` takes (Linux's `last_used_idx`). A polling driver sets
   * `used_event` just behind it (`setUsedEvent(lastUsed - 1)`) so that the device never needs to notify.
   */
  get lastUsed(): number {
    return this.#lastUsed;
  }

  /**
   * Adds a chain: `out` buffers (device-readable) then `in` buffers (device-writable). Allocates a little; use
   * `addList()` on hot paths.
   *
   * @param chain The buffers.
   * @param options `indirect: true` for one INDIRECT descriptor pointing at this head's table slot.
   * @param token Returned with the completion.
   * @returns The head index, or -1 when there are not enough free descriptors.
   * @throws RangeError for an empty chain, or one that cannot fit its table even when the queue is empty.
   */
  add(chain: DriverChain, options: DriverAddOptions, token: T): number {
    const list = this.#scratch;
    list.clear();
    for (const b of chain.out) list.push(b.gpa, b.len, false);
    for (const b of chain.in) list.push(b.gpa, b.len, true);
    return this.addList(list, options.indirect ?? false, token);
  }

  /**
   * Adds the buffers of `list`, in its order, as one chain (2.7.13.1) and puts its head in the avail ring (2.7.13.2).
   * The device sees it after `publish()`.
   *
   * @param list The buffers.
   * @param indirect true for an indirect chain (one descriptor in the table, the buffers in this head's slot).
   * @param token Returned with the completion.
   * @returns The head index, or -1 when there are not enough free descriptors (or this avail position's head is in flight).
   * @throws RangeError for an empty list, a list longer than the queue or the indirect slot, indirect without
   *   an indirect area, or a direct chain with `avail-order` heads.
   */
  addList(list: DriverBufferList, indirect: boolean, token: T): number {
    const n = list.count;
    const limit = indirect ? this.#indirectEntries : this.size;
    if (n === 0 || n > limit || (indirect && this.#indirect === null)) {
      const why = indirect && this.#indirect === null
        ? "no indirect area was given"
        : `it has ${n} buffers, limit ${limit}`;
      throw new RangeError(`Cannot add chain: ${why}`);
    }
    const needed = indirect ? 1 : n;
    const head = this.#pool.take(needed, this.#shadowAvail);
    if (head < 0) return -1;
    if (indirect) this.#writeIndirect(head, list);
    else this.#writeDirect(head, list);
    this.#tokens[head] = token;
    this.#inflight++;
    const slot = VIRTQ_AVAIL_RING + 2 * (this.#shadowAvail & (this.size - 1));
    writeU16(this.#avail.bytes, this.#avail.base + slot, head);
    this.#shadowAvail = (this.#shadowAvail + 1) & 0xffff;
    return head;
  }

  /** Makes the chains added so far visible: one Release store of `avail.idx` (2.7.13.3). */
  publish(): void {
    storeIndex(this.#availIdx, this.#shadowAvail);
    this.#publishedAvail = this.#shadowAvail;
  }

  /**
   * Whether the device needs an available buffer notification for what was published since the last call
   * (2.7.10.1): with event indices, `virtq_need_event(avail_event, new, old)`; without, unless the device set
   * VRING_USED_F_NO_NOTIFY. Side effect: the published index becomes the base of the next decision.
   *
   * @returns true when the caller should kick.
   */
  needsKick(): boolean {
    const next = this.#publishedAvail;
    const old = this.#kickedAvail;
    this.#kickedAvail = next;
    if (next === old) return false;
    fenceAfterStore(this.#availIdx, next); // the barrier 2.7.13.4.1 requires
    if (this.eventIdx) return virtqNeedEvent(Atomics.load(this.#availEvent, 0), next, old);
    return (Atomics.load(this.#usedFlags, 0) & VRING_USED_F_NO_NOTIFY) === 0;
  }

  /**
   * Takes the next used element, in the device's order (completions may come out of order), and frees its
   * descriptors. With event indices, it then sets `used_event` to ask for a notification at the next element.
   *
   * @param out Filled with head, len and token.
   * @returns false when the used ring has nothing new.
   * @throws VirtqueueError `invalid-used-index` when `used.idx` ran more than `size` ahead, `invalid-used-id` when
   *   the device returned a head that is not in flight.
   */
  popUsed(out: UsedBuffer<T>): boolean {
    if (!this.#readUsed(out)) return false;
    const id = out.head;
    if (id >= this.size || this.#pool.inUse[id] === 0) {
      throw new VirtqueueError("invalid-used-id", `Cannot pop used element: head ${id} is not in flight`);
    }
    out.token = this.#tokens[id];
    this.#tokens[id] = undefined;
    this.#inflight--;
    this.#pool.release(id);
    this.#nextUsed();
    return true;
  }

  /** Whether the device has published used elements `popUsed()` has not taken yet. */
  get hasUsed(): boolean {
    return Atomics.load(this.#usedIdx, 0) !== this.#lastUsed;
  }

  /**
   * Steps over the next used element without completing anything, after `popUsed()` refused it
   * (`invalid-used-id`), so a driver that reports a device's mistakes can go on. `out` gets its head and len.
   *
   * @returns false when the used ring has nothing new.
   * @throws VirtqueueError `invalid-used-index`, as `popUsed()`.
   */
  discardUsed(out: UsedBuffer<T>): boolean {
    if (!this.#readUsed(out)) return false;
    out.token = undefined;
    this.#nextUsed();
    return true;
  }

  #readUsed(out: UsedBuffer<T>): boolean {
    const usedIdx = this.#loadUsedIdx();
    if (usedIdx === this.#lastUsed) return false;
    if (((usedIdx - this.#lastUsed) & 0xffff) > this.size) {
      const ahead = `${this.size} ahead of ${this.#lastUsed}`;
      throw new VirtqueueError(
        "invalid-used-index",
        `Cannot pop used element: used idx must be at most ${ahead}: current value is ${usedIdx}`,
      );
    }
    const off = this.#used.base + VIRTQ_USED_RING + VIRTQ_USED_ELEM_SIZE * (this.#lastUsed & (this.size - 1));
    out.head = readU32(this.#used.bytes, off);
    out.len = readU32(this.#used.bytes, off + 4);
    return true;
  }

  #nextUsed(): void {
    this.#lastUsed = (this.#lastUsed + 1) & 0xffff;
    if (this.eventIdx && this.rearmOnPop) storeIndex(this.#usedEvent, this.#lastUsed);
  }

  // Re-arming on pop, an empty ring is believed only after the fence that follows the used_event store (#nextUsed):
  // a device that read the old used_event and skipped its signal stored used.idx before that read.
  #loadUsedIdx(): number {
    if (!this.eventIdx || !this.rearmOnPop) return loadIndex(this.#usedIdx);
    return loadIndexFenced(this.#usedIdx, this.#lastUsed, this.#usedEvent, this.#lastUsed);
  }

  /**
   * `popUsed()` that allocates its result.
   *
   * @returns The next completion, or null.
   */
  pollUsed(): { head: number; len: number; token: T | undefined } | null {
    const out = new UsedBuffer<T>();
    return this.popUsed(out) ? { head: out.head, len: out.len, token: out.token } : null;
  }

  /**
   * Sets `used_event`: no notification is needed until the used element at this index is written (2.7.7.1).
   *
   * @param usedEvent A u16 used index.
   */
  setUsedEvent(usedEvent: number): void {
    Atomics.store(this.#usedEvent, 0, usedEvent & 0xffff);
  }

  /**
   * Sets or clears VRING_AVAIL_F_NO_INTERRUPT in the avail ring's `flags` (2.7.7.1, without event indices).
   *
   * @param noInterrupt true to ask the device not to notify.
   */
  setNoInterrupt(noInterrupt: boolean): void {
    writeU16(this.#avail.bytes, this.#avail.base + VIRTQ_AVAIL_FLAGS, noInterrupt ? 1 : 0);
  }

  #initRings(): void {
    const start = this.#shadowAvail;
    writeU16(this.#avail.bytes, this.#avail.base + VIRTQ_AVAIL_FLAGS, 0);
    Atomics.store(this.#availIdx, 0, start);
    Atomics.store(this.#usedEvent, 0, start);
    writeU16(this.#used.bytes, this.#used.base + VIRTQ_USED_FLAGS, 0);
    Atomics.store(this.#usedIdx, 0, start);
    Atomics.store(this.#availEvent, 0, start);
  }

  #writeDirect(head: number, list: DriverBufferList): void {
    const n = list.count;
    let d = head;
    for (let i = 0; i < n; i++) {
      const next = this.#pool.next[d]!;
      const more = i < n - 1;
      const flags = (list.writable[i] ? VIRTQ_DESC_F_WRITE : 0) | (more ? VIRTQ_DESC_F_NEXT : 0);
      writeDesc(this.#desc, d, list.gpa[i]!, list.len[i]!, flags, more ? next : 0);
      d = next;
    }
  }

  #writeIndirect(head: number, list: DriverBufferList): void {
    const table = this.#indirect!;
    const slot = head * this.#indirectEntries;
    const n = list.count;
    for (let i = 0; i < n; i++) {
      const more = i < n - 1;
      const flags = (list.writable[i] ? VIRTQ_DESC_F_WRITE : 0) | (more ? VIRTQ_DESC_F_NEXT : 0);
      writeDesc(table, slot + i, list.gpa[i]!, list.len[i]!, flags, more ? i + 1 : 0);
    }
    const tableGpa = this.#indirectGpa + slot * VIRTQ_DESC_SIZE;
    writeDesc(this.#desc, head, tableGpa, n * VIRTQ_DESC_SIZE, VIRTQ_DESC_F_INDIRECT, 0);
  }
}
