/**
 * `VirtioPciClient`: one VM's share of the virtio-crypto accelerator, as a `CryptoEngine`, on the VM's own thread.
 * It drives the VM's data queue directly (`DataPath`: requests point at the VM's guest RAM by the IOVAs of its own
 * table; a doorbell store; completions on its MSI-X eventfd in the VM's reactor, or polled), and asks the main
 * thread (`AccelControl`) for what the device has only one of: sessions on the control queue, IOMMU mappings.
 *
 * Asynchronous: `submit` returns `PENDING` and calls `op.complete` later; it answers `ENGINE_FAILED` (now or at
 * completion) whenever the device cannot do what it accepted, so the router re-runs the request in software and
 * the guest sees success. When the device goes down (an event from the main thread, or the shared state word), the
 * client takes the completions already posted, gives the rest back with `ENGINE_FAILED`, lets go of its queue and
 * says so; it gets a queue again when the device is back. Sessions made before a failure stay in software.
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
import type { AccelControl, DeviceSessionRef } from "./control_link.ts";
import { DataPath, type Finish } from "./data_path.ts";
import { openDoorbell } from "./doorbell.ts";
import type { CompletionMode } from "./engine_options.ts";
import { type GuestIovaLookup, GuestIovaMap } from "./guest_dma.ts";
import type { AccelEvent } from "./host_types.ts";
import { EngineMonitor } from "./monitor.ts";
import { AccelSession } from "./session.ts";
import { checkSession } from "./session_checks.ts";
import {
  type AccelTicket,
  areaFromWire,
  capabilitiesFromWire,
  EPOCH_WORD,
  INFLIGHT_WORD,
  type QueueTicket,
  STATE_WORD,
} from "./ticket.ts";

/** What a client is made of. */
export interface ClientOptions {
  readonly ticket: AccelTicket;
  readonly control: AccelControl;
  /** The VM's reactor (the queue's MSI-X eventfd joins it in interrupt mode). */
  readonly reactor: Reactor | null;
  /** How completions are noticed. Default: the ticket's. */
  readonly completions?: CompletionMode;
}

/** One VM's counters at the accelerator. */
export interface ClientStats {
  /** The data queue it drives, or null (none free, or the device is down). */
  readonly queue: number | null;
  readonly sessions: number;
  readonly inflight: number;
  readonly completed: number;
  readonly failed: number;
  readonly declined: number;
  readonly bounced: number;
}

