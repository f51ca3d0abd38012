/**
 * `VirtioPciHost`: the virtio-crypto accelerator on the main thread, shared by every VM (issue 10). The VFIO device
 * stays in this one place: the handshake, the DMA areas, MSI-X, the control queue (every VM's sessions, one call at
 * a time: `SessionBroker`), each VM's guest RAM in the IOMMU at IOVAs of its own (`VmDmaMap`), health, failure and
 * restart.
 *
 * Each VM that attaches gets a ticket (`AccelTicket`): the capabilities, the device's shared state word and either
 * a data queue of its own, which the VM's client drives from the VM's thread (`VirtioPciClient`), or, past the
 * device's queues, a place on the last queue, which the main thread drives for all its members round-robin
 * (`SharedQueueProxy`; the VM's end is `SharedQueueClient`).
 *
 * When the device fails, every client with a queue is told (`down`): it takes what was already posted, gives the
 * rest to software and lets go of its queue (`detached`). Once every one has, a new session restarts the device
 * (at most every `retryMs`) and each client gets its queue back (`up`).
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { type Capabilities, EngineError } from "../../engine/mod.ts";
import { EPOLLIN, type Reactor } from "../../os/mod.ts";
import { VirtioPciClient } from "./client.ts";
import type { VmControl } from "./control_link.ts";
import { capabilitiesFromConfig } from "./device_caps.ts";
import { queueShape, type ResolvedOptions, resolveOptions, sessionSignature } from "./engine_options.ts";
import { VmDmaMap } from "./guest_dma.ts";
import { probeDevice } from "./host_probe.ts";
import { SessionBroker } from "./host_sessions.ts";
import type { AccelEvent, HostOptions, HostStats, VmRecord } from "./host_types.ts";
import type { DmaArea, MsixPort, VirtioPciPort } from "./port.ts";
import { SharedQueueProxy } from "./queue_proxy.ts";
import { DeviceRuntime } from "./runtime.ts";
import { CONFIG_VECTOR } from "./start.ts";
import { allocate, type Parts } from "./host_areas.ts";
import {
  type AccelTicket,
  areaToWire,
  capabilitiesToWire,
  INFLIGHT_WORD,
  type QueueTicket,
} from "./ticket.ts";

export type { AccelEvent, HostOptions, HostStats } from "./host_types.ts";

const log = getLogger(["cryptobridge", "accel"]);

/** The accelerator, owned by the main thread, shared by the VMs. */
export class VirtioPciHost {
  readonly name: string;
  readonly #port: VirtioPciPort;
  readonly #options: ResolvedOptions;
  readonly #reactor: Reactor | null;
  readonly #sameThread: boolean;
  readonly #expectedVms: number;
  readonly #msix: MsixPort | null;
  readonly #runtime: DeviceRuntime;
  readonly #sessions: SessionBroker;
  readonly #areas: readonly DmaArea[];
  readonly #vms = new Map<number, VmRecord>();
  readonly #tokens: number[] = [];
  #proxy: SharedQueueProxy | null = null;
  #proxyClient: VirtioPciClient | null = null;
  #caps: Capabilities;
  #refused: string[] = [];
  #nextVm = 1;
  #watchdog: ReturnType<typeof setInterval> | null = null;
  #closed = false;

  private constructor(port: VirtioPciPort, options: ResolvedOptions, host: HostOptions, parts: Parts) {
    this.name = `virtio-crypto ${port.name}`;
    this.#port = port;
    this.#options = options;
    this.#reactor = host.reactor ?? null;
    this.#sameThread = host.sameThread ?? false;
    this.#expectedVms = host.expectedVms ?? parts.data.length;
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
    this.#sessions = new SessionBroker(
      this.#runtime,
      () => [...this.#vms.values()],
      () => this.#allReleased(),
    );
  }

