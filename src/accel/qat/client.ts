/**
 * `QatClient`: one VM's ring pair of a QAT VF as a `CryptoEngine`, on the VM's own thread, from the ticket the
 * main thread's `QatHost` gave it. The ring pair is driven here (`QatRingDriver`, the logic `QatEngine` composes
 * too): sessions as content descriptors in its scratch area (no call to the main thread), requests into its TX
 * ring, completions by its bundle's MSI-X eventfd in the VM's reactor or by polling, the watchdog. The main
 * thread is asked (`QatVmControl`, synchronous calls) only for what it owns: the VM's guest RAM in the VFIO
 * container, a failure this thread saw, and a restart.
 *
 * When the device goes down (the host's `down` event; meanwhile the shared state word already sends requests to
 * software), the client takes the responses already written, gives the rest back with `ENGINE_FAILED` (the
 * router re-runs them in software) and says it let go. A new session while it has no ring pair asks the host to
 * restart (at most every `retryMs`); the other VMs get theirs with an `up` event. Sessions of an old epoch stay
 * in software. Past the VF's ring pairs the client has none at all (`software`): every session goes to software,
 * counted by the router as `unavailable`.
 *
 * @module
 */

import {
  type Capabilities,
  type CryptoEngine,
  type CryptoOp,
  type DmaRegion,
  EngineError,
  type EngineSession,
  type SessionParams,
} from "../../engine/mod.ts";
import { EventFd, Fd, type Reactor } from "../../os/mod.ts";
import { capabilitiesFromWire, checkSession, GuestIovaMap } from "../virtio_pci/mod.ts";
import {
  QAT_EPOCH_WORD,
  QAT_INFLIGHT_WORD,
  QAT_SESSIONS_WORD,
  QAT_STATE_WORD,
  type QatAccelEvent,
  type QatGrant,
  type QatVmControl,
  type QatVmTicket,
} from "./host_types.ts";
import { QatRingDriver, type RingDriverCounts, type RingInterrupt } from "./ring_driver.ts";
import type { QatSession } from "./session.ts";
import { ticketFromWire } from "./ticket.ts";

/** One VM's counters at the QAT. */
export interface QatClientStats extends RingDriverCounts {
  /** The bundle of its ring pair, or null (none left for it, or the device is down). */
  readonly ringPair: number | null;
  /** No ring pair was left for this VM: served in software. */
  readonly software: boolean;
  /** The epoch of the ring pair it drives (0: none yet). */
  readonly epoch: number;
  readonly inflight: number;
}

/** A VM's client of a QAT VF. */
export class QatClient implements CryptoEngine {
  readonly name: string;
  readonly #ticket: QatVmTicket;
  readonly #control: QatVmControl;
  readonly #caps: Capabilities;
  readonly #state: Int32Array;
  readonly #counters: Int32Array;
  readonly #driver: QatRingDriver;
  #guest = new GuestIovaMap();
  #epoch = 0;
  #askedAt = -Infinity;
  #closed = false;