/** A VM's client of the accelerator. */
export class VirtioPciClient implements CryptoEngine {
  readonly name: string;
  readonly #control: AccelControl;
  readonly #reactor: Reactor | null;
  readonly #mode: CompletionMode;
  readonly #caps: Capabilities;
  readonly #state: Int32Array;
  readonly #counters: Int32Array;
  readonly #monitor: EngineMonitor;
  readonly #timeoutMs: number;
  readonly #onFinish: Finish = (op, session, status) => this.#finish(op, session, status);
  readonly #flushTask = (): void => {
    this.#flushScheduled = false;
    this.flush();
  };
  #path: DataPath | null = null;
  #queue: QueueTicket | null = null;
  /** The host gave this VM a queue (it may be away while the device is down). */
  #assigned = false;
  #queueEpoch = 0;
  #irqToken: number | null = null;
  #guest = new GuestIovaMap();
  #flushScheduled = false;
  #closed = false;
  #bouncedBefore = 0;
  #counts = { sessions: 0, completed: 0, failed: 0, declined: 0 };

  /** @param options Ticket, control, reactor. */
  constructor(options: ClientOptions) {
    const t = options.ticket;
    this.name = t.name;
    this.#control = options.control;
    this.#reactor = options.reactor;
    this.#mode = options.completions ?? t.completions;
    this.#caps = capabilitiesFromWire(t.capabilities);
    this.#state = new Int32Array(t.state);
    this.#counters = new Int32Array(t.counters);
    this.#timeoutMs = t.requestTimeoutMs;
    this.#monitor = new EngineMonitor({
      periodMs: t.watchdogMs,
      tick: () => this.#watch(),
      poll: this.#mode === "poll" ? () => this.#pollLoop() : null,
    });
    if (t.queue !== null) this.#attach(t.queue, Atomics.load(this.#state, EPOCH_WORD));
  }

  capabilities(): Capabilities {
    return this.#caps;
  }

  /** A snapshot of this VM's counters. */
  stats(): ClientStats {
    return {
      queue: this.#queue?.index ?? null,
      ...this.#counts,
      inflight: this.#path?.inflight ?? 0,
      bounced: this.#bouncedBefore + (this.#path?.bounced ?? 0),
    };
  }

  #attach(queue: QueueTicket, epoch: number): void {
    this.#assigned = true;
    this.#queue = queue;
    this.#queueEpoch = epoch;
    this.#path = new DataPath(
      openDoorbell(queue.doorbell),
      areaFromWire(queue.area),
      queue.options,
      this.#guest,
    );
    if (this.#mode === "interrupt" && queue.irqFd !== null && this.#reactor !== null) {
      const irq = new EventFd(Fd.borrow(queue.irqFd)); // borrowed: the main thread owns MSI-X
      this.#irqToken = this.#reactor.add(irq.fd, EPOLLIN, () => {
        irq.consume();
        this.poll();
      });
    }
  }

  // Lets go of the queue: completions already posted are taken, the rest go back to software (`complete`), or
  // are abandoned when their memory is going away.
  #detach(complete: boolean): void {
    const path = this.#path;
    if (this.#irqToken !== null) this.#reactor?.remove(this.#irqToken);
    this.#irqToken = null;
    this.#path = null;
    this.#queue = null;
    this.#monitor.idle();
    if (path === null) return;
    this.#bouncedBefore += path.bounced;
    if (complete) {
      try {
        path.reap(this.#onFinish); // finished before the failure: their results are good
      } catch {
        // a broken used ring: everything goes to software below
      }
      path.failAll(this.#onFinish);
    }
    Atomics.store(this.#counters, INFLIGHT_WORD, 0);
  }

  /**
   * An event from the main thread: the device went down (let go of the queue, say so) or is back (a queue again).
   *
   * @param event The event.
   */
  onEvent(event: AccelEvent): void {
    if (this.#closed) return;
    if (event.kind === "down") {
      this.#detach(true);
      this.#control.detached(event.epoch);
    } else if (event.queue !== null) {
      this.#detach(true);
      this.#attach(event.queue, event.epoch);
    }
  }

  #ready(): boolean {
    return Atomics.load(this.#state, STATE_WORD) === 1 &&
      Atomics.load(this.#state, EPOCH_WORD) === this.#queueEpoch;
  }

  createSession(params: SessionParams): EngineSession {
    if (this.#closed) throw new EngineError("unavailable", "Cannot create session: the engine is closed");
    checkSession(this.#caps, params);
    if (!this.#assigned) {
      throw new EngineError("unavailable", "Cannot create session: this VM has no queue on the accelerator");
    }
    const ref = this.#control.createSession(params);
    this.#counts.sessions++;
    return new AccelSession(this, params, ref.id, ref.epoch);
  }

  closeSession(session: EngineSession): void {
    const s = session as AccelSession;
    if (!(s instanceof AccelSession) || s.engine !== this || s.closed) return;
    s.closed = true;
    this.#counts.sessions--;
    if (s.inflight > 0) s.destroyPending = true;
    else this.#destroy(s);
  }

  #destroy(s: AccelSession): void {
    (s.owner ?? this.#control).destroySession(s.params.service, { id: s.deviceId, epoch: s.epoch });
  }

  /**
   * Wraps a device session another VM created (a VM on the queue this client drives for several, `SharedQueueProxy`).
   *
   * @param params Its parameters.
   * @param ref The device session.
   * @param owner Destroys it on the device, under the VM it belongs to.
   * @returns The session, for this client's `submit`.
   */
  adoptSession(params: SessionParams, ref: DeviceSessionRef, owner: AccelControl): AccelSession {
    const s = new AccelSession(this, params, ref.id, ref.epoch);
    s.owner = owner;
    this.#counts.sessions++;
    return s;
  }

  /**
   * Translates the next requests through another VM's GPA → IOVA table (the shared queue's member being served).
   *
   * @param guest The table.
   */
  useGuest(guest: GuestIovaLookup): void {
    this.#path?.setGuest(guest);
  }

  submit(op: CryptoOp): number {
    const s = op.session as AccelSession | null;
    if (!(s instanceof AccelSession) || s.engine !== this || s.closed) return Status.INVSESS;
    const path = this.#path;
    if (path === null || s.epoch !== this.#queueEpoch || !this.#ready()) return ENGINE_FAILED;
    const status = path.submit(op, s);
    if (status !== PENDING) {
      if (status === ENGINE_FAILED) this.#counts.declined++;
      return status;
    }
    s.inflight++;
    Atomics.store(this.#counters, INFLIGHT_WORD, path.inflight);
    this.#monitor.busy();
    if (this.#mode === "caller") this.flush();
    else if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(this.#flushTask);
    }
    return PENDING;
  }

  /** Publishes submitted requests and notifies the device (batched automatically except in "caller" mode). */
  flush(): void {
    const path = this.#path;
    if (path === null) return;
    try {
      path.flush();
    } catch (e) {
      this.#control.reportFailure(`notifying the device failed: ${(e as Error).message}`, this.#queueEpoch);
    }
  }

  /**
   * Takes the completions the device has posted and completes their operations.
   *
   * @returns How many completed.
   */
  poll(): number {
    const path = this.#path;
    if (path === null) return 0;
    let n = 0;
    try {
      n = path.reap(this.#onFinish);
    } catch (e) {
      this.#control.reportFailure(
        `the device broke its used ring: ${(e as Error).message}`,
        this.#queueEpoch,
      );
      return 0;
    }
    if (path.unpublished) this.flush(); // backlogged requests took the freed slots
    Atomics.store(this.#counters, INFLIGHT_WORD, path.inflight);
    return n;
  }

  #finish(op: CryptoOp, s: AccelSession, status: number): void {
    s.inflight--;
    if (status === ENGINE_FAILED) this.#counts.failed++;
    else this.#counts.completed++;
    if (s.destroyPending && s.inflight === 0) {
      s.destroyPending = false;
      this.#destroy(s);
    }
    if ((this.#path?.inflight ?? 0) === 0) this.#monitor.idle();
    op.complete(op, status);
  }

  #pollLoop(): boolean {
    this.poll();
    return (this.#path?.inflight ?? 0) > 0;
  }

  // The watchdog's round: completions (a lost interrupt), the device's state, the oldest request's age.
  #watch(): void {
    this.poll();
    const path = this.#path;
    if (path === null || path.inflight === 0) return this.#monitor.idle();
    if (!this.#ready()) return; // the main thread tells us soon
    if (performance.now() - path.oldestSubmit() > this.#timeoutMs) {
      this.#control.reportFailure(`a request got no answer within ${this.#timeoutMs} ms`, this.#queueEpoch);
    }
  }

  /**
   * Maps the VM's memory table for DMA (at IOVAs of its own) and translates through it from now on. Requests in
   * flight at this point (the daemon stops, or a front-end vanished mid-request) are abandoned: their memory is
   * going away, so the device is reset before it could write there, and they are never completed.
   */
  setGuestMemory(regions: readonly DmaRegion[]): void {
    if (this.#closed) return;
    if ((this.#path?.inflight ?? 0) > 0) {
      const epoch = this.#queueEpoch;
      this.#detach(false); // abandoned first: the failure report must not complete them into going memory
      this.#control.reportFailure("the guest memory table changed with requests in flight", epoch);
    }
    this.#guest = new GuestIovaMap(this.#control.mapMemory(regions));
    this.#path?.setGuest(this.#guest);
  }

  /** Lets go of the queue (requests in flight are abandoned: the VM is going away) and stops the timers. */
  close(): void {
    if (this.#closed) return;
    this.#detach(false);
    this.#closed = true;
  }
}
