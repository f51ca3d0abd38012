/**
 * `DataPath`: one of the accelerator's data queues with its request slots, in one bridge-owned DMA area, driven by
 * the thread of the VM it belongs to (the main thread sets it up: `setUpDataQueue`):
 *
 * ```
 * | desc | avail | used | indirect tables (one per ring head) | slot 0 | slot 1 | ... |
 * ```
 *
 * Each request takes a slot (header, IV, status, bounce area; see `request_builder.ts`) and, when the device
 * offers indirect descriptors, one ring descriptor pointing at the indirect table of its head. Requests beyond
 * the slots wait in a backlog, in order, and go to the device as slots free up. Completions come back in any
 * order (style.md rule 13); the used ring's token is the slot number.
 *
 * Kicks are batched: requests submitted together (one `DataQueue.serve()` of the bridge's device) are published
 * with one `avail.idx` store and one notification by `flush()`, which the engine runs in a microtask; in a VM the
 * notification is a register write that traps, so it is worth saving.
 *
 * @module
 */

import { type CryptoOp, ENGINE_FAILED, PENDING } from "../../engine/mod.ts";
import { Status } from "../../spec/virtio_crypto.ts";
import { RegionGuestMemory } from "../../memory/mod.ts";
import {
  DriverBufferList,
  DriverQueue,
  indirectAreaSize,
  splitRingLayout,
  UsedBuffer,
} from "../../virtio/mod.ts";
import type { GuestIovaLookup } from "./guest_dma.ts";
import type { DmaArea, VirtioTransportPort } from "./port.ts";
import { copyBack, RequestBuilder, Slot, SLOT_BOUNCE, SLOT_STATUS, zeroList } from "./request_builder.ts";
import type { AccelSession } from "./session.ts";

/** Shape of a data path. */
export interface DataPathOptions {
  /** Queue index (0: the first data queue). */
  readonly index: number;
  /** Queue size (a power of 2, at most what the device offers). */
  readonly size: number;
  /** MSI-X vector for its completions, or `VIRTIO_MSI_NO_VECTOR` (poll mode). */
  readonly vector: number;
  /** Use indirect descriptor tables (the device offered VIRTIO_F_INDIRECT_DESC). */
  readonly indirect: boolean;
  /** Requests on the device at once. */
  readonly slots: number;
  /** Bounce bytes per slot. */
  readonly bounceBytes: number;
  /** Most descriptors per request. */
  readonly maxSegments: number;
  /** The device's `max_size`. */
  readonly maxSize: number;
}

/** Called for every finished request: the status to give the operation (`ENGINE_FAILED` when the device failed it). */
export type Finish = (op: CryptoOp, session: AccelSession, status: number) => void;

/** Most operations waiting for a slot; beyond this, requests go to software (`ENGINE_FAILED`). */
const BACKLOG = 4096;

/**
 * The bytes a data path needs.
 *
 * @param options The shape.
 * @returns Area size (page multiple).
 */
export function dataAreaSize(options: DataPathOptions): number {
  const rings = splitRingLayout(0, options.size).end;
  const tables = options.indirect ? indirectAreaSize(options.size, options.maxSegments) : 0;
  const slots = options.slots * slotStride(options.bounceBytes);
  return Math.ceil((align(rings, 64) + tables + 64 + slots) / 4096) * 4096;
}

/**
 * Lays a data queue out in its DMA area and sets it up on the device: the main thread's part, between FEATURES_OK
 * and DRIVER_OK (or at a restart), before any thread drives it with a `DataPath`.
 *
 * @param transport The device.
 * @param area The queue's DMA area (zeroed here: empty rings).
 * @param options The shape.
 */
export function setUpDataQueue(
  transport: VirtioTransportPort,
  area: DmaArea,
  options: DataPathOptions,
): void {
  area.bytes.fill(0);
  const layout = splitRingLayout(area.iova, options.size);
  transport.setupQueue(options.index, { size: options.size, ...layout, vector: options.vector });
}

function slotStride(bounceBytes: number): number {
  return align(SLOT_BOUNCE + bounceBytes, 64);
}