  /**
   * @param ticket From `QatHost.attach`.
   * @param control The main thread's services (`qatCallControl` from a Worker).
   * @param reactor The VM's reactor (interrupts join it).
   */
  constructor(ticket: QatVmTicket, control: QatVmControl, reactor: Reactor | null) {
    this.name = `qat-gen4 ${ticket.name}`;
    this.#ticket = ticket;
    this.#control = control;
    this.#caps = capabilitiesFromWire(ticket.capabilities);
    this.#state = new Int32Array(ticket.state);
    this.#counters = new Int32Array(ticket.counters);
    this.#driver = new QatRingDriver({
      owner: this,
      completions: reactor === null ? "poll" : ticket.completions,
      reactor,
      requestTimeoutMs: ticket.requestTimeoutMs,
      watchdogMs: ticket.watchdogMs,
      onFailure: (reason) => this.#control.reportFailure(reason, this.#epoch),
      ready: () => this.#ready(),
      inflight: (n) => Atomics.store(this.#counters, QAT_INFLIGHT_WORD, n),
    });
    if (ticket.grant !== null) this.#attach(ticket.grant);
  }

  #attach(grant: QatGrant): void {
    const ring = ticketFromWire(grant.ring);
    this.#guest = new GuestIovaMap(grant.guest);
    this.#epoch = grant.epoch;
    // Borrowed: the main thread owns MSI-X.
    const irq: RingInterrupt | null = ring.eventfd === null ? null : new EventFd(Fd.borrow(ring.eventfd));
    this.#driver.attach(ring, this.#guest, irq);
  }

  #ready(): boolean {
    return Atomics.load(this.#state, QAT_STATE_WORD) === 1 &&
      Atomics.load(this.#state, QAT_EPOCH_WORD) === this.#epoch;
  }

  capabilities(): Capabilities {
    return this.#caps;
  }

  /** A snapshot of this VM's counters. */
  stats(): QatClientStats {
    return {
      ...this.#driver.counts(),
      ringPair: this.#driver.ring?.ticket.bundle ?? null,
      software: this.#ticket.software,
      epoch: this.#epoch,
      inflight: this.#driver.inflight,
    };
  }

  /**
   * An event from the main thread: the device went down (let go of the ring pair, say so) or is back.
   *
   * @param event The event.
   */
  onEvent(event: QatAccelEvent): void {
    if (this.#closed) return;
    if (event.kind === "down") {
      if (event.epoch < this.#epoch) return; // about an incarnation this client already left
      this.#driver.detach(true);
      this.#control.detached(event.epoch);
    } else if (event.epoch > this.#epoch || this.#driver.ring === null) {
      this.#driver.detach(true);
      this.#attach(event);
    }
  }

  createSession(params: SessionParams): EngineSession {
    if (this.#closed) throw new EngineError("unavailable", "Cannot create session: the engine is closed");
    checkSession(this.#caps, params);
    if (this.#ticket.software) {
      throw new EngineError(
        "unavailable",
        `Cannot create session: VM ${this.#ticket.name} has no QAT ring pair (the VF's are taken)`,
      );
    }
    const quota = this.#ticket.quota;
    if (quota !== null && this.#driver.counts().sessions >= quota) {
      throw new EngineError("quota", `Cannot create session: VM ${this.#ticket.name} holds its ${quota}`);
    }
    if (this.#driver.ring === null || !this.#ready()) this.#askRestart();
    if (this.#driver.ring === null || !this.#ready()) {
      throw new EngineError("unavailable", "Cannot create session: the QAT is down");
    }
    const s = this.#driver.createSession(params);
    Atomics.store(this.#counters, QAT_SESSIONS_WORD, this.#driver.counts().sessions);
    return s;
  }

  // At most every retryMs: each ask is a call to the main thread.
  #askRestart(): void {
    const now = performance.now();
    if (now - this.#askedAt < this.#ticket.retryMs) return;
    this.#askedAt = now;
    const grant = this.#control.restart();
    if (grant !== null) {
      this.#driver.detach(true);
      this.#attach(grant);
    }
  }

  closeSession(session: EngineSession): void {
    this.#driver.closeSession(session as QatSession);
    Atomics.store(this.#counters, QAT_SESSIONS_WORD, this.#driver.counts().sessions);
  }

  submit(op: CryptoOp): number {
    return this.#driver.submit(op);
  }

  /** Rings the doorbell for the requests submitted since the last one. */
  flush(): void {
    this.#driver.flush();
  }

  /**
   * Takes the responses the device has written and completes their operations.
   *
   * @returns How many completed.
   */
  poll(): number {
    return this.#driver.poll();
  }

  /**
   * Maps the VM's memory table for DMA (at IOVAs of its own) and translates through it from now on. Requests in
   * flight now (the daemon stops, or a front-end vanished mid-request) are abandoned: their memory is going away,
   * so the device is stopped before it could write there, and they are never completed.
   */
  setGuestMemory(regions: readonly DmaRegion[]): void {
    if (this.#closed) return;
    if (this.#driver.inflight > 0) {
      this.#driver.detach(false); // abandoned first: the failure must not complete them into going memory
      this.#control.reportFailure("the guest memory table changed with requests in flight", this.#epoch);
    }
    this.#guest = new GuestIovaMap(this.#control.mapMemory(regions));
    this.#driver.guest = this.#guest;
  }

  /** Lets go of the ring pair (requests in flight are abandoned: the VM is going away) and stops the timers. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#driver.close();
    Atomics.store(this.#counters, QAT_SESSIONS_WORD, 0);
  }
}
