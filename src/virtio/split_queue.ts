/**
 * `SplitQueue`: one split virtqueue as the device sees it (VIRTIO v1.2, 2.7), in the vm-virtio shape: the queue
 * never owns guest memory, every method that touches the rings takes it as an argument (style.md rule 1), and
 * notification is left to the caller.
 *
 * Memory order (style.md rule 11). `avail.idx`, `used.idx`, `used_event` and `avail_event` are accessed on
 * 1-element `Uint16Array` views; every other ring field with plain (le.ts) accesses, which V8 keeps in program
 * order and does not move across an `Atomics` operation. vm-virtio needs an Acquire load of `avail.idx`, a Release
 * store of `used.idx`, and two store-load fences: before reading `used_event` (after the `used.idx` store), and
 * before trusting an empty avail ring (after the `avail_event` store), or a driver that read the old value skips
 * its notification while the device goes to sleep. How each is done per architecture is in `_index_order.ts`:
 * on x86-64 the accesses are plain and only the two fences are real (a seq-cst `Atomics.store`, once per
 * notification decision and once per empty pop); the per-request `Atomics` this replaced cost 9% of `serve --poll`
 * at 64 B (a fence per store drains the store buffer). Whether V8 emits real atomic instructions on a non-shared,
 * externally backed ArrayBuffer elsewhere is unverified (style.md 4).
 *
 * Host byte order: the index views are in host order and virtio 1.x is little-endian; the constructor checks the
 * host (Deno runs on x86-64 and aarch64, both little-endian).
 *
 * @module
 */

import type { GuestMemory } from "../memory/mod.ts";
import { buildRingViews, type RingViews } from "./_ring_views.ts";
import { type DescriptorChain, readDescriptorChain } from "./descriptor_chain.ts";
import { VirtqueueError, type VirtqueueErrorKind } from "./errors.ts";
import { readU16, writeU32 } from "./le.ts";
import { checkRingAddress, checkU16 } from "./_queue_checks.ts";
import { loadIndexFenced, storeIndex } from "./_index_order.ts";
import { UsedSignal } from "./_used_signal.ts";
import {
  AVAIL_RING_ALIGN,
  DESC_TABLE_ALIGN,
  isValidQueueSize,
  MAX_QUEUE_SIZE,
  type RingAddresses,
  USED_RING_ALIGN,
  VIRTQ_AVAIL_RING,
  VIRTQ_USED_ELEM_ID,
  VIRTQ_USED_ELEM_LEN,
  VIRTQ_USED_ELEM_SIZE,
  VIRTQ_USED_RING,
} from "./ring.ts";

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * One split virtqueue, device side (VIRTIO v1.2, 2.7). Set up with `setSize()`, `setAddresses()`,
 * `setNextAvail()`/`setNextUsed()` and `setReady(true)`; then per batch: `popChain()` until it returns false,
 * `addUsed()` per completion (any order), `publishUsed()` once, and `needsNotification()` once.
 *
 * A ring error (`invalid-avail-index`, `invalid-head-index`, `invalid-ring-address`) is thrown once and marks the
 * queue broken: `popChain()` then returns false until `reset()` (style.md rule 5). A malformed chain is not a ring
 * error: it is returned with `chain.error` set.
 *
 * @example A batch
 * ```ts ignore
 * const chain = new DescriptorChain(queue.maxSize);
 * while (queue.popChain(mem, chain)) {
 *   const written = chain.error === null ? serve(chain) : 0;
 *   queue.addUsed(mem, chain.head, written);
 * }
 * queue.publishUsed(mem);
 * if (queue.needsNotification(mem)) signalUsed();
 * ```
 */
export class SplitQueue {
  /** Largest size the device supports (the `capacity` its chains need). */
  readonly maxSize: number;
  /**
   * Whether VIRTIO_F_EVENT_IDX was negotiated, as far as the owner knows. QEMU's crypto path never tells the
   * back-end (interop.md 1.9), so it stays false there; `avail_event` is written either way.
   */
  eventIdx = false;
  #size: number;
  #addresses: RingAddresses | null = null;
  #nextAvail = 0;
  #availPending = 0;
  #nextUsed = 0;
  #publishedUsed = 0;
  readonly #signal = new UsedSignal();
  #inflight = 0;
  #ready = false;
  #error: VirtqueueError | null = null;
  #availEventStale = true;
  #views: RingViews | null = null;

