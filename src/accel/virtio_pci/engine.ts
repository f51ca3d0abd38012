/**
 * `VirtioPciEngine`: a user-space driver for a virtio-crypto PCI function (the role DPDK's crypto_virtio plays),
 * as a `CryptoEngine`. Sessions go to the device's control queue; requests to its data queue, pointing at guest
 * RAM by IOVA = GPA; completions arrive on an MSI-X eventfd in the daemon's reactor (or by polling).
 *
 * Asynchronous: `submit` returns `PENDING` and calls `op.complete` later. It answers `ENGINE_FAILED` (now or at
 * completion) whenever the device cannot do what it accepted, so the router re-runs the request in software and
 * the guest sees success.
 *
 * Failures: the engine notices a device that was reset, set DEVICE_NEEDS_RESET or vanished (status all-ones, VFIO
 * errors) through (1) the configuration-change interrupt, (2) a watchdog that runs while requests are in flight
 * (every `watchdogMs`: completions missed, `device_status` read through VFIO, requests older than
 * `requestTimeoutMs`), (3) the status read before every control request, and (4) errors of its own register
 * writes. `DeviceRuntime` then resets the device, unmaps guest RAM and gives every request in flight back with
 * `ENGINE_FAILED`. New sessions get `EngineError("unavailable")` (software) until a restart works: one is tried,
 * at most every `retryMs`, when a session is created. Sessions made before the failure stay in software for good
 * (the device lost them, and the engine never keeps keys).
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
import { Status } from "../../spec/virtio_crypto.ts";
import { EPOLLIN, type Reactor } from "../../os/mod.ts";
import { capabilitiesFromConfig, chainProbe, type Probe, probeList, withoutRefused } from "./device_caps.ts";
import { controlAreaSize } from "./control.ts";
import { dataAreaSize, type Finish } from "./data_path.ts";
import {
  type EngineState,
  queueShape,
  type ResolvedOptions,
  resolveOptions,
  sessionSignature,
  type VirtioPciEngineOptions,
  type VirtioPciStats,
} from "./engine_options.ts";
import { EngineMonitor } from "./monitor.ts";
import type { MsixPort, VirtioPciPort } from "./port.ts";
import { DeviceRuntime, type RuntimeParts } from "./runtime.ts";
import { AccelSession } from "./session.ts";
import { checkSession } from "./session_checks.ts";
import { CONFIG_VECTOR, DATA_VECTOR, handshake } from "./start.ts";

const log = getLogger(["cryptobridge", "accel"]);

/** The virtio-crypto accelerator engine. */
export class VirtioPciEngine implements CryptoEngine {
  readonly name: string;
  readonly #port: VirtioPciPort;
  readonly #options: ResolvedOptions;
  readonly #reactor: Reactor | null;
  readonly #msix: MsixPort | null;
  readonly #tokens: number[] = [];
  readonly #runtime: DeviceRuntime;
  readonly #monitor: EngineMonitor;
  readonly #accepted = new Set<string>();
  readonly #onFinish: Finish = (op, session, status) => this.#finish(op, session, status);
  // One kick for the requests of one batch (a `DataQueue.serve()`): made once, not per batch.
  readonly #flushTask = (): void => {
    this.#flushScheduled = false;
    this.flush();
  };
  #caps: Capabilities;
  #flushScheduled = false;
  #closed = false;
  #counts = { sessions: 0, completed: 0, failed: 0, declined: 0 };
  #refused: string[] = [];

  private constructor(
    parts: Omit<RuntimeParts, "finish" | "onDown" | "name">,
    options: ResolvedOptions,
    irq: { readonly reactor: Reactor | null; readonly msix: MsixPort | null },
  ) {
    this.name = `virtio-crypto ${parts.port.name}`;
    this.#port = parts.port;
    this.#options = options;
    this.#reactor = irq.reactor;
    this.#msix = irq.msix;
    this.#caps = capabilitiesFromConfig(parts.handshake.config, this.name);
    this.#monitor = new EngineMonitor({
      periodMs: options.watchdogMs,
      tick: () => this.#watch(),
      poll: options.completions === "poll" ? () => this.#pollLoop() : null,
    });
    const onDown = (): void => this.#monitor.idle();
    this.#runtime = new DeviceRuntime({ ...parts, name: this.name, finish: this.#onFinish, onDown });
  }

  /**
   * Starts the device and returns the engine: handshake, DMA areas (high in IOVA space), MSI-X into the reactor,
   * queues, DRIVER_OK, and the probe of what it advertises.
   *
   * @param port The function (from `openVfioPort`, or a test model).
   * @param options Completion mode, sizes, timeouts.
   * @returns The engine, ready.
   * @throws VirtioPciError `not-ready`, VfioError: the device cannot be driven (the port is closed if owned).
   */
  static open(port: VirtioPciPort, options: VirtioPciEngineOptions = {}): VirtioPciEngine {
    const resolved = resolveOptions(options);
    const undo: (() => void)[] = [];
    try {
      const h = handshake(port.transport);
      const reactor = resolved.completions === "interrupt" ? options.reactor! : null;
      const msix = reactor === null ? null : port.enableMsix(2);
      if (msix !== null) undo.push(() => msix.close());
      port.setBusMaster(true);
      const shape = queueShape(h, resolved);
      const control = port.dma.allocate(controlAreaSize(h.config.maxCipherKeyLen + h.config.maxAuthKeyLen));
      undo.push(() => port.dma.free(control));
      const data = port.dma.allocate(dataAreaSize({ ...shape.data, vector: 0 }));
      undo.push(() => port.dma.free(data));
      const parts = {
        port,
        handshake: h,
        areas: { control, data },
        shape,
        vectors: msix !== null,
        controlTimeoutMs: resolved.controlTimeoutMs,
        retryMs: resolved.retryMs,
      };
      const engine = new VirtioPciEngine(parts, resolved, { reactor, msix });
      undo.push(() => engine.#unregister());
      engine.#runtime.start();
      engine.#register();
      if (resolved.probe) engine.#probe();
      return engine;
    } catch (e) {
      for (const step of undo.reverse()) step();
      try {
        port.transport.reset();
      } catch {
        // the error that got us here says more
      }
      if (resolved.ownsPort) port.close();
      throw e;
    }
  }

  /** Where the engine is: `ready`, `failed` (sessions go to software) or `closed`. */
  get state(): EngineState {
    return this.#closed ? "closed" : this.#runtime.state;
  }

  /** A snapshot of the counters. */
  stats(): VirtioPciStats {
    const r = this.#runtime;
    return {
      state: this.state,
      epoch: r.epoch,
      ...this.#counts,
      inflight: r.queues?.data.inflight ?? 0,
      bounced: r.bounced,
      failures: r.failures,
      lastFailure: r.lastFailure,
      refused: [...this.#refused],
    };
  }

  capabilities(): Capabilities {
    return this.#caps;
  }

  createSession(params: SessionParams): EngineSession {
    if (this.#closed) throw new EngineError("unavailable", "Cannot create session: the engine is closed");
    checkSession(this.#caps, params);
    const r = this.#runtime;
    r.maybeRestart();
    const queues = r.state === "ready" && r.checkHealth() ? r.queues : null;
    if (queues === null) {
      throw new EngineError("unavailable", `Cannot create session: ${r.lastFailure ?? "the device is down"}`);
    }
    const key = sessionSignature(params);
    let id: bigint;
    try {
      id = queues.control.create(params, key);
    } catch (e) {
      throw this.#refusal(e, key);
    }
    this.#accepted.add(key);
    this.#counts.sessions++;
    return new AccelSession(this, params, id, r.epoch);
  }

  // A device that accepted these exact parameters before and answers ERR now is out of room: QEMU's built-in
  // back-end answers a full session table (256) with ERR, not NOSPC.
  #refusal(e: unknown, key: string): EngineError {
    if (e instanceof EngineError) {
      if (e.kind !== "invalid" || !this.#accepted.has(key)) return e;
      return new EngineError("nospc", `${e.message}: taken as a full session table`, { cause: e });
    }
    const why = (e as Error).message;
    this.#runtime.fail(`control queue: ${why}`);
    return new EngineError("unavailable", `Cannot create session: ${why}`, { cause: e });
  }

  closeSession(session: EngineSession): void {
    const s = session as AccelSession;
    if (!(s instanceof AccelSession) || s.engine !== this || s.closed) return;
    s.closed = true;
    this.#counts.sessions--;
    if (s.epoch !== this.#runtime.epoch || this.#runtime.state !== "ready") return; // the device forgot it
    if (s.inflight > 0) s.destroyPending = true;
    else this.#destroy(s);
  }

  #destroy(s: AccelSession): void {
    try {
      const status = this.#runtime.queues!.control.destroy(s.params.service, s.deviceId);
      if (status !== Status.OK) {
        log.warn("device session {id}: destroy answered {status}", { id: s.deviceId, status });
      }
    } catch (e) {
      this.#runtime.fail(`control queue: ${(e as Error).message}`);
    }
  }

  submit(op: CryptoOp): number {
    const s = op.session as AccelSession | null;
    if (!(s instanceof AccelSession) || s.engine !== this || s.closed) return Status.INVSESS;
    const queues = this.#runtime.queues;
    if (queues === null || s.epoch !== this.#runtime.epoch) return ENGINE_FAILED;
    const status = queues.data.submit(op, s);
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

  /** Publishes submitted requests and notifies the device (batched automatically except in "caller" mode). */
  flush(): void {
    const queues = this.#runtime.queues;
    if (queues === null) return;
    try {
      queues.data.flush();
    } catch (e) {
      this.#runtime.fail(`notifying the device failed: ${(e as Error).message}`);
    }
  }

  /**
   * Takes the completions the device has posted and completes their operations.
   *
   * @returns How many completed.
   */
  poll(): number {
    const data = this.#runtime.queues?.data;
    if (data === undefined) return 0;
    let n = 0;
    try {
      n = data.reap(this.#onFinish);
    } catch (e) {
      this.#runtime.fail(`the device broke its used ring: ${(e as Error).message}`);
      return 0;
    }
    if (data.unpublished) this.flush(); // backlogged requests took the freed slots
    return n;
  }

  #finish(op: CryptoOp, s: AccelSession, status: number): void {
    s.inflight--;
    if (status === ENGINE_FAILED) this.#counts.failed++;
    else this.#counts.completed++;
    const r = this.#runtime;
    if (s.destroyPending && s.inflight === 0 && s.epoch === r.epoch && r.state === "ready") {
      s.destroyPending = false;
      this.#destroy(s);
    }
    if ((r.queues?.data.inflight ?? 0) === 0) this.#monitor.idle();
    op.complete(op, status);
  }

  #pollLoop(): boolean {
    this.poll();
    return (this.#runtime.queues?.data.inflight ?? 0) > 0;
  }

  // The watchdog's round: completions (a lost interrupt), the device's status, the oldest request's age.
  #watch(): void {
    this.poll();
    const data = this.#runtime.queues?.data;
    if (data === undefined || data.inflight === 0) return this.#monitor.idle();
    if (!this.#runtime.checkHealth()) return;
    if (performance.now() - data.oldestSubmit() > this.#options.requestTimeoutMs) {
      this.#runtime.fail(`a request got no answer within ${this.#options.requestTimeoutMs} ms`);
    }
  }

  // MSI-X vector 1 completes requests; vector 0 (configuration change) is how a device says DEVICE_NEEDS_RESET.
  #register(): void {
    const reactor = this.#reactor;
    const msix = this.#msix;
    if (reactor === null || msix === null) return;
    const data = msix.eventfd(DATA_VECTOR);
    const config = msix.eventfd(CONFIG_VECTOR);
    this.#tokens.push(reactor.add(data.fd, EPOLLIN, () => {
      data.consume();
      this.poll();
    }));
    this.#tokens.push(reactor.add(config.fd, EPOLLIN, () => {
      config.consume();
      if (this.#runtime.state === "ready") this.#runtime.checkHealth();
    }));
  }

  #unregister(): void {
    for (const token of this.#tokens.splice(0)) this.#reactor?.remove(token);
  }

  // One session per advertised claim, created and destroyed; what the device refuses is not claimed.
  #probe(): void {
    const refused: Probe[] = [];
    const tryProbe = (p: Probe): boolean => {
      try {
        this.closeSession(this.createSession(p.params));
        return true;
      } catch (e) {
        if (!(e instanceof EngineError) || e.kind === "unavailable") throw e;
        return false;
      }
    };
    for (const p of probeList(this.#caps)) if (!tryProbe(p)) refused.push(p);
    const caps = withoutRefused(this.#caps, refused);
    const chain = chainProbe(caps);
    this.#caps = chain === null ? caps : { ...caps, chaining: true };
    if (chain !== null && !tryProbe(chain)) {
      refused.push(chain);
      this.#caps = caps;
    }
    this.#refused = refused.map((p) => p.label);
    if (refused.length > 0) {
      log.warn("accelerator {name} advertises but refuses: {refused}; software serves them", {
        name: this.name,
        refused: this.#refused.join(", "),
      });
    }
  }

  /**
   * Maps the guest's RAM at IOVA = GPA (and unmaps the previous table). Requests in flight at this point (the
   * daemon stops, or a front-end vanished mid-request) are abandoned: their memory is going away, so the device is
   * reset before it could write there, and they are never completed.
   */
  setGuestMemory(regions: readonly DmaRegion[]): void {
    if (!this.#closed) this.#runtime.setRegions(regions);
  }

  /**
   * Fault injection: resets the device behind the engine's back (writes `device_status` = 0 through VFIO, as an
   * FLR or a crashed firmware would). The engine notices as it would notice a real one; for tests and drills.
   */
  injectReset(): void {
    this.#port.injectReset();
  }

  /** Resets the device, unmaps guest RAM, frees DMA memory and MSI-X; requests in flight are abandoned. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#monitor.idle();
    this.#unregister();
    this.#runtime.close();
    this.#msix?.close();
    if (this.#options.ownsPort) this.#port.close();
  }
}
