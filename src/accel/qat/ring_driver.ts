/**
 * `QatRingDriver`: one ring pair served as an engine's data path, the part the inline `QatEngine` and a VM
 * thread's `QatClient` share: sessions (content descriptors in the ring pair's scratch, planned by
 * `planSession`), submission with one doorbell per batch, completions by the bundle's MSI-X eventfd in the
 * thread's reactor or by polling (`EngineMonitor`), the watchdog for a ring that stops answering, and giving every
 * request back with `ENGINE_FAILED` when the ring is let go after a failure. What owns the device (and so decides
 * what a failure means) is told through `onFailure`; the driver itself never touches VFIO.
 *
 * The driver outlives ring pair incarnations: `attach` a ticket's ring, `detach` it when the device fails, and
 * `attach` the next epoch's; counters add up across them.
 *
 * @module
 */

import {
  type CryptoEngine,
  type CryptoOp,
  ENGINE_FAILED,
  EngineError,
  PENDING,
  type SessionParams,
} from "../../engine/mod.ts";
import { EPOLLIN, type Reactor } from "../../os/mod.ts";
import { Status } from "../../spec/virtio_crypto.ts";
import { type CompletionMode, EngineMonitor, type GuestIovaLookup } from "../virtio_pci/mod.ts";
import { type Finish, QatRingPair } from "./ring_pair.ts";
import { QatSession } from "./session.ts";
import { planSession } from "./session_plan.ts";
import type { QatRingPairTicket } from "./ticket.ts";

/** An interrupt's eventfd as the driver consumes it. */
export interface RingInterrupt {
  readonly fd: number;
  consume(): bigint;
}

/** What a driver is made of. */
export interface RingDriverOptions {
  /** The engine its sessions belong to (the router hands them back to it). */
  readonly owner: CryptoEngine;
  readonly completions: CompletionMode;
  /** The reactor the interrupt eventfd joins (interrupt mode). */
  readonly reactor: Reactor | null;
  /** A request older than this means the ring stopped answering. */
  readonly requestTimeoutMs: number;
  /** Watchdog period while requests are in flight. */
  readonly watchdogMs: number;
  /**
   * The ring pair broke (a response for no request, a request that got no answer): the device's owner decides
   * what follows (it may `detach` this driver before returning).
   */
  readonly onFailure: (reason: string) => void;
  /** A watchdog round's check of the device while requests are in flight; false ends the round. */
  readonly check?: () => boolean;
  /** Whether the device may take requests now (a VM thread reads the main thread's state word). */
  readonly ready?: () => boolean;
  /** Requests in flight changed (a VM thread publishes the number for the main thread). */
  readonly inflight?: (n: number) => void;
}

/** Counters of a driver, summed over the ring pairs it drove. */
export interface RingDriverCounts {
  sessions: number;
  completed: number;
  failed: number;
  declined: number;
  interrupts: number;
  bounced: number;
  doorbells: number;
}