function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** The data queue of one started device. */
export class DataPath {
  readonly #notify: () => void;
  readonly #area: DmaArea;
  readonly #indirect: boolean;
  readonly #queue: DriverQueue<number>;
  readonly #builder: RequestBuilder;
  readonly #slots: Slot[];
  readonly #free: number[];
  readonly #list: DriverBufferList;
  readonly #used = new UsedBuffer<number>();
  readonly #backlog: (CryptoOp | undefined)[] = new Array(BACKLOG).fill(undefined);
  readonly #backlogSessions: (AccelSession | undefined)[] = new Array(BACKLOG).fill(undefined);
  #backlogHead = 0;
  #backlogCount = 0;
  #unpublished = false;

  /**
   * Drives a queue the device has set up in `area` (`setUpDataQueue`), from whichever thread this runs on.
   *
   * @param notify Rings the queue's doorbell.
   * @param area The queue's DMA area, of `dataAreaSize(options)` bytes.
   * @param options The shape.
   * @param guest The VM's GPA → IOVA table.
   */
  constructor(notify: () => void, area: DmaArea, options: DataPathOptions, guest: GuestIovaLookup) {
    this.#notify = notify;
    this.#area = area;
    this.#indirect = options.indirect;
    const layout = splitRingLayout(area.iova, options.size);
    const tablesAt = align(layout.end, 64);
    const slotsAt = tablesAt + (options.indirect ? indirectAreaSize(options.size, options.maxSegments) : 0) +
      64;
    const mem = new RegionGuestMemory([
      { gpa: area.iova, size: area.size, frontendVa: 0, bytes: area.bytes, address: area.address },
    ]);
    this.#queue = new DriverQueue<number>(mem, {
      size: options.size,
      ...layout,
      ...(options.indirect ? { indirectArea: tablesAt, indirectEntries: options.maxSegments } : {}),
    });
    const stride = slotStride(options.bounceBytes);
    const base = slotsAt - area.iova;
    this.#slots = Array.from(
      { length: options.slots },
      (_, i) => new Slot(i, area, base + i * stride, options.maxSegments),
    );
    this.#free = this.#slots.map((s) => s.index).reverse();
    this.#list = new DriverBufferList(options.maxSegments);
    this.#builder = new RequestBuilder(area, options, guest);
  }

  /** A new GPA → IOVA table (the VM's memory table changed, with nothing in flight). */
  setGuest(guest: GuestIovaLookup): void {
    this.#builder.setGuest(guest);
  }

  /** Requests on the device or waiting for a slot. */
  get inflight(): number {
    return this.#slots.length - this.#free.length + this.#backlogCount;
  }

  /** Requests that went through bounce buffers instead of straight to guest RAM. */
  get bounced(): number {
    return this.#builder.bounced;
  }

  /** Whether requests were queued but not yet published (`flush()` is due). */
  get unpublished(): boolean {
    return this.#unpublished;
  }

  /**
   * Takes a request: checks it, lays it out in a slot and queues it (visible to the device at `flush()`), or
   * puts it in the backlog when every slot is busy.
   *
   * @param op The operation.
   * @param session Its device session.
   * @returns `PENDING`, or the status to answer at once (a refused request, or `ENGINE_FAILED`).
   */
  submit(op: CryptoOp, session: AccelSession): number {
    if (this.#free.length === 0 || this.#backlogCount > 0) return this.#defer(op, session);
    const slot = this.#slots[this.#free.pop()!]!;
    const status = this.#start(slot, op, session);
    if (status === PENDING) return PENDING;
    this.#free.push(slot.index);
    return status === -3 ? this.#defer(op, session) : status;
  }

  // Builds and queues; -3 when the ring itself is full (direct descriptors): wait for completions.
  #start(slot: Slot, op: CryptoOp, session: AccelSession): number {
    const status = this.#builder.build(op, session, slot, this.#list);
    if (status !== Status.OK) return status;
    if (this.#queue.addList(this.#list, this.#indirect, slot.index) < 0) return -3;
    slot.op = op;
    slot.session = session;
    slot.submittedAt = performance.now();
    this.#unpublished = true;
    return PENDING;
  }

  #defer(op: CryptoOp, session: AccelSession): number {
    if (this.#backlogCount === BACKLOG) return ENGINE_FAILED;
    const i = (this.#backlogHead + this.#backlogCount) % BACKLOG;
    this.#backlog[i] = op;
    this.#backlogSessions[i] = session;
    this.#backlogCount++;
    return PENDING;
  }

  /** Publishes what was queued and notifies the device if it wants it. */
  flush(): void {
    if (!this.#unpublished) return;
    this.#unpublished = false;
    this.#queue.publish();
    if (this.#queue.needsKick()) this.#notify();
  }

  /**
   * Takes every completion off the used ring, then starts backlogged requests in the freed slots.
   *
   * @param finish Called per finished request (also for backlogged ones refused at start).
   * @returns Completions taken.
   * @throws VirtqueueError when the device returned a head that is not in flight (a broken device).
   */
  reap(finish: Finish): number {
    let n = 0;
    while (this.#queue.popUsed(this.#used)) {
      const slot = this.#slots[this.#used.token!]!;
      const op = slot.op!;
      const session = slot.session!;
      const status = this.#outcome(slot, op, session);
      this.#release(slot);
      finish(op, session, status);
      n++;
    }
    if (n > 0) this.#startBacklog(finish);
    return n;
  }

  // The device's status, as the engine answers it: results only for OK; BADMSG is an answer; anything else is
  // a device that could not do what it accepted, so software decides.
  #outcome(slot: Slot, op: CryptoOp, session: AccelSession): number {
    const status = this.#area.bytes[slot.base + SLOT_STATUS]!;
    if (status === Status.OK) {
      copyBack(this.#area, slot, op);
      return Status.OK;
    }
    if (status === Status.BADMSG && session.params.service === "aead") {
      zeroList(op.dst, op.src.total);
      return Status.BADMSG;
    }
    return ENGINE_FAILED;
  }

  #release(slot: Slot): void {
    slot.op = null;
    slot.session = null;
    slot.fixCount = 0;
    this.#free.push(slot.index);
  }

  #startBacklog(finish: Finish): void {
    while (this.#backlogCount > 0 && this.#free.length > 0) {
      const op = this.#backlog[this.#backlogHead]!;
      const session = this.#backlogSessions[this.#backlogHead]!;
      const slot = this.#slots[this.#free.pop()!]!;
      const status = this.#start(slot, op, session);
      if (status === -3) {
        this.#free.push(slot.index);
        return; // the ring is full: the next completion frees descriptors
      }
      this.#backlog[this.#backlogHead] = undefined;
      this.#backlogSessions[this.#backlogHead] = undefined;
      this.#backlogHead = (this.#backlogHead + 1) % BACKLOG;
      this.#backlogCount--;
      if (status !== PENDING) {
        this.#free.push(slot.index);
        finish(op, session, status);
      }
    }
  }

  /** The submission time of the oldest request on the device (`Infinity` when none). */
  oldestSubmit(): number {
    let oldest = Infinity;
    for (const s of this.#slots) if (s.op !== null && s.submittedAt < oldest) oldest = s.submittedAt;
    return oldest;
  }

  /**
   * Gives every request on the device or in the backlog back with `ENGINE_FAILED` (after a device failure: the
   * device was reset first, so nothing writes into their buffers any more).
   *
   * @param finish Called per request.
   */
  failAll(finish: Finish): void {
    const failed: [CryptoOp, AccelSession][] = [];
    for (const s of this.#slots) {
      if (s.op !== null) failed.push([s.op, s.session!]);
      if (s.op !== null) this.#release(s);
    }
    while (this.#backlogCount > 0) {
      failed.push([this.#backlog[this.#backlogHead]!, this.#backlogSessions[this.#backlogHead]!]);
      this.#backlog[this.#backlogHead] = undefined;
      this.#backlogSessions[this.#backlogHead] = undefined;
      this.#backlogHead = (this.#backlogHead + 1) % BACKLOG;
      this.#backlogCount--;
    }
    this.#unpublished = false;
    for (const [op, session] of failed) finish(op, session, ENGINE_FAILED);
  }
}
