/**
 * `SharedQueueClient`: a VM's share of the accelerator when more VMs than data queues share one (issue 10), as a
 * `CryptoEngine` on the VM's thread. It writes each operation into a slot of shared memory (`OpSlots`), pushes
 * the slot number on its own submission ring and wakes the queue's thread (`SharedQueueProxy`, on the main
 * thread), which serves the VMs of the queue round-robin and pushes each completion on the VM's own ring. Nothing
 * on this path is a lock: each ring has one producer and one consumer (`SpscRing`), so no VM can hold another up.
 *
 * Sessions live at the queue's thread (a handle here). An operation that does not fit a slot, or that finds no
 * free slot, is answered `ENGINE_FAILED` at once, and the router runs it in software.
 *
 * @module
 */

import {
  type Capabilities,
  type CryptoEngine,
  type CryptoOp,
  type DmaRegion,
  ENGINE_FAILED,
  EngineError,
  type EngineSession,
  PENDING,
  type SessionParams,
} from "../../engine/mod.ts";
import { Status } from "../../spec/virtio_crypto.ts";
import { EPOLLIN, EventFd, Fd, type Reactor } from "../../os/mod.ts";
import { SpscRing } from "../../threads/mod.ts";
import type { SharedControl } from "./control_link.ts";
import { checkSession } from "./session_checks.ts";
import { OpSlots } from "./shared_ops.ts";
import { capabilitiesFromWire, type CapabilitiesWire, type SharedQueueTicket } from "./ticket.ts";

export type { SharedQueueTicket } from "./ticket.ts";

/**
 * A completion word.
 *
 * @param slot The op slot.
 * @param status A status byte or `ENGINE_FAILED`.
 * @returns The word.
 */
export function completionWord(slot: number, status: number): number {
  return (slot | ((status + 2) << 20)) >>> 0;
}

/** A session at the queue's thread, as this VM's device sees it. */
class SharedSession implements EngineSession {
  readonly params: SessionParams;
  readonly engine: SharedQueueClient;
  readonly handle: number;
  inflight = 0;
  closed = false;
  destroyPending = false;

  constructor(engine: SharedQueueClient, params: SessionParams, handle: number) {
    this.engine = engine;
    this.params = params;
    this.handle = handle;
  }
}

/** A VM's client of a shared accelerator queue. */
export class SharedQueueClient implements CryptoEngine {
  readonly name: string;
  readonly #caps: Capabilities;
  readonly #control: SharedControl;
  readonly #reactor: Reactor;
  readonly #slots: OpSlots;
  readonly #submit: SpscRing;
  readonly #done: SpscRing;
  readonly #kick: EventFd;
  readonly #doneEvent: EventFd;
  readonly #token: number;
  readonly #ops: (CryptoOp | null)[];
  readonly #free: number[];
  readonly #kickTask = (): void => {
    this.#kickScheduled = false;
    this.#kick.signal();
  };
  #kickScheduled = false;
  #closed = false;
  #counts = { sessions: 0, completed: 0, failed: 0, declined: 0 };

  /**
   * @param ticket The shared queue's rings and slots.
   * @param caps What the accelerator serves.
   * @param control Sessions at the queue's thread.
   * @param reactor The VM's reactor (its completion eventfd joins it).
   * @param name For logs.
   */
  constructor(
    ticket: SharedQueueTicket,
    caps: CapabilitiesWire,
    control: SharedControl,
    reactor: Reactor,
    name: string,
  ) {
    this.name = name;
    this.#caps = capabilitiesFromWire(caps);
    this.#control = control;
    this.#reactor = reactor;
    this.#slots = new OpSlots(ticket.opSlots);
    this.#submit = SpscRing.attach(ticket.submit);
    this.#done = SpscRing.attach(ticket.done);
    this.#kick = new EventFd(Fd.borrow(ticket.kickFd)); // both borrowed: the main thread owns them
    this.#doneEvent = new EventFd(Fd.borrow(ticket.doneFd));
    this.#ops = new Array(ticket.slots).fill(null);
    this.#free = Array.from({ length: ticket.slots }, (_, i) => ticket.slots - 1 - i);
    this.#token = reactor.add(this.#doneEvent.fd, EPOLLIN, () => {
      this.#doneEvent.consume();
      this.poll();
    });
  }

  capabilities(): Capabilities {
    return this.#caps;
  }

  /** This VM's counters on the shared queue. */
  stats(): Record<string, number | null> {
    return { queue: null, ...this.#counts, inflight: this.#ops.length - this.#free.length, bounced: 0 };
  }

  createSession(params: SessionParams): EngineSession {
    if (this.#closed) throw new EngineError("unavailable", "Cannot create session: the engine is closed");
    checkSession(this.#caps, params);
    const handle = this.#control.createShared(params);
    this.#counts.sessions++;
    return new SharedSession(this, params, handle);
  }

  closeSession(session: EngineSession): void {
    const s = session as SharedSession;
    if (!(s instanceof SharedSession) || s.engine !== this || s.closed) return;
    s.closed = true;
    this.#counts.sessions--;
    if (s.inflight > 0) s.destroyPending = true;
    else this.#control.closeShared(s.handle);
  }

  submit(op: CryptoOp): number {
    const s = op.session as SharedSession | null;
    if (!(s instanceof SharedSession) || s.engine !== this || s.closed) return Status.INVSESS;
    const slot = this.#free.pop();
    if (slot === undefined) return this.#decline();
    if (!this.#slots.write(slot, op, s.handle) || !this.#submit.push(slot)) {
      this.#free.push(slot);
      return this.#decline();
    }
    this.#ops[slot] = op;
    s.inflight++;
    if (!this.#kickScheduled) {
      this.#kickScheduled = true;
      queueMicrotask(this.#kickTask); // one wake-up of the queue's thread per batch
    }
    return PENDING;
  }

  #decline(): number {
    this.#counts.declined++;
    return ENGINE_FAILED;
  }

  /**
   * Takes the completions the queue's thread has pushed.
   *
   * @returns How many.
   */
  poll(): number {
    let n = 0;
    for (let w = this.#done.pop(); w !== -1; w = this.#done.pop()) {
      const slot = w & 0xfffff;
      const status = (w >>> 20) - 2;
      const op = this.#ops[slot];
      if (op === null || op === undefined) continue;
      this.#ops[slot] = null;
      this.#free.push(slot);
      this.#finish(op, status);
      n++;
    }
    return n;
  }

  #finish(op: CryptoOp, status: number): void {
    const s = op.session as SharedSession;
    s.inflight--;
    if (status === ENGINE_FAILED) this.#counts.failed++;
    else this.#counts.completed++;
    if (s.destroyPending && s.inflight === 0) {
      s.destroyPending = false;
      this.#control.closeShared(s.handle);
    }
    op.complete(op, status);
  }

  /** Maps the VM's memory table for DMA; the queue's thread translates through it. */
  setGuestMemory(regions: readonly DmaRegion[]): void {
    if (!this.#closed) this.#control.mapMemory(regions);
  }

  /** Stops taking completions (operations still at the queue's thread are abandoned: the VM is going away). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#reactor.remove(this.#token);
  }
}
