/**
 * `QatHost`: a QAT gen4 VF on the main thread, shared by the VMs' threads the way `VirtioPciHost` shares a
 * virtio-crypto function. The VFIO side stays here (`QatDevice`: reset, PF mailbox, ring pair configuration,
 * MSI-X, health, stop and restart), and so does each VM's guest RAM in the VFIO container, at IOVAs of its own
 * (`VmDmaMap`), so one VM's requests can never name another's memory.
 *
 * Each VM that attaches gets a ring pair of its own (one per symmetric bundle the PF gave the VF) as a ticket
 * (`QatVmTicket`): plain numbers its thread's `QatClient` drives without any VFIO call. Sessions are content
 * descriptors in that ring pair's scratch area, made on the VM's thread: no session call crosses threads. VMs
 * past the ring pairs are served in software (logged once per VM, counted as `softwareVms`): sharing a ring
 * pair between threads would need a lock on its tail and its slots on every request.
 *
 * Failure: a VM's thread reports one (a request without an answer, a broken response ring), or the host's own
 * watchdog finds the function gone or reset while requests are in flight. The host stops the device (arbiter,
 * ring pair reset, bus mastering off), unmaps every VM's guest RAM, and tells every VM with a ring pair (`down`):
 * each takes the responses already written, gives the rest back with `ENGINE_FAILED` (its router runs them in
 * software: none is lost) and says it let go. Once all have, a VM's new session restarts the device (at most every
 * `retryMs`), and every VM gets its ring pair of the new epoch (`up`).
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { type Capabilities, EngineError } from "../../engine/mod.ts";
import { capabilitiesToWire, VmDmaMap } from "../virtio_pci/mod.ts";
import { BUNDLES } from "./csr.ts";
import { QatDevice } from "./device.ts";
import { qatCapabilities, type ResolvedQatOptions, resolveQatOptions, shapeOf } from "./engine_options.ts";
import {
  QAT_EPOCH_WORD,
  QAT_INFLIGHT_WORD,
  QAT_SESSIONS_WORD,
  QAT_STATE_WORD,
  type QatAccelEvent,
  type QatGrant,
  type QatHostOptions,
  type QatHostStats,
  type QatVmControl,
  type QatVmTicket,
} from "./host_types.ts";
import { QatLifecycle } from "./lifecycle.ts";
import type { QatPort } from "./port.ts";
import { ticketToWire } from "./ticket.ts";

const log = getLogger(["cryptobridge", "accel"]);

/** What the host keeps of one VM. */
interface QatVmRecord {
  readonly id: number;
  readonly name: string;
  readonly events: (e: QatAccelEvent) => void;
  readonly dma: VmDmaMap;
  readonly quota: number | null;
  readonly counters: Int32Array;
  /** Its ring pair (an index into the device's tickets), or null: served in software. */
  readonly ring: number | null;
  /** It let go of its ring pair after the last failure (or has none yet). */
  released: boolean;
}

/** A QAT VF, owned by the main thread, a ring pair per VM thread. */
export class QatHost {
  readonly name: string;
  readonly #port: QatPort;
  readonly #device: QatDevice;
  readonly #options: ResolvedQatOptions;
  readonly #completions: "interrupt" | "poll";
  readonly #caps: Capabilities;
  readonly #vms = new Map<number, QatVmRecord>();
  readonly #shared = new Int32Array(new SharedArrayBuffer(8));
  readonly #loggedSoftware = new Set<string>();
  readonly #watchdog: ReturnType<typeof setInterval>;
  readonly #life: QatLifecycle;
  #softwareVms = 0;
  #nextVm = 1;
  /** Idle watchdog ticks between two health checks, and the ticks since the last. */
  readonly #idleTicks: number;
  #ticksIdle = 0;