  /**
   * Starts the device: handshake, DMA areas (high in IOVA space), MSI-X (configuration on vector 0, data queue i
   * on 1 + i), every queue, DRIVER_OK, and the probe of what it advertises.
   *
   * @param port The function (from `openVfioPort`, or a test model).
   * @param options Queues, completion mode, sizes, timeouts; the main thread's reactor; VMs expected.
   * @returns The host, ready.
   * @throws VirtioPciError `not-ready`, VfioError: the device cannot be driven (the port is closed if owned).
   */
  static open(port: VirtioPciPort, options: HostOptions = {}): VirtioPciHost {
    // Interrupts unless told otherwise: the data vectors' eventfds go to the VMs' reactors, not the host's.
    const resolved = resolveOptions({ ...options, completions: options.completions ?? "interrupt" });
    const undo: (() => void)[] = [];
    try {
      const host = new VirtioPciHost(port, resolved, options, allocate(port, resolved, undo));
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
   * Attaches a VM: files its sessions and mappings under a new number and gives it a data queue of its own while
   * the device has one to spare, else a place on the shared queue.
   *
   * @param name The VM's name, for logs.
   * @param events How the host tells the VM's client that the device went down or came back.
   * @param quota Accelerator sessions the VM may hold, or null for an equal share.
   * @returns The ticket the VM's client starts from.
   */
  attach(name: string, events: (e: AccelEvent) => void, quota: number | null = null): AccelTicket {
    const vm = this.#record(name, events, quota);
    const queue = this.#freeQueue();
    if (queue !== null) vm.queue = queue;
    else if (this.#sharedIndex() !== null) vm.sharedQueue = this.#sharedIndex();
    else {log.warn("accelerator {name}: no data queue left for VM {vm}: it is served in software", {
        name: this.name,
        vm: name,
      });}
    return this.#ticket(vm);
  }

  #record(name: string, events: (e: AccelEvent) => void, quota: number | null): VmRecord {
    const vm: VmRecord = {
      id: this.#nextVm++,
      name,
      events,
      dma: new VmDmaMap(this.#port.dma, name),
      sessions: new Map(),
      quota,
      counters: new Int32Array(new SharedArrayBuffer(8)),
      queue: null,
      sharedQueue: null,
      released: true,
    };
    this.#vms.set(vm.id, vm);
    return vm;
  }

  // With more VMs expected than queues, the last queue is kept for sharing.
  #sharedIndex(): number | null {
    const n = this.#areas.length;
    if (this.#expectedVms <= n || this.#reactor === null) return null;
    return n - 1;
  }

  #freeQueue(): number | null {
    const used = new Set([...this.#vms.values()].map((v) => v.queue));
    const shared = this.#sharedIndex();
    if (shared !== null) used.add(shared);
    const free = this.#areas.findIndex((_, i) => !used.has(i));
    return free < 0 ? null : free;
  }

  #ticket(vm: VmRecord): AccelTicket {
    return {
      vm: vm.id,
      name: vm.name,
      capabilities: capabilitiesToWire(this.#caps),
      state: this.#runtime.shared,
      counters: vm.counters.buffer as SharedArrayBuffer,
      queue: this.#queueTicket(vm),
      shared: vm.sharedQueue === null ? null : this.#sharedProxy().join(vm.id),
      completions: this.#options.completions,
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

  // The shared queue's driver: a client of its own on the main thread, and the proxy its members talk to.
  #sharedProxy(): SharedQueueProxy {
    if (this.#proxy !== null) return this.#proxy;
    const owner = this.#record(
      `shared-queue-${this.#sharedIndex()}`,
      (e) => this.#proxyClient?.onEvent(e),
      null,
    );
    owner.queue = this.#sharedIndex();
    const ticket = this.#ticket(owner);
    this.#proxyClient = new VirtioPciClient({
      ticket,
      control: this.control(owner.id),
      reactor: this.#reactor,
    });
    this.#proxy = new SharedQueueProxy(owner.queue!, this.#proxyClient, this.#reactor!);
    return this.#proxy;
  }

  /**
   * The direct control of a VM (the same thread), or what a VM's Worker's calls are answered with.
   *
   * @param id The VM's number (`AccelTicket.vm`).
   * @returns Its control.
   */
  control(id: number): VmControl {
    const vm = (): VmRecord => {
      const v = this.#vms.get(id);
      if (v === undefined) throw new EngineError("unavailable", `Cannot serve VM ${id}: it is not attached`);
      if (this.#closed) throw new EngineError("unavailable", "Cannot serve: the accelerator is closed");
      return v;
    };
    const control: VmControl = {
      createSession: (params) => this.#sessions.create(vm(), this.#caps, params),
      destroySession: (service, ref) => this.#sessions.destroy(vm(), service, ref),
      mapMemory: (regions) => {
        const entries = vm().dma.set(regions);
        if (vm().sharedQueue !== null) this.#proxy?.setGuest(id, entries);
        return entries;
      },
      reportFailure: (reason, epoch) => {
        if (epoch === this.#runtime.epoch) this.#runtime.fail(`VM ${vm().name}: ${reason}`);
      },
      detached: () => {
        vm().released = true;
      },
      createShared: (params) =>
        this.#sharedProxy().createSession(id, params, (p) => {
          const ref = this.#sessions.create(vm(), this.#caps, p);
          return this.#proxyClient!.adoptSession(p, ref, control);
        }),
      closeShared: (handle) => this.#proxy?.closeSession(id, handle),
    };
    return control;
  }

  #allReleased(): boolean {
    return [...this.#vms.values()].every((v) => v.released);
  }

  /**
   * A VM went away (its thread ended, or it was removed): its sessions are destroyed, its guest RAM unmapped, its
   * queue freed. A VM whose thread died with requests on its queue cannot say it let go: the device is reset, so
   * nothing writes that VM's memory any more (the other VMs' requests go to software once).
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
    if (vm.sharedQueue !== null) this.#proxy?.leave(id);
    for (const [sid, service] of vm.sessions) {
      this.#sessions.destroy(vm, service, { id: sid, epoch: this.#runtime.epoch });
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
      if (epoch > 1 && vm.queue !== null) vm.events({ kind: "up", epoch, queue: this.#queueTicket(vm) });
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
      const control = this.#sessions.readyControl();
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
      capacity: this.#sessions.capacity,
      vms: vms.map((v) => ({
        name: v.name,
        queue: v.queue ?? v.sharedQueue,
        shared: v.sharedQueue !== null,
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
    this.#proxy?.close();
    this.#proxyClient?.close();
    for (const vm of this.#vms.values()) vm.dma.clear();
    this.#runtime.close();
    this.#msix?.close();
    if (this.#options.ownsPort) this.#port.close();
  }
}