  /**
   * @param maxSize Largest queue size the device offers (power of 2, 1..32768); also the initial size.
   * @throws RangeError for an invalid size, or on a big-endian host.
   */
  constructor(maxSize: number = MAX_QUEUE_SIZE) {
    if (!isValidQueueSize(maxSize)) {
      throw new RangeError(
        `Cannot create queue: size must be a power of 2 in 1..32768: current value is ${maxSize}`,
      );
    }
    if (!HOST_LITTLE_ENDIAN) throw new RangeError("Cannot create queue: the host must be little-endian");
    this.maxSize = maxSize;
    this.#size = maxSize;
  }

  /** Queue size (VHOST_USER_SET_VRING_NUM). */
  get size(): number {
    return this.#size;
  }
  /** The ring addresses, or `null` before `setAddresses()`. */
  get addresses(): RingAddresses | null {
    return this.#addresses;
  }
  /** `next_avail`: the avail ring index of the next chain to pop (VHOST_USER_GET_VRING_BASE reads it). */
  get nextAvail(): number {
    return this.#nextAvail;
  }
  /** `next_used`: the used ring index of the next element `addUsed()` writes. */
  get nextUsed(): number {
    return this.#nextUsed;
  }
  /**
   * Chains the driver had made available beyond the last one popped, as the last read of `avail.idx` saw them (a
   * lower bound: `popChain` reads the index again only once these are popped).
   */
  get availPending(): number {
    return this.#availPending;
  }
  /**
   * Chains made available beyond the last one popped, from `avail.idx` read now (a plain load: a hint for when to
   * signal, where `availPending` may be older). 0 when the index is more than `size` ahead.
   *
   * @param mem Guest memory.
   */
  availAhead(mem: GuestMemory): number {
    const v = this.#mapped(mem); // views already built for this memory table only: a hint builds nothing
    if (!this.#ready || this.#error !== null || v === null) return this.#availPending;
    const ahead = (v.availIdx[0]! - this.#nextAvail) & 0xffff;
    return ahead <= this.#size ? ahead : 0;
  }

  /** Chains popped and not yet added to the used ring. */
  get inflight(): number {
    return this.#inflight;
  }
  /** Whether `popChain()` may consume the avail ring. */
  get ready(): boolean {
    return this.#ready;
  }
  /** Whether a ring error stopped the queue. */
  get broken(): boolean {
    return this.#error !== null;
  }
  /** The ring error that stopped the queue, or `null`. */
  get error(): VirtqueueError | null {
    return this.#error;
  }
  /**
   * Whether every popped chain is used and published. VHOST_USER_GET_VRING_BASE ("stop ring") is answered with
   * `nextAvail` once the owner has called `setReady(false)` and this is true.
   */
  get drained(): boolean {
    return this.#inflight === 0 && this.#publishedUsed === this.#nextUsed;
  }

  /**
   * Sets the queue size (VHOST_USER_SET_VRING_NUM; VIRTIO v1.2, 2.7: a power of 2, at most 32768).
   *
   * @throws VirtqueueError `invalid-queue-size` when not a power of 2 in 1..maxSize.
   */
  setSize(size: number): void {
    if (!isValidQueueSize(size) || size > this.maxSize) {
      throw new VirtqueueError(
        "invalid-queue-size",
        `Cannot set queue size: size must be a power of 2 in 1..${this.maxSize}: current value is ${size}`,
      );
    }
    this.#size = size;
    this.#availPending = 0;
    this.#views = null;
  }

  /**
   * Sets the ring addresses (VHOST_USER_SET_VRING_ADDR, already translated to GPAs). Alignment is checked here
   * (VIRTIO v1.2, 2.7.1); whether the rings are guest memory is checked against each memory table at first use.
   *
   * @throws VirtqueueError `invalid-ring-address` for a misaligned or negative address.
   */
  setAddresses(addresses: RingAddresses): void {
    const { desc, avail, used } = addresses;
    checkRingAddress("descriptor table", desc, DESC_TABLE_ALIGN);
    checkRingAddress("available ring", avail, AVAIL_RING_ALIGN);
    checkRingAddress("used ring", used, USED_RING_ALIGN);
    this.#addresses = { desc, avail, used };
    this.#availPending = 0;
    this.#views = null;
  }

  /**
   * Sets `next_avail` (VHOST_USER_SET_VRING_BASE). vhost-user back-ends set `next_used` to the same value.
   *
   * @throws RangeError when not a u16.
   */
  setNextAvail(nextAvail: number): void {
    this.#nextAvail = checkU16("next_avail", nextAvail);
    this.#availPending = 0;
    this.#availEventStale = true;
  }

  /**
   * Sets `next_used`; also the base of the notification decision.
   *
   * @throws RangeError when not a u16.
   */
  setNextUsed(nextUsed: number): void {
    this.#nextUsed = checkU16("next_used", nextUsed);
    this.#publishedUsed = nextUsed;
    this.#signal.reset(nextUsed);
  }

  /**
   * Starts or stops the ring. Stopping only stops `popChain()`; chains in flight may still be completed.
   *
   * @throws VirtqueueError `invalid-ring-address` when starting before `setAddresses()`.
   */
  setReady(ready: boolean): void {
    if (ready && this.#addresses === null) {
      throw new VirtqueueError("invalid-ring-address", "Cannot start queue: ring addresses are not set");
    }
    this.#ready = ready;
    this.#availPending = 0; // read afresh after a restart
    this.#availEventStale = true;
  }

  /** Back to the state after construction: not ready, not broken, size = maxSize, indices 0, no addresses. */
  reset(): void {
    this.eventIdx = false;
    this.#size = this.maxSize;
    this.#addresses = null;
    this.#nextAvail = 0;
    this.#availPending = 0;
    this.setNextUsed(0);
    this.#inflight = 0;
    this.#ready = false;
    this.#error = null;
    this.#availEventStale = true;
    this.#views = null;
  }

  /**
   * Pops the next available chain into the preallocated `chain` (VIRTIO v1.2, 2.7.6, 2.7.5). Side effects: on
   * true, `nextAvail` and `inflight` advance. `avail_event` is set to `nextAvail` when the ring is found empty,
   * before that is believed (always, whether or not EVENT_IDX was negotiated: interop.md 1.9), and not per pop:
   * while the device is busy it stays behind, so a driver with EVENT_IDX does not kick for chains the device
   * would find anyway (vhost keeps notifications off while it works, likewise). At 64 B in poll mode the store per
   * pop, to a line the driver reads for every kick decision, cost 7% (`serve --poll`, bench_ab.ts medians).
   *
   * @param mem Guest memory.
   * @param chain Filled with a validated copy; `chain.error` is set when the chain is malformed.
   * @returns false when the avail ring is empty, or the queue is not ready or broken.
   * @throws VirtqueueError (ring error; the queue is then broken) when `avail.idx` is more than `size` ahead, a
   *   head index is out of the table, or a ring is not guest memory.
   */
  popChain(mem: GuestMemory, chain: DescriptorChain): boolean {
    if (!this.#ready || this.#error !== null) return false;
    if (chain.capacity < this.#size) {
      throw new RangeError(
        `Cannot pop chain: chain capacity must be >= ${this.#size}: current value is ${chain.capacity}`,
      );
    }
    const v = this.#ring(mem);
    const pending = this.#availPending > 0 ? this.#availPending : this.#readPending(v);
    if (pending === 0) return false;
    // UNSAFE: the avail ring is live guest memory; the head is read once, then checked and used as a copy.
    const slot = this.#nextAvail & (this.#size - 1);
    const head = readU16(v.avail.bytes, v.avail.base + VIRTQ_AVAIL_RING + 2 * slot);
    if (head >= this.#size) {
      this.#break("invalid-head-index", `head index must be < ${this.#size}: current value is ${head}`);
    }
    this.#nextAvail = (this.#nextAvail + 1) & 0xffff;
    this.#availPending = pending - 1;
    this.#inflight++;
    chain.head = head;
    readDescriptorChain(mem, v.table, chain);
    return true;
  }

  /**
   * Writes the used element `{ id: head, len }` at `nextUsed` and advances `nextUsed` locally; the driver sees it
   * only after `publishUsed()` (VIRTIO v1.2, 2.7.8). Completions may come in any order (style.md rule 13).
   *
   * @param mem Guest memory.
   * @param head The chain's head index (`chain.head`).
   * @param len Bytes written to the chain's writable part (2.7.8.2: `len` may underestimate, never overstate).
   * @throws RangeError when nothing is in flight, or `head`/`len` are out of range (device bugs, not guest input).
   */
  addUsed(mem: GuestMemory, head: number, len: number): void {
    if (this.#inflight === 0) throw new RangeError("Cannot add used element: no chain is in flight");
    if (!(head >= 0 && head < this.#size && Number.isInteger(head))) {
      throw new RangeError(`Cannot add used element: head must be < ${this.#size}: current value is ${head}`);
    }
    if (!(len >= 0 && len <= 0xffff_ffff && Number.isInteger(len))) {
      throw new RangeError(`Cannot add used element: len must be a u32: current value is ${len}`);
    }
    const v = this.#ring(mem);
    const off = v.used.base + VIRTQ_USED_RING + VIRTQ_USED_ELEM_SIZE * (this.#nextUsed & (this.#size - 1));
    // Plain stores, ordered before the seq-cst `used.idx` store in publishUsed() (2.7.8.2: "The device MUST set
    // len prior to updating the used idx").
    writeU32(v.used.bytes, off + VIRTQ_USED_ELEM_ID, head);
    writeU32(v.used.bytes, off + VIRTQ_USED_ELEM_LEN, len);
    this.#nextUsed = (this.#nextUsed + 1) & 0xffff;
    this.#inflight--;
  }

  /**
   * Publishes the used elements added since the last call: one store of `used.idx` (a Release: the elements are
   * visible first).
   *
   * @param mem Guest memory.
   */
  publishUsed(mem: GuestMemory): void {
    if (this.#publishedUsed === this.#nextUsed) return;
    storeIndex(this.#ring(mem).usedIdx, this.#nextUsed);
    this.#publishedUsed = this.#nextUsed;
  }

  /**
   * Whether the driver needs a used buffer notification for what was published since the last call (VIRTIO v1.2,
   * 2.7.7.2; the rule is in `_used_signal.ts`). Side effect: the published index becomes the base of the next
   * decision, so call it once per batch, after `publishUsed()`.
   *
   * @param mem Guest memory.
   * @returns true when the owner should signal the call eventfd.
   */
  needsNotification(mem: GuestMemory): boolean {
    const next = this.#publishedUsed;
    // The views exist when anything was published (publishUsed built them); used_event is read only then.
    return this.#signal.needed(next, this.eventIdx && this.#signal.changed(next) ? this.#ring(mem) : null);
  }

  /**
   * With EVENT_IDX, the used elements added (published or not) at or past `used_event`: completions a waiting
   * driver asked to hear of and has not (2.7.7.2). 0 without EVENT_IDX, or while `used_event` is ahead. A plain
   * load, to choose when to notify; `needsNotification()` makes the decision that counts.
   */
  awaitedUsed(mem: GuestMemory): number {
    if (!this.eventIdx) return 0;
    const awaited = (this.#nextUsed - this.#ring(mem).usedEvent[0]!) & 0xffff;
    return awaited <= this.#size ? awaited : 0;
  }

  // `avail.idx` is read only when the chains seen at the last read are all popped (Linux vhost's cached
  // `avail_idx`): the driver stores it after every few chains it adds, and each read of a line the driver has
  // just written is a miss served from the driver's CPU, which then misses in turn on its next store.
  #readPending(v: RingViews): number {
    if (this.#availEventStale) this.#writeAvailEvent(v);
    // An Acquire: the ring entries and descriptors read after it are at least as new as this idx, since the
    // driver makes them visible before it stores idx (2.7.13.3.1).
    const availIdx = this.#loadAvailIdx(v);
    const pending = (availIdx - this.#nextAvail) & 0xffff;
    // More than `size` entries cannot be pending; believing it would make the device walk stale entries and spin
    // (vm-virtio: "can prevent potential hanging and Denial-of-Service").
    if (pending > this.#size) {
      const ahead = `${this.#size} ahead of next_avail ${this.#nextAvail}`;
      this.#break("invalid-avail-index", `avail idx must be at most ${ahead}: current value is ${availIdx}`);
    }
    return pending;
  }

  #writeAvailEvent(v: RingViews): void {
    storeIndex(v.availEvent, this.#nextAvail);
    this.#availEventStale = false;
  }

  // An empty ring is believed only after avail_event = nextAvail is stored and fenced: a driver that read the old
  // avail_event and skipped its kick stored its idx before that read, so the second load sees it.
  #loadAvailIdx(v: RingViews): number {
    return loadIndexFenced(v.availIdx, this.#nextAvail, v.availEvent, this.#nextAvail);
  }

  #mapped(mem: GuestMemory): RingViews | null {
    const v = this.#views;
    return v !== null && v.mem === mem && v.generation === mem.generation ? v : null;
  }

  #ring(mem: GuestMemory): RingViews {
    const v = this.#mapped(mem);
    if (v !== null) return v;
    try {
      this.#views = buildRingViews(mem, this.#addresses, this.#size);
    } catch (e) {
      if (e instanceof VirtqueueError) this.#error = e; // a ring outside guest memory stops the queue
      throw e;
    }
    this.#availEventStale = true;
    return this.#views;
  }

  #break(kind: VirtqueueErrorKind, reason: string): never {
    this.#error = new VirtqueueError(kind, `Cannot pop chain: ${reason}`);
    throw this.#error;
  }
}
