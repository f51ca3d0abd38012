/**
 * `QatEngine`: a QAT gen4 VF as a `CryptoEngine`, composing the device side (`QatDevice`) and one ring pair's
 * data path (`QatRingDriver`, which a VM thread's `QatClient` shares) in one thread: what the self-test and an
 * embedder's inline daemon use; the daemon's VM threads each take a ring pair's ticket from `QatHost` instead.
 * Like `VirtioPciEngine` it is asynchronous (`PENDING`, then `op.complete`), answers `ENGINE_FAILED` for what the
 * hardware path does not cover or could not do (the router runs it in software), and BADMSG for a GCM tag the
 * device found wrong.
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

import {
  type Capabilities,
  type CryptoEngine,
  type CryptoOp,
  type DmaRegion,
  EngineError,
  type EngineSession,
  type SessionParams,
} from "../../engine/mod.ts";
import type { Reactor } from "../../os/mod.ts";
import { checkSession, GuestIovaMap, VmDmaMap } from "../virtio_pci/mod.ts";
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
import { QatLifecycle } from "./lifecycle.ts";
import type { QatPort } from "./port.ts";
import { QatRingDriver } from "./ring_driver.ts";
import type { QatSession } from "./session.ts";

/** The QAT gen4 accelerator engine. */
export class QatEngine implements CryptoEngine {
  readonly name: string;
  readonly #port: QatPort;
  readonly #device: QatDevice;
  readonly #options: ResolvedQatOptions;
  readonly #dma: VmDmaMap;
  readonly #driver: QatRingDriver;
  #guest = new GuestIovaMap();
  readonly #caps: Capabilities;
  readonly #life: QatLifecycle;

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
    this.#dma = new VmDmaMap(port.dma, port.name);
    this.#caps = qatCapabilities(`Intel QAT gen4 VF ${port.name}`);
    this.#life = new QatLifecycle(this.name, device, options.retryMs);
    this.#driver = new QatRingDriver({
      owner: this,
      completions: options.completions,
      reactor,
      requestTimeoutMs: options.requestTimeoutMs,
      watchdogMs: options.watchdogMs,
      onFailure: (reason) => this.#fail(reason),
      check: () => this.#checkHealth(),
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
    this.#driver.attach(ticket, this.#guest, this.#device.eventfdOf(ticket));
  }

  /** `ready`, `failed` (sessions go to software) or `closed`. */
  get state(): QatState {
    return this.#life.state;
  }

  /** A snapshot of the counters. */
  stats(): QatStats {
    const c = this.#driver.counts();
    return {
      state: this.#life.state,
      epoch: this.#device.epoch,
      sessions: c.sessions,
      inflight: this.#driver.inflight,
      completed: c.completed,
      failed: c.failed,
      declined: c.declined,
      bounced: c.bounced,
      doorbells: c.doorbells,
      interrupts: c.interrupts,
      failures: this.#life.failures,
      lastFailure: this.#life.lastFailure,
      refused: [],
      services: [...this.#device.services],
      ringPairs: this.#driver.ring === null ? 0 : 1,
    };
  }

  capabilities(): Capabilities {
    return this.#caps;
  }

  createSession(params: SessionParams): EngineSession {
    if (this.#life.state === "closed") {
      throw new EngineError("unavailable", "Cannot create session: the engine is closed");
    }
    checkSession(this.#caps, params);
    if (this.#life.restart()) this.#resume();
    if (this.#life.state === "ready") this.#checkHealth();
    if (this.#life.state !== "ready" || this.#driver.ring === null) {
      throw new EngineError(
        "unavailable",
        `Cannot create session: ${this.#life.lastFailure ?? "the QAT is down"}`,
      );
    }
    return this.#driver.createSession(params);
  }

  closeSession(session: EngineSession): void {
    this.#driver.closeSession(session as QatSession);
  }

  submit(op: CryptoOp): number {
    return this.#driver.submit(op);
  }

  /** Rings the doorbell for the requests submitted since the last one (batched automatically except "caller"). */
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
    if (!this.#life.fail(reason)) return;
    this.#dma.suspend(); // kept for the restart, at the same IOVAs
    this.#guest = new GuestIovaMap();
    this.#driver.detach(complete);
  }

  // The device restarted: guest RAM mapped again, the new epoch's ring pair driven.
  #resume(): void {
    this.#dma.resume();
    this.#guest = new GuestIovaMap(this.#dma.entries);
    this.#attach();
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
    if (this.#life.state === "closed") return;
    if (this.#life.state === "ready" && this.#driver.inflight > 0) {
      this.#fail("the guest memory table changed with requests in flight", false);
    }
    this.#guest = new GuestIovaMap(this.#dma.set(regions));
    this.#driver.guest = this.#guest;
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
    if (!this.#life.close()) return;
    this.#driver.close();
    this.#dma.clear();
    this.#device.close();
    if (this.#options.ownsPort) this.#port.close();
  }
}
