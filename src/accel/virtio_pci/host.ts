/**
 * `VirtioPciHost`: the virtio-crypto accelerator on the main thread, shared by every VM (issue 10). The VFIO device
 * stays in this one place: the handshake, the DMA areas, MSI-X, the control queue (every VM's sessions, one call at
 * a time), each VM's guest RAM in the IOMMU at IOVAs of its own (`VmDmaMap`), health, failure and restart.
 *
 * Each VM that attaches gets a ticket (`AccelTicket`): the capabilities, the device's shared state word and, while
 * the device has queues to spare, a data queue of its own, which the VM's client drives from the VM's thread
 * (`VirtioPciClient`). Sessions are split by quota: a VM with `accelSessions` set gets that many, the others an
 * equal share of what the device holds once it first says it is full.
 *
 * When the device fails, every VM's client is told (`down`): it takes the completions already posted, gives the
 * rest back to software, lets go of its queue and says so (`detached`). Only when every one has let go is the
 * device restarted (a new session asks for it, at most every `retryMs`), and each client gets its queue back (`up`).
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { type Capabilities, EngineError, type SessionParams } from "../../engine/mod.ts";
import { EPOLLIN, type Reactor } from "../../os/mod.ts";
import type { AccelControl, DeviceSessionRef } from "./control_link.ts";
import type { ControlQueue } from "./control.ts";
import { controlAreaSize } from "./control.ts";
import { dataAreaSize } from "./data_path.ts";
import { capabilitiesFromConfig } from "./device_caps.ts";
import { queueShape, type ResolvedOptions, resolveOptions, sessionSignature } from "./engine_options.ts";
import type { VirtioPciEngineOptions } from "./engine_options.ts";
import { VmDmaMap } from "./guest_dma.ts";
import { probeDevice } from "./host_probe.ts";
import type { DmaArea, MsixPort, VirtioPciPort } from "./port.ts";
import { DeviceRuntime } from "./runtime.ts";
import { checkSession } from "./session_checks.ts";
import { CONFIG_VECTOR, handshake } from "./start.ts";
import {
  type AccelTicket,
  areaToWire,
  capabilitiesToWire,
  INFLIGHT_WORD,
  type QueueTicket,
} from "./ticket.ts";

const log = getLogger(["cryptobridge", "accel"]);

/** What the host tells a VM's client. */
export type AccelEvent =
  | { readonly kind: "down"; readonly epoch: number }
  | { readonly kind: "up"; readonly epoch: number; readonly queue: QueueTicket | null };

/** Options of `VirtioPciHost.open`. */
export interface HostOptions extends VirtioPciEngineOptions {
  /** The main thread's reactor: the configuration vector (and model doorbells) join it. */
  readonly reactor?: Reactor;
  /** Every client runs on this thread: doorbells may be plain calls. Default false. */
  readonly sameThread?: boolean;
}

interface VmRecord {
  readonly id: number;
  readonly name: string;
  readonly events: (e: AccelEvent) => void;
  readonly dma: VmDmaMap;
  readonly sessions: Map<bigint, SessionParams["service"]>;
  readonly quota: number | null;
  readonly counters: Int32Array;
  queue: number | null;
  /** The VM let go of its queue after the last failure. */
  released: boolean;
}

/** The host's counters. */
export interface HostStats {
  readonly state: string;
  readonly epoch: number;
  readonly failures: number;
  readonly lastFailure: string | null;
  readonly refused: readonly string[];
  readonly queues: number;
  readonly sessions: number;
  readonly capacity: number | null;
  readonly vms: readonly { name: string; queue: number | null; sessions: number; inflight: number }[];
}

/** The accelerator, owned by the main thread, shared by the VMs. */
export class VirtioPciHost {
  readonly name: string;
  readonly #port: VirtioPciPort;
  readonly #options: ResolvedOptions;
  readonly #reactor: Reactor | null;
  readonly #sameThread: boolean;
  readonly #msix: MsixPort | null;
  readonly #runtime: DeviceRuntime;
  readonly #areas: readonly DmaArea[];
  readonly #vms = new Map<number, VmRecord>();
  readonly #accepted = new Set<string>();
  readonly #tokens: number[] = [];
  #caps: Capabilities;
  #refused: string[] = [];
  #capacity: number | null = null;
  #nextVm = 1;
  #watchdog: ReturnType<typeof setInterval> | null = null;
  #closed = false;