  private constructor(
    port: QatPort,
    device: QatDevice,
    options: ResolvedQatOptions,
    host: { readonly poll: boolean; readonly idleHealthMs: number },
  ) {
    this.name = `qat-gen4 ${port.name}`;
    this.#port = port;
    this.#device = device;
    this.#options = options;
    // A VM's thread may consume only its own bundle's eventfd: with a shared vector, every thread polls.
    this.#completions = !host.poll && device.vectorPerBundle ? "interrupt" : "poll";
    this.#idleTicks = Math.max(1, Math.round(host.idleHealthMs / options.watchdogMs));
    this.#caps = qatCapabilities(`Intel QAT gen4 VF ${port.name}`);
    this.#life = new QatLifecycle(this.name, device, options.retryMs);
    this.#publish();
    this.#watchdog = setInterval(() => this.#watch(), options.watchdogMs);
    Deno.unrefTimer(this.#watchdog);
  }

  /**
   * Brings the VF up with as many ring pairs as it has symmetric bundles (or `ringPairs`).
   *
   * @param port The VF (from `openQatVfioPort`, or a model).
   * @param options Sizes, timeouts, polling, ring pairs.
   * @returns The host, ready.
   * @throws QatError, VfioError: the VF cannot be driven (the port is closed when owned).
   */
  static open(port: QatPort, options: QatHostOptions = {}): QatHost {
    const { poll, ringPairs, reactor: _reactor, idleHealthMs = 1000, ...engine } = options;
    const resolved = resolveQatOptions({ ...engine, completions: "poll" });
    try {
      const device = QatDevice.open(port, {
        shape: shapeOf(resolved),
        interrupts: poll !== true,
        ringPairs: Math.max(1, Math.min(ringPairs ?? BUNDLES, BUNDLES)),
      });
      return new QatHost(port, device, resolved, { poll: poll === true, idleHealthMs });
    } catch (e) {
      if (resolved.ownsPort) port.close();
      throw e;
    }
  }

  /** What the VF serves. */
  capabilities(): Capabilities {
    return this.#caps;
  }

  /** `ready`, `failed` or `closed`. */
  get state(): string {
    return this.#life.state;
  }

  /**
   * Attaches a VM: a ring pair of its own while one is free, else software (logged once for the VM).
   *
   * @param name The VM's name, for logs.
   * @param events How the host tells the VM's client that the device went down or came back.
   * @param quota Sessions the VM may hold, or null for its ring pair's room.
   * @returns The ticket the VM's client starts from.
   */
  attach(name: string, events: (e: QatAccelEvent) => void, quota: number | null = null): QatVmTicket {
    const ring = this.#freeRing();
    const vm: QatVmRecord = {
      id: this.#nextVm++,
      name,
      events,
      dma: new VmDmaMap(this.#port.dma, name),
      quota,
      counters: new Int32Array(new SharedArrayBuffer(8)),
      ring,
      released: true,
    };
    this.#vms.set(vm.id, vm);
    if (ring === null) {
      this.#softwareVms++;
      if (!this.#loggedSoftware.has(name)) {
        this.#loggedSoftware.add(name);
        log.warn("accelerator {name}: its {n} ring pairs are taken: VM {vm} is served in software", {
          name: this.name,
          n: this.#device.tickets.length,
          vm: name,
        });
      }
    }
    const grant = this.#take(vm);
    return {
      kind: "qat-gen4-vf",
      vm: vm.id,
      name,
      capabilities: capabilitiesToWire(this.#caps),
      state: this.#shared.buffer as SharedArrayBuffer,
      counters: vm.counters.buffer as SharedArrayBuffer,
      grant,
      software: ring === null,
      completions: this.#completions,
      requestTimeoutMs: this.#options.requestTimeoutMs,
      watchdogMs: this.#options.watchdogMs,
      retryMs: this.#options.retryMs,
      quota,
    };
  }

  #freeRing(): number | null {
    const used = new Set([...this.#vms.values()].map((v) => v.ring));
    const free = this.#device.tickets.findIndex((_, i) => !used.has(i));
    return free < 0 ? null : free;
  }

  // The VM's ring pair of the current epoch, handed over (null while the device is down).
  #take(vm: QatVmRecord): QatGrant | null {
    const ticket = vm.ring === null ? undefined : this.#device.tickets[vm.ring];
    if (this.#life.state !== "ready" || ticket === undefined) return null;
    vm.released = false;
    return { epoch: this.#device.epoch, ring: ticketToWire(ticket), guest: vm.dma.entries };
  }

  /**
   * What a VM's thread's calls are answered with.
   *
   * @param id The VM's number (`QatVmTicket.vm`).
   * @returns Its control.
   */
  control(id: number): QatVmControl {
    const vm = (): QatVmRecord => {
      const v = this.#vms.get(id);
      if (v === undefined) throw new EngineError("unavailable", `Cannot serve VM ${id}: it is not attached`);
      if (this.#life.state === "closed") {
        throw new EngineError("unavailable", "Cannot serve: the QAT is closed");
      }
      return v;
    };
    return {
      mapMemory: (regions) => vm().dma.set(regions),
      reportFailure: (reason, epoch) => {
        if (epoch === this.#device.epoch) this.#fail(`VM ${vm().name}: ${reason}`);
      },
      detached: () => {
        vm().released = true;
      },
      // Also when another VM's session restarted the device and this VM's `up` event is still on its way: the
      // grant is the same, and the client ignores the event for an epoch it already drives.
      restart: () => {
        const v = vm();
        this.#maybeRestart(v);
        return this.#take(v);
      },
    };
  }

  /**
   * A VM went away: its guest RAM unmapped, its ring pair reset for the next VM. One whose thread died with
   * requests on its ring pair stops the device first, so nothing writes that VM's memory any more.
   *
   * @param id The VM's number.
   * @param clean Whether its thread stopped (rather than died).
   */
  detach(id: number, clean = true): void {
    const vm = this.#vms.get(id);
    if (vm === undefined) return;
    if (!clean && !vm.released && Atomics.load(vm.counters, QAT_INFLIGHT_WORD) > 0) {
      this.#fail(`VM ${vm.name} went away with requests on its ring pair`);
    }
    this.#vms.delete(id);
    vm.dma.clear();
    if (vm.ring === null || this.#life.state !== "ready") return; // a restart resets every ring pair
    try {
      this.#device.renew(vm.ring);
    } catch (e) {
      this.#fail(`ring pair ${vm.ring} cannot be reset: ${(e as Error).message}`);
    }
  }

  #publish(): void {
    Atomics.store(this.#shared, QAT_EPOCH_WORD, this.#device.epoch);
    Atomics.store(this.#shared, QAT_STATE_WORD, this.#life.state === "ready" ? 1 : 0);
  }

  // While any VM has requests on its ring pair, the function is checked every watchdogMs (each VM's thread
  // times its own requests out); while none has, every idleHealthMs, so a reset or a PF notice while idle shows
  // in `status` and sends the VMs' sessions to software before their next request, not at it.
  #watch(): void {
    if (this.#life.state !== "ready") return;
    const busy = [...this.#vms.values()].some((vm) => Atomics.load(vm.counters, QAT_INFLIGHT_WORD) > 0);
    if (!busy && ++this.#ticksIdle < this.#idleTicks) return;
    this.#ticksIdle = 0;
    const problem = this.#device.health();
    if (problem !== null) this.#fail(problem);
  }

  #fail(reason: string): void {
    if (!this.#life.fail(reason)) return; // the device is stopped: nothing writes memory after this
    this.#publish();
    const epoch = this.#device.epoch;
    for (const vm of this.#vms.values()) {
      vm.dma.suspend(); // kept for the restart
      if (!vm.released) vm.events({ kind: "down", epoch });
    }
  }

  // A restart only once every VM let go of its ring pair: the restart rewrites the rings they read.
  #maybeRestart(caller: QatVmRecord): void {
    if ([...this.#vms.values()].some((v) => !v.released) || !this.#life.restart()) return;
    this.#publish();
    for (const vm of this.#vms.values()) {
      vm.dma.resume();
      if (vm === caller || vm.ring === null) continue;
      const grant = this.#take(vm);
      if (grant !== null) vm.events({ kind: "up", ...grant });
    }
  }

  /** A snapshot of the counters. */
  stats(): QatHostStats {
    const vms = [...this.#vms.values()];
    const tickets = this.#device.tickets;
    return {
      kind: "qat-gen4-vf",
      state: this.#life.state,
      epoch: this.#device.epoch,
      failures: this.#life.failures,
      lastFailure: this.#life.lastFailure,
      refused: [],
      queues: tickets.length,
      ringPairs: this.#life.state === "ready" ? vms.filter((v) => v.ring !== null).length : 0,
      services: [...this.#device.services],
      sessions: vms.reduce((n, v) => n + Atomics.load(v.counters, QAT_SESSIONS_WORD), 0),
      capacity: null,
      softwareVms: this.#softwareVms,
      vms: vms.map((v) => ({
        name: v.name,
        queue: v.ring === null ? null : (tickets[v.ring]?.bundle ?? null),
        shared: false,
        sessions: Atomics.load(v.counters, QAT_SESSIONS_WORD),
        inflight: Atomics.load(v.counters, QAT_INFLIGHT_WORD),
      })),
    };
  }

  /** Fault injection: a function-level reset behind the host's back (tests, drills). */
  injectReset(): void {
    this.#port.resetFunction();
  }

  /** Stops the rings, unmaps every VM's RAM, releases the VF (after every VM thread stopped). Idempotent. */
  close(): void {
    if (!this.#life.close()) return;
    this.#publish();
    clearInterval(this.#watchdog);
    for (const vm of this.#vms.values()) vm.dma.clear();
    this.#device.close();
    if (this.#options.ownsPort) this.#port.close();
  }
}