/** One ring pair behind an engine. */
export class QatRingDriver {
  readonly #o: RingDriverOptions;
  readonly #monitor: EngineMonitor;
  readonly #onFinish: Finish = (op, s, status) => this.#finish(op, s, status);
  readonly #flushTask = (): void => {
    this.#flushScheduled = false;
    this.flush();
  };
  #ring: QatRingPair | null = null;
  #token = -1;
  #flushScheduled = false;
  readonly #counts: RingDriverCounts = {
    sessions: 0,
    completed: 0,
    failed: 0,
    declined: 0,
    interrupts: 0,
    bounced: 0,
    doorbells: 0,
  };

  /** @param options Owner, completion mode, timeouts, what a failure calls. */
  constructor(options: RingDriverOptions) {
    this.#o = options;
    this.#monitor = new EngineMonitor({
      periodMs: options.watchdogMs,
      tick: () => this.#watch(),
      poll: options.completions === "poll" ? () => this.#pollLoop() : null,
    });
  }

  /** The ring pair driven now, or null (none yet, or the device is down). */
  get ring(): QatRingPair | null {
    return this.#ring;
  }

  /** Requests on the device or waiting for a slot. */
  get inflight(): number {
    return this.#ring?.inflight ?? 0;
  }

  /** A snapshot of the counters (the current ring pair's included). */
  counts(): RingDriverCounts {
    const r = this.#ring;
    return {
      ...this.#counts,
      bounced: this.#counts.bounced + (r?.counters.bounced ?? 0),
      doorbells: this.#counts.doorbells + (r?.counters.doorbells ?? 0),
    };
  }

  /**
   * Drives a ticket's ring pair from now on, its interrupt in the reactor (interrupt mode, when it has one).
   *
   * @param ticket The ring pair.
   * @param guest The VM's GPA → IOVA translation.
   * @param irq Its interrupt's eventfd, or null.
   */
  attach(ticket: QatRingPairTicket, guest: GuestIovaLookup, irq: RingInterrupt | null): void {
    const ring = QatRingPair.fromTicket(ticket, guest);
    this.#ring = ring;
    const reactor = this.#o.reactor;
    if (this.#o.completions !== "interrupt" || reactor === null || irq === null) return;
    this.#token = reactor.add(irq.fd, EPOLLIN, () => {
      irq.consume();
      this.#counts.interrupts++;
      this.poll();
      if (this.#ring === ring) ring.armInterrupt();
    });
  }

  /**
   * Lets go of the ring pair: with `complete`, the responses already written are taken (good results) and every
   * other request is given back with `ENGINE_FAILED`; without, they are abandoned (their memory is going away).
   * Call after the device was stopped, so nothing writes their buffers any more.
   *
   * @param complete Whether to complete what was in flight.
   */
  detach(complete: boolean): void {
    if (this.#token >= 0) this.#o.reactor?.remove(this.#token);
    this.#token = -1;
    this.#monitor.idle();
    const ring = this.#ring;
    this.#ring = null;
    if (ring === null) return;
    this.#counts.bounced += ring.counters.bounced;
    this.#counts.doorbells += ring.counters.doorbells;
    if (complete) {
      try {
        ring.reap(this.#onFinish); // answered before the failure: those results are good
      } catch {
        // a broken response ring: everything goes to software below
      }
      ring.failAll(this.#onFinish);
    }
    this.#o.inflight?.(0);
  }

  /** The VM's translation changed (a new memory table). */
  set guest(guest: GuestIovaLookup) {
    if (this.#ring !== null) this.#ring.guest = guest;
  }

  /**
   * Makes a session on the ring pair: its content descriptor written, the HMAC midstates zeroed after.
   *
   * @param params Its parameters (checked against the capabilities by the caller).
   * @returns The session.
   * @throws EngineError `unavailable` without a ring pair, `nospc` when its descriptors are used up.
   */
  createSession(params: SessionParams): QatSession {
    const ring = this.#ring;
    if (ring === null) throw new EngineError("unavailable", "Cannot create session: no QAT ring pair");
    const facts = planSession(params);
    try {
      const session = ring.createSession(this.#o.owner, params, facts);
      this.#counts.sessions++;
      return session;
    } finally {
      // The HMAC midstates are in the descriptor now; no other copy stays.
      const auth = facts.plan.auth;
      if (auth !== null && auth.state2 !== null) {
        auth.state1.fill(0);
        auth.state2.fill(0);
      }
    }
  }

  /**
   * Closes a session of the owner (its descriptor freed once no request of it is in flight).
   *
   * @param s The session.
   */
  closeSession(s: QatSession): void {
    if (!this.#owns(s)) return;
    s.closed = true;
    this.#counts.sessions--;
    if (s.inflight === 0) this.#ring?.destroySession(s);
  }

  #owns(s: unknown): s is QatSession {
    return s instanceof QatSession && s.engine === this.#o.owner && !s.closed;
  }

  /**
   * Takes a request.
   *
   * @param op The operation.
   * @returns `PENDING`, INVSESS for a session not of this engine, `ENGINE_FAILED` (software runs it), or the
   *   status of a refused request.
   */
  submit(op: CryptoOp): number {
    const s = op.session;
    if (!this.#owns(s)) return Status.INVSESS;
    const ring = this.#ring;
    if (ring === null || s.epoch !== ring.epoch || this.#o.ready?.() === false) return ENGINE_FAILED;
    const status = ring.submit(op, s);
    if (status !== PENDING) {
      if (status === ENGINE_FAILED) this.#counts.declined++;
      return status;
    }
    s.inflight++;
    this.#o.inflight?.(ring.inflight);
    this.#monitor.busy();
    if (this.#o.completions === "caller") this.flush();
    else if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(this.#flushTask);
    }
    return PENDING;
  }

  /** Rings the doorbell for the requests submitted since the last one. */
  flush(): void {
    this.#ring?.flush();
  }

  /**
   * Takes the responses the device has written and completes their operations.
   *
   * @returns How many completed.
   */
  poll(): number {
    const ring = this.#ring;
    if (ring === null) return 0;
    let n = 0;
    try {
      n = ring.reap(this.#onFinish);
    } catch (e) {
      this.#o.onFailure(`the device broke its response ring: ${(e as Error).message}`);
      return 0;
    }
    if (this.#ring !== ring) return n; // a completion's callback let the ring go
    if (ring.unpublished) ring.flush(); // backlogged requests took the freed slots
    this.#o.inflight?.(ring.inflight);
    return n;
  }

  #finish(op: CryptoOp, s: QatSession, status: number): void {
    s.inflight--;
    if (status === ENGINE_FAILED) this.#counts.failed++;
    else this.#counts.completed++;
    if (s.closed && s.inflight === 0) this.#ring?.destroySession(s);
    if ((this.#ring?.inflight ?? 0) === 0) this.#monitor.idle();
    op.complete(op, status);
  }

  #pollLoop(): boolean {
    this.poll();
    return (this.#ring?.inflight ?? 0) > 0;
  }

  // The watchdog: completions (a lost interrupt), the device's health, the oldest request's age.
  #watch(): void {
    this.poll();
    const ring = this.#ring;
    if (ring === null || ring.inflight === 0) return this.#monitor.idle();
    if (this.#o.check?.() === false || this.#ring !== ring) return;
    if (this.#o.ready?.() === false) return; // the device's owner tells us soon
    const age = performance.now() - ring.oldestSubmit();
    if (age > this.#o.requestTimeoutMs) {
      this.#o.onFailure(
        `ring ${ring.name} stopped answering: a request got no response within ${this.#o.requestTimeoutMs} ms`,
      );
    }
  }

  /** Stops the timers and lets go of the ring pair; requests in flight are abandoned. */
  close(): void {
    this.detach(false);
  }
}