  private constructor(
    port: VirtioPciPort,
    options: ResolvedOptions & { sameThread: boolean },
    reactor: Reactor | null,
    parts: {
      readonly handshake: ReturnType<typeof handshake>;
      readonly msix: MsixPort | null;
      readonly control: DmaArea;
      readonly data: readonly DmaArea[];
    },
  ) {
    this.name = `virtio-crypto ${port.name}`;
    this.#port = port;
    this.#options = options;
    this.#reactor = reactor;
    this.#sameThread = options.sameThread;
    this.#msix = parts.msix;
    this.#areas = parts.data;
    this.#caps = capabilitiesFromConfig(parts.handshake.config, this.name);
    this.#runtime = new DeviceRuntime({
      name: this.name,
      port,
      handshake: parts.handshake,
      areas: { control: parts.control, data: parts.data },
      shape: queueShape(parts.handshake, options),
      vectors: parts.msix !== null,
      controlTimeoutMs: options.controlTimeoutMs,
      retryMs: options.retryMs,
      onDown: () => this.#down(),
      onUp: (epoch) => this.#up(epoch),
    });
  }

  /**
   * Starts the device: handshake, DMA areas (high in IOVA space), MSI-X (configuration on vector 0, data queue i
   * on 1 + i), every queue, DRIVER_OK, and the probe of what it advertises.
   *
   * @param port The function (from `openVfioPort`, or a test model).
   * @param options Queues, completion mode, sizes, timeouts; the main thread's reactor.
   * @returns The host, ready.
   * @throws VirtioPciError `not-ready`, VfioError: the device cannot be driven (the port is closed if owned).
   */
  static open(port: VirtioPciPort, options: HostOptions = {}): VirtioPciHost {
    // Interrupts unless told otherwise: the data vectors' eventfds go to the VMs' reactors, not the host's.
    const resolved = resolveOptions({ ...options, completions: options.completions ?? "interrupt" });
    const undo: (() => void)[] = [];
    try {
      const h = handshake(port.transport);
      const shape = queueShape(h, resolved);
      const msix = resolved.completions === "interrupt" ? port.enableMsix(1 + shape.dataQueues) : null;
      if (msix !== null) undo.push(() => msix.close());
      port.setBusMaster(true);
      const control = port.dma.allocate(controlAreaSize(h.config.maxCipherKeyLen + h.config.maxAuthKeyLen));
      undo.push(() => port.dma.free(control));
      const data: DmaArea[] = [];
      for (let i = 0; i < shape.dataQueues; i++) {
        const area = port.dma.allocate(dataAreaSize({ ...shape.data, index: i, vector: 0 }));
        data.push(area);
        undo.push(() => port.dma.free(area));
      }
      const host = new VirtioPciHost(
        port,
        { ...resolved, sameThread: options.sameThread ?? false },
        options.reactor ?? null,
        {
          handshake: h,
          msix,
          control,
          data,
        },
      );
      host.#runtime.start();
      host.#register();
      if (resolved.probe) host.#probe();
      return host;
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

  /** What the device serves (after the probe). */
  capabilities(): Capabilities {
    return this.#caps;
  }

  /** `ready`, `failed` or `closed`. */
  get state(): string {
    return this.#closed ? "closed" : this.#runtime.state;
  }

  /**
   * Attaches a VM: files its sessions and mappings under a new number and gives it a data queue of its own when
   * one is free.
   *
   * @param name The VM's name, for logs.
   * @param events How the host tells the VM's client that the device went down or came back.
   * @param quota Accelerator sessions the VM may hold, or null for an equal share.
   * @returns The ticket the VM's client starts from.
   */
  attach(name: string, events: (e: AccelEvent) => void, quota: number | null = null): AccelTicket {
    const id = this.#nextVm++;
    const used = new Set([...this.#vms.values()].map((v) => v.queue));
    const free = this.#areas.findIndex((_, i) => !used.has(i));
    const vm: VmRecord = {
      id,
      name,
      events,
      dma: new VmDmaMap(this.#port.dma, name),
      sessions: new Map(),
      quota,
      counters: new Int32Array(new SharedArrayBuffer(8)),
      queue: free < 0 ? null : free,
      released: true,
    };
    this.#vms.set(id, vm);
    if (vm.queue === null) {
      log.warn("accelerator {name}: no data queue left for VM {vm}: it is served in software", {
        name: this.name,
        vm: name,
      });
    }
    return this.#ticket(vm);
  }

  #ticket(vm: VmRecord): AccelTicket {
    return {
      vm: vm.id,
      name: vm.name,
      capabilities: capabilitiesToWire(this.#caps),
      state: this.#runtime.shared,
      counters: vm.counters.buffer as SharedArrayBuffer,
      queue: this.#queueTicket(vm),
      completions: this.#options.completions === "interrupt" ? "interrupt" : "poll",
      requestTimeoutMs: this.#options.requestTimeoutMs,
      watchdogMs: this.#options.watchdogMs,
    };
  }

  #queueTicket(vm: VmRecord): QueueTicket | null {
    const i = vm.queue;
    if (i === null || this.#runtime.state !== "ready") return null;
    vm.released = false;
    return {
      index: i,
      area: areaToWire(this.#areas[i]!),
      options: this.#runtime.dataOptions(i),
      doorbell: this.#port.doorbell(i, this.#sameThread ? null : this.#reactor),
      irqFd: this.#msix === null ? null : this.#msix.eventfd(1 + i).fd,
    };
  }

  /**
   * The direct control of a VM (the same thread), or what a VM's Worker's calls are answered with.
   *
   * @param id The VM's number (`AccelTicket.vm`).
   * @returns Its control.
   */
  control(id: number): AccelControl {
    const vm = (): VmRecord => {
      const v = this.#vms.get(id);
      if (v === undefined) throw new EngineError("unavailable", `Cannot serve VM ${id}: it is not attached`);
      return v;
    };
    return {
      createSession: (params) => this.#createSession(vm(), params),
      destroySession: (service, ref) => this.#destroySession(vm(), service, ref),
      mapMemory: (regions) => vm().dma.set(regions),
      reportFailure: (reason, epoch) => {
        if (epoch === this.#runtime.epoch) this.#runtime.fail(`VM ${vm().name}: ${reason}`);
      },
      detached: () => {
        vm().released = true;
      },
    };
  }

  #createSession(vm: VmRecord, params: SessionParams): DeviceSessionRef {
    if (this.#closed) {
      throw new EngineError("unavailable", "Cannot create session: the accelerator is closed");
    }
    checkSession(this.#caps, params);
    const quota = this.#quotaOf(vm);
    if (quota !== null && vm.sessions.size >= quota) {
      throw new EngineError("quota", `Cannot create session: VM ${vm.name} holds its share (${quota})`);
    }
    const control = this.#readyControl();
    const key = sessionSignature(params);
    let id: bigint;
    try {
      id = control.create(params, key);
    } catch (e) {
      throw this.#refusal(e, key);
    }
    this.#accepted.add(key);
    vm.sessions.set(id, params.service);
    return { id, epoch: this.#runtime.epoch };
  }

  #quotaOf(vm: VmRecord): number | null {
    if (vm.quota !== null) return vm.quota;
    if (this.#capacity === null || this.#vms.size < 2) return null; // one VM: the device's own limit (nospc)
    return Math.max(1, Math.floor(this.#capacity / this.#vms.size));
  }

  #readyControl(): ControlQueue {
    const r = this.#runtime;
    if (r.state === "failed" && r.mayRestart && [...this.#vms.values()].every((v) => v.released)) r.restart();
    const control = r.state === "ready" && r.checkHealth() ? r.control : null;
    if (control === null) {
      throw new EngineError("unavailable", `Cannot create session: ${r.lastFailure ?? "the device is down"}`);
    }
    return control;
  }

  // A device that accepted these exact parameters before and answers ERR now is out of room: QEMU's built-in
  // back-end answers a full session table (256) with ERR, not NOSPC. That count is its capacity, shared by VMs.
  #refusal(e: unknown, key: string): EngineError {
    if (e instanceof EngineError) {
      if (e.kind !== "invalid" || !this.#accepted.has(key)) return e;
      this.#capacity ??= [...this.#vms.values()].reduce((n, v) => n + v.sessions.size, 0);
      return new EngineError("nospc", `${e.message}: taken as a full session table`, { cause: e });
    }
    const why = (e as Error).message;
    this.#runtime.fail(`control queue: ${why}`);
    return new EngineError("unavailable", `Cannot create session: ${why}`, { cause: e });
  }

  #destroySession(vm: VmRecord, service: SessionParams["service"], ref: DeviceSessionRef): void {
    vm.sessions.delete(ref.id);
    const control = this.#runtime.control;
    if (ref.epoch !== this.#runtime.epoch || control === null) return; // the device forgot it
    try {
      const status = control.destroy(service, ref.id);
      if (status !== 0) log.warn("device session {id}: destroy answered {status}", { id: ref.id, status });
    } catch (e) {
      this.#runtime.fail(`control queue: ${(e as Error).message}`);
    }
  }

  /**
   * A VM went away (its front-end's thread ended, or it was removed): its sessions are destroyed, its guest RAM
   * unmapped, its queue freed. A VM whose thread died with requests on its queue cannot say it let go: the device
   * is reset, so nothing writes that VM's memory any more (the other VMs' requests go to software once).
   *
   * @param id The VM's number.
   * @param clean Whether its client let go of its queue.
   */
  detach(id: number, clean = true): void {
    const vm = this.#vms.get(id);
    if (vm === undefined) return;
    if (!clean && vm.queue !== null && Atomics.load(vm.counters, INFLIGHT_WORD) > 0) {
      this.#runtime.fail(`VM ${vm.name} went away with requests on its queue`);
    }
    for (const [sid, service] of vm.sessions) {
      this.#destroySession(vm, service, { id: sid, epoch: this.#runtime.epoch });
    }
    vm.dma.clear();
    this.#vms.delete(id);
  }

  #down(): void {
    for (const vm of this.#vms.values()) {
      vm.dma.suspend();
      vm.sessions.clear(); // the device forgot them; the clients' sessions stay in software
      if (vm.queue !== null && !vm.released) vm.events({ kind: "down", epoch: this.#runtime.epoch });
    }
  }

  #up(epoch: number): void {
    for (const vm of this.#vms.values()) {
      vm.dma.resume();
      if (epoch > 1) vm.events({ kind: "up", epoch, queue: this.#queueTicket(vm) });
    }
  }

  #register(): void {
    this.#watchdog = setInterval(() => this.#watch(), this.#options.watchdogMs);
    Deno.unrefTimer(this.#watchdog);
    const reactor = this.#reactor;
    const msix = this.#msix;
    if (reactor === null || msix === null) return;
    const config = msix.eventfd(CONFIG_VECTOR);
    this.#tokens.push(reactor.add(config.fd, EPOLLIN, () => {
      config.consume();
      this.#runtime.checkHealth();
    }));
  }

  // While any VM has requests on the device, its status is read every watchdogMs (the VMs' threads time out
  // single requests themselves).
  #watch(): void {
    if (this.#runtime.state !== "ready") return;
    for (const vm of this.#vms.values()) {
      if (Atomics.load(vm.counters, INFLIGHT_WORD) > 0) {
        this.#runtime.checkHealth();
        return;
      }
    }
  }

  #probe(): void {
    const result = probeDevice(this.#caps, (params) => {
      const control = this.#readyControl();
      control.destroy(params.service, control.create(params, sessionSignature(params)));
    });
    this.#caps = result.caps;
    this.#refused = result.refused;
    if (this.#refused.length > 0) {
      log.warn("accelerator {name} advertises but refuses: {refused}; software serves them", {
        name: this.name,
        refused: this.#refused.join(", "),
      });
    }
  }

  /** A snapshot of the counters. */
  stats(): HostStats {
    const vms = [...this.#vms.values()];
    return {
      state: this.state,
      epoch: this.#runtime.epoch,
      failures: this.#runtime.failures,
      lastFailure: this.#runtime.lastFailure,
      refused: [...this.#refused],
      queues: this.#areas.length,
      sessions: vms.reduce((n, v) => n + v.sessions.size, 0),
      capacity: this.#capacity,
      vms: vms.map((v) => ({
        name: v.name,
        queue: v.queue,
        sessions: v.sessions.size,
        inflight: Atomics.load(v.counters, INFLIGHT_WORD),
      })),
    };
  }

  /**
   * Fault injection: resets the device behind the host's back (`device_status` = 0 through VFIO, as an FLR or a
   * crashed firmware would). It is noticed as a real one would be; for tests and drills.
   */
  injectReset(): void {
    this.#port.injectReset();
  }

  /** Resets the device, unmaps every VM's RAM, frees DMA memory and MSI-X. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#watchdog !== null) clearInterval(this.#watchdog);
    for (const token of this.#tokens.splice(0)) this.#reactor?.remove(token);
    for (const vm of this.#vms.values()) vm.dma.clear();
    this.#runtime.close();
    this.#msix?.close();
    if (this.#options.ownsPort) this.#port.close();
  }
}
