/**
 * `QatEngine`: a QAT gen4 VF as a `CryptoEngine`, composing the device side (`QatDevice`) and one ring pair's
 * data path (`QatRingPair`) in one thread, as today's daemon runs; the VM threads of the many-VMs daemon will
 * each take a ring pair's ticket instead. Like `VirtioPciEngine` it is asynchronous (`PENDING`, then
 * `op.complete`), answers `ENGINE_FAILED` for what the hardware path does not cover or could not do (the router
 * runs it in software), and BADMSG for a GCM tag the device found wrong.
 *
 * Failures: an error bit in a response (`ENGINE_FAILED` for that request), a ring that stops answering (the
 * watchdog: requests older than `requestTimeoutMs`), or a reset (ring registers read back wrong, the PF's
 * RESTARTING, or all-ones for a function that vanished). On a device failure the engine stops the rings (arbiter,
 * ring pair reset, bus mastering off) and unmaps guest RAM so a late write cannot land (mapped again at the same
 * IOVAs on restart), takes the responses already
 * written, and gives every other request back with `ENGINE_FAILED`: none is lost. New sessions get
 * `unavailable` until a restart works (tried at most every `retryMs`, when a session is created).
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
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
import { EPOLLIN, type Reactor } from "../../os/mod.ts";
import { Status } from "../../spec/virtio_crypto.ts";
import { checkSession, EngineMonitor, GuestIovaMap, VmDmaMap } from "../virtio_pci/mod.ts";
import { QatDevice } from "./device.ts";
import {
  qatCapabilities,
  type QatEngineOptions,
  type QatState,
  type QatStats,
  type ResolvedQatOptions,
  resolveQatOptions,
  shapeOf,
} from "./engine_options.ts";
import type { QatPort } from "./port.ts";
import { type Finish, QatRingPair } from "./ring_pair.ts";
import { QatSession } from "./session.ts";
import { planSession } from "./session_plan.ts";

const log = getLogger(["cryptobridge", "accel"]);

/** The QAT gen4 accelerator engine. */
export class QatEngine implements CryptoEngine {
  readonly name: string;
  readonly #port: QatPort;
  readonly #device: QatDevice;
  readonly #options: ResolvedQatOptions;
  readonly #reactor: Reactor | null;
  readonly #dma: VmDmaMap;
  #guest = new GuestIovaMap();
  readonly #caps: Capabilities;
  readonly #monitor: EngineMonitor;
  readonly #onFinish: Finish = (op, s, status) => this.#finish(op, s, status);
  readonly #flushTask = (): void => {
    this.#flushScheduled = false;
    this.flush();
  };
  #ring: QatRingPair | null = null;
  #token = -1;
  #state: QatState = "ready";
  #flushScheduled = false;
  #failedAt = 0;
  #failures = 0;
  #lastFailure: string | null = null;
  #counts = { sessions: 0, completed: 0, failed: 0, declined: 0, interrupts: 0, bounced: 0, doorbells: 0 };

  private constructor(
    port: QatPort,
    device: QatDevice,
    options: ResolvedQatOptions,
    reactor: Reactor | null,
  ) {
    this.name = `qat-gen4 ${port.name}`;
    this.#port = port;
    this.#device = device;
    this.#options = options;
    this.#reactor = reactor;
    this.#dma = new VmDmaMap(port.dma, port.name);
    this.#caps = qatCapabilities(`Intel QAT gen4 VF ${port.name}`);
    this.#monitor = new EngineMonitor({
      periodMs: options.watchdogMs,
      tick: () => this.#watch(),
      poll: options.completions === "poll" ? () => this.#pollLoop() : null,
    });
  }

  /**
   * Brings the VF up and returns the engine: function reset, PF handshake, one symmetric ring pair configured,
   * interrupts into the reactor (interrupt mode).
   *
   * @param port The VF (from `openQatVfioPort`, or a model).
   * @param options Completion mode, sizes, timeouts.
   * @returns The engine, ready.
   * @throws QatError, VfioError: the VF cannot be driven (the port is closed when owned).
   */
  static open(port: QatPort, options: QatEngineOptions = {}): QatEngine {
    const resolved = resolveQatOptions(options);
    let device: QatDevice | null = null;
    try {
      device = QatDevice.open(port, {
        shape: shapeOf(resolved),
        interrupts: resolved.completions === "interrupt",
      });
      const reactor = resolved.completions === "interrupt" ? options.reactor! : null;
      const engine = new QatEngine(port, device, resolved, reactor);
      engine.#attach();
      return engine;
    } catch (e) {
      device?.close();
      if (resolved.ownsPort) port.close();
      throw e;
    }
  }

  // The data path of the device's first ticket, and its interrupt in the reactor.
  #attach(): void {
    const ticket = this.#device.tickets[0]!;
    this.#ring = QatRingPair.fromTicket(ticket, this.#guest);
    const efd = this.#device.eventfdOf(ticket);
    if (this.#reactor !== null && efd !== null) {
      this.#token = this.#reactor.add(efd.fd, EPOLLIN, () => {
        efd.consume();
        this.#counts.interrupts++;
        this.poll();
        this.#ring?.armInterrupt();
      });
    }
  }

  #detach(): void {
    if (this.#token >= 0) this.#reactor?.remove(this.#token);
    this.#token = -1;
    const ring = this.#ring;
    if (ring !== null) {
      this.#counts.bounced += ring.counters.bounced;
      this.#counts.doorbells += ring.counters.doorbells;
    }
    this.#ring = null;
  }

  /** `ready`, `failed` (sessions go to software) or `closed`. */
  get state(): QatState {
    return this.#state;
  }

  /** A snapshot of the counters. */
  stats(): QatStats {
    const ring = this.#ring;
    const c = this.#counts;
    return {
      state: this.#state,
      epoch: this.#device.epoch,
      sessions: c.sessions,
      inflight: ring?.inflight ?? 0,
      completed: c.completed,
      failed: c.failed,
      declined: c.declined,
      bounced: c.bounced + (ring?.counters.bounced ?? 0),
      doorbells: c.doorbells + (ring?.counters.doorbells ?? 0),
      interrupts: c.interrupts,
      failures: this.#failures,
      lastFailure: this.#lastFailure,
      refused: [],
      services: [...this.#device.services],
      ringPairs: ring === null ? 0 : 1,
    };
  }

  capabilities(): Capabilities {
    return this.#caps;
  }

  createSession(params: SessionParams): EngineSession {
    if (this.#state === "closed") {
      throw new EngineError("unavailable", "Cannot create session: the engine is closed");
    }
    checkSession(this.#caps, params);
    this.#maybeRestart();
    if (this.#state === "ready") this.#checkHealth();
    const ring = this.#ring;
    if (this.#state !== "ready" || ring === null) {
      throw new EngineError(
        "unavailable",
        `Cannot create session: ${this.#lastFailure ?? "the QAT is down"}`,
      );
    }
    const facts = planSession(params);
    try {
      const session = ring.createSession(this, params, facts);
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

  closeSession(session: EngineSession): void {
    const s = session as QatSession;
    if (!(s instanceof QatSession) || s.engine !== this || s.closed) return;
    s.closed = true;
    this.#counts.sessions--;
    if (s.inflight === 0) this.#ring?.destroySession(s);
  }

  submit(op: CryptoOp): number {
    const s = op.session as QatSession | null;
    if (!(s instanceof QatSession) || s.engine !== this || s.closed) return Status.INVSESS;
    const ring = this.#ring;
    if (ring === null || s.epoch !== ring.epoch) return ENGINE_FAILED;
    const status = ring.submit(op, s);
    if (status !== PENDING) {
      if (status === ENGINE_FAILED) this.#counts.declined++;
      return status;
    }
    s.inflight++;
    this.#monitor.busy();
    if (this.#options.completions === "caller") this.flush();
    else if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(this.#flushTask);
    }
    return PENDING;
  }

  /** Rings the doorbell for the requests submitted since the last one (batched automatically except "caller"). */
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
    try {
      const n = ring.reap(this.#onFinish);
      if (ring.unpublished) ring.flush(); // backlogged requests took the freed slots
      return n;
    } catch (e) {
      this.#fail(`the device broke its response ring: ${(e as Error).message}`);
      return 0;
    }
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
    if (!this.#checkHealth()) return;
    const age = performance.now() - ring.oldestSubmit();
    if (age > this.#options.requestTimeoutMs) {
      this.#fail(
        `ring ${ring.name} stopped answering: a request got no response within ${this.#options.requestTimeoutMs} ms`,
      );
    }
  }

  #checkHealth(): boolean {
    const problem = this.#device.health();
    if (problem === null) return true;
    this.#fail(problem);
    return false;
  }

  /**
   * The device failed: stop it, unmap guest RAM, complete what it answered, give everything else back with
   * ENGINE_FAILED (or abandon it when its memory is going away).
   */
  #fail(reason: string, complete = true): void {
    if (this.#state !== "ready") return;
    this.#state = "failed";
    this.#failedAt = performance.now();
    this.#failures++;
    this.#lastFailure = reason;
    this.#monitor.idle();
    log.error("accelerator {name} failed: {reason}; its requests and new sessions go to software", {
      name: this.name,
      reason,
    });
    this.#device.stop();
    this.#dma.suspend(); // kept for the restart, at the same IOVAs
    this.#guest = new GuestIovaMap();
    const ring = this.#ring;
    this.#detach();
    if (ring === null || !complete) return;
    try {
      ring.reap(this.#onFinish); // answered before the failure: those results are good
    } catch {
      // a broken response ring: everything goes to software below
    }
    ring.failAll(this.#onFinish);
  }

  #maybeRestart(): void {
    if (this.#state !== "failed" || performance.now() - this.#failedAt < this.#options.retryMs) return;
    if (this.#device.vanished) return;
    try {
      this.#device.restart();
      this.#dma.resume();
      this.#guest = new GuestIovaMap(this.#dma.entries);
      this.#attach();
      this.#state = "ready";
      log.info("accelerator {name} restarted (epoch {epoch})", {
        name: this.name,
        epoch: this.#device.epoch,
      });
    } catch (e) {
      this.#failedAt = performance.now();
      this.#device.stop();
      log.warn("accelerator {name} cannot restart yet: {error}", {
        name: this.name,
        error: (e as Error).message,
      });
    }
  }

  /**
   * Maps the guest's RAM for DMA as the virtio-pci driver does for each VM (`VmDmaMap`: at IOVA = the daemon's
   * host address of the region where the IOMMU allows it, else where the allocator finds room, so several VMs'
   * regions never collide) and translates GPA -> IOVA through that table (`GuestIovaMap`) from now on. While the
   * device is down the table is kept and mapped at the restart. Requests in flight now (the daemon stops, a
   * front-end vanished) are abandoned: their memory is going away, so the device is stopped before it could
   * write there.
   */
  setGuestMemory(regions: readonly DmaRegion[]): void {
    if (this.#state === "closed") return;
    if (this.#state === "ready" && (this.#ring?.inflight ?? 0) > 0) {
      this.#fail("the guest memory table changed with requests in flight", false);
    }
    this.#guest = new GuestIovaMap(this.#dma.set(regions));
    if (this.#ring !== null) this.#ring.guest = this.#guest;
  }

  /** The guest regions mapped for the device now, as `[gpa, end, iova]` (logs, tests). */
  get guestMappings(): readonly (readonly [number, number, number])[] {
    return this.#guest.entries;
  }

  /** Fault injection for tests and drills: a function-level reset behind the engine's back. */
  injectReset(): void {
    this.#port.resetFunction();
  }

  /** Stops the rings, unmaps guest RAM, releases the VF; requests in flight are abandoned. Idempotent. */
  close(): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#monitor.idle();
    this.#detach();
    this.#dma.clear();
    this.#device.close();
    if (this.#options.ownsPort) this.#port.close();
  }
}
