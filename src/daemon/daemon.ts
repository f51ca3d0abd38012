/**
 * `runDaemon`: the composition root. It checks every VM's settings and socket path before anything binds, binds
 * the sockets (mode 0600 unless configured), chooses the engines, and serves each VM on its own Worker thread
 * (design.md decision 2), or on the calling thread when the caller hands in an engine object of its own. It stops
 * cleanly: every VM's front-end dropped, sessions closed (keys zeroed), socket files removed, counters returned.
 *
 * @module
 */

import { getLogger, type LogLevel } from "@logtape/logtape";
import type { HostStats, VirtioPciPort, VirtioPciStats } from "../accel/virtio_pci/mod.ts";
import type { AcceleratorEngine } from "../accel/open.ts";
import type { QatPort } from "../accel/qat/mod.ts";
import type { CryptoDevice } from "../crypto/device.ts";
import type { LogFormat } from "../logging/format.ts";
import type { CryptoEngine } from "../engine/engine.ts";
import { RouterEngine, type RouterStats } from "../engine/router.ts";
import { DEFAULT_ROUTE, type RoutePolicy } from "../engine/route_policy.ts";
import { Reactor, type UnixListener } from "../os/mod.ts";
import type { VhostUserServer } from "../vhost_user/mod.ts";
import { checkUnique, parseVmConfig, type VmConfig, vmsFromSockets } from "../vm/config.ts";
import { innerEngine } from "../vm/vm_engines.ts";
import { applyRoute } from "../vm/route_calibration.ts";
import type { ServingMode, VmSnapshot } from "../vm/vm_service.ts";
import { type AcceleratorHandle, AcceleratorHub } from "./accel_hub.ts";
import { type EngineChoice, type Engines, setUpEngines } from "./engines.ts";
import { type HostedVm, hostInline, hostOnWorker } from "./hosted_vm.ts";
import { defaultSocketPath } from "./paths.ts";
import { bindSockets } from "./sockets.ts";
import { type VmHoster, VmRoster } from "./vm_roster.ts";

export { bindSockets };

const log = getLogger(["cryptobridge", "daemon"]);

/**
 * The default busy-poll window (µs): after a kick a ring is polled this long, and longer while requests keep
 * coming, before its thread sleeps. Waking a thread on a VM host costs a cross-CPU interrupt (~20 µs a hop, two
 * per round trip); 50 µs measured 1.48x at 64 B, 1.24x at 4 KiB, 1.09x at 16 KiB against 0 (AES-128-CBC, depth 32).
 */
export const DEFAULT_BUSY_POLL_US = 50;

/** What `runDaemon` serves and how. */
export interface DaemonOptions {
  /**
   * The VMs (`serve --config`): settings as in docs/config.md, checked (a bad field is named). When absent, one VM
   * on `socket` with `queues` and `maxSessions`.
   */
  readonly vms?: readonly unknown[];
  /** The one VM's socket when `vms` is absent. Default `/run/cryptobridge/cryptobridge.sock` (root). */
  readonly socket?: string;
  /** The one VM's data queues when `vms` is absent. Default 1. */
  readonly queues?: number;
  /** The one VM's session limit when `vms` is absent. Default 1024. */
  readonly maxSessions?: number;
  /** Serve rings by polling instead of kicks (and poll the accelerator's completions). Default false. */
  readonly poll?: boolean;
  /** After a kick, poll that ring this many µs (`serve --busy-poll`; 0: sleep at once). Default 50. */
  readonly busyPollUs?: number;
  /** Which engine serves what both can (`serve --route`; `route_policy.ts`). Default accel-first. */
  readonly route?: RoutePolicy;
  /**
   * The engines: a choice (`serve --engine`; see `setUpEngines`) or an engine object (tests, embedding; the
   * caller closes it, and the VMs are then served on the calling thread). Default "auto".
   */
  readonly engine?: CryptoEngine | EngineChoice;
  /** The accelerator's PCI address (`serve --device`); bound to vfio-pci when it is not. */
  readonly device?: string;
  /** Opens the accelerator instead of binding and VFIO (tests pass a device model). */
  readonly openPort?: (bdf: string) => VirtioPciPort;
  /** Opens a QAT gen4 VF instead of binding and VFIO (tests pass the model). */
  readonly openQatPort?: (bdf: string) => QatPort;
  /** Where VMs are served: "worker" (default) or "inline" (the default with an engine object). */
  readonly placement?: "worker" | "inline";
  /** What VM threads log (they configure their own logging). Default "info". */
  readonly logLevel?: LogLevel;
  /** How VM threads write log lines (`--log-format`). Default "text". */
  readonly logFormat?: LogFormat;
}

/** The counters `cryptobridge serve` prints when it stops (inline placement: the engines are here). */
export interface DaemonStats {
  /** Requests by status and payload bytes. */
  readonly device: Record<string, number>;
  /** Which path served requests and why sessions went to software; null without an accelerator. */
  readonly router: RouterStats | null;
  /** The accelerator's own counters and state; null when none came up. */
  readonly accelerator: VirtioPciStats | null;
}

/** Every VM's counters and state, and the shared accelerator's. */
export interface DaemonSnapshot {
  readonly vms: readonly VmSnapshot[];
  /** The accelerator the VMs share, or null. */
  readonly accelerator: HostStats | null;
}

/** A running daemon. */
export interface Daemon {
  /** The first VM's socket path. */
  readonly socket: string;
  /** The VMs, in order (VMs added at run time last; removed ones gone). */
  readonly vms: readonly HostedVm[];
  /** The first VM's device (inline placement only: a Worker's objects live in its thread). */
  readonly device: CryptoDevice;
  /** The first VM's server (inline placement only). */
  readonly server: VhostUserServer;
  /** The engine (inline placement), or null. */
  readonly engine: CryptoEngine | null;
  /** The router, when there is an accelerator (inline placement). */
  readonly router: RouterEngine | null;
  /** The accelerator engine, when it came up (inline placement). */
  readonly accel: AcceleratorEngine | null;
  /** The accelerator the VMs' threads share (worker placement), when it came up. */
  readonly accelerator: AcceleratorHandle | null;
  /** The first VM's counters, with the accelerator's. */
  stats(): Promise<DaemonStats>;
  /** Every VM's counters and state. */
  snapshot(): Promise<DaemonSnapshot>;
  /** Resolves once every VM is served; rejects when one cannot be (the daemon then stops). */
  readonly ready: Promise<void>;
  /** Resolves once the daemon has stopped. */
  readonly done: Promise<void>;
  /** Stops serving: front-ends dropped, sessions closed, socket files removed. Idempotent. */
  stop(): Promise<DaemonSnapshot>;
  /**
   * Serves one more VM, the others untouched (`vm.add`).
   *
   * @param entry Its settings, as a configuration file's `vms` entry.
   * @returns The VM, serving.
   * @throws ConfigError naming the field (a taken name or socket too), UnixSocketError, RosterError.
   */
  addVm(entry: unknown): Promise<HostedVm>;
  /**
   * Stops serving one VM: front-end dropped, sessions closed (keys zeroed), socket removed (`vm.remove`).
   *
   * @param name The VM.
   * @returns Its last snapshot (null when its thread had died).
   * @throws RosterError `not-found`.
   */
  removeVm(name: string): Promise<VmSnapshot | null>;
  /** Every VM's thread logs at `level` from now on (the main thread's logging is the caller's). */
  setLogLevel(level: LogLevel): void;
}

/**
 * The VMs of the options, checked.
 *
 * @param options The options.
 * @returns The settings.
 * @throws ConfigError naming the bad field.
 */
export function resolveVms(options: DaemonOptions): VmConfig[] {
  const entries = options.vms ?? vmsFromSockets([options.socket ?? defaultSocketPath()], {
    queues: options.queues ?? 1,
    maxSessions: options.maxSessions ?? 1024,
  });
  const vms = entries.map((v, i) => parseVmConfig(v, `vms[${i}]`));
  if (vms.length === 0) throw new RangeError("Cannot start the daemon: no VM to serve");
  checkUnique(vms);
  return vms;
}

/**
 * Starts the daemon: binds every VM's socket and serves until `stop()`.
 *
 * @param options VMs, engines, serving mode.
 * @returns The running daemon (`ready` says when every VM is served).
 * @throws ConfigError, UnixSocketError, EngineSetupError before anything is served.
 *
 * @example
 * ```ts ignore
 * const daemon = runDaemon({ vms: [{ name: "vm1", socket: "/run/cryptobridge/vm1.sock" }] });
 * await daemon.ready;
 * Deno.addSignalListener("SIGTERM", () => daemon.stop());
 * await daemon.done;
 * ```
 */
export function runDaemon(options: DaemonOptions = {}): Daemon {
  const vms = resolveVms(options);
  const inline = (options.placement ?? placementOf(options)) === "inline";
  const listeners = bindSockets(vms);
  try {
    return inline ? runInline(options, vms, listeners) : runOnWorkers(options, vms, listeners);
  } catch (e) {
    for (const l of listeners) l.close();
    throw e;
  }
}

// An engine object cannot cross threads: with one, the VMs are served on the calling thread. Either accelerator
// kind is served on the VMs' threads (a virtio-crypto queue or a QAT ring pair each).
function placementOf(options: DaemonOptions): "worker" | "inline" {
  return typeof options.engine === "object" ? "inline" : "worker";
}

function serving(options: DaemonOptions): ServingMode {
  return {
    poll: options.poll ?? false,
    busyPollUs: options.busyPollUs ?? DEFAULT_BUSY_POLL_US,
    route: options.route ?? DEFAULT_ROUTE,
  };
}

function runOnWorkers(options: DaemonOptions, vms: VmConfig[], listeners: UnixListener[]): Daemon {
  const hub = AcceleratorHub.open({
    choice: (options.engine as EngineChoice | undefined) ?? "auto",
    ...(options.device === undefined ? {} : { device: options.device }),
    ...(options.openPort === undefined ? {} : { openPort: options.openPort }),
    ...(options.openQatPort === undefined ? {} : { openQatPort: options.openQatPort }),
    poll: options.poll ?? false,
    expectedVms: vms.length,
  });
  const hosted: HostedVm[] = [];
  let logLevel = options.logLevel ?? "info";
  const host: VmHoster = (config, listener) =>
    hostOnWorker({
      config,
      listener,
      logLevel,
      logFormat: options.logFormat ?? "text",
      serving: serving(options),
      accel: hub?.link(config) ?? null,
    });
  const ready = (async () => {
    for (const [i, config] of vms.entries()) hosted.push(await host(config, listeners[i]!));
  })();
  const roster = new VmRoster(hosted, host);
  const setLevel = (level: LogLevel): void => {
    logLevel = level; // for VMs added or restarted later
    for (const h of roster.hosted) h.setLogLevel(level);
  };
  return assemble({ roster, listeners, ready, engines: null, reactor: null, hub, setLevel });
}

function runInline(options: DaemonOptions, vms: VmConfig[], listeners: UnixListener[]): Daemon {
  const reactor = new Reactor({
    onError: (error, token) => log.error("event handler {token} failed: {error}", { token, error }),
  });
  let engines: Engines;
  try {
    engines = chooseEngines(options, reactor);
  } catch (e) {
    reactor.close();
    throw e;
  }
  const accel = engines.accel;
  if (typeof options.engine !== "object") {
    void applyRoute(engines.router, options.route ?? DEFAULT_ROUTE, "daemon");
  }
  const hostNow = (config: VmConfig, listener: UnixListener): HostedVm =>
    hostInline({
      config,
      engine: engines.engine,
      router: engines.router,
      reactor,
      listener,
      serving: serving(options),
      pathOf: (s) => (accel !== null && innerEngine(s) === accel ? "accelerator" : "software"),
    });
  const host: VmHoster = (config, listener) => Promise.resolve(hostNow(config, listener));
  const hosted = vms.map((config, i) => hostNow(config, listeners[i]!));
  const owned = typeof options.engine !== "object";
  return assemble({
    roster: new VmRoster(hosted, host),
    setLevel: () => {},
    listeners,
    ready: Promise.resolve(),
    engines: { ...engines, owned },
    reactor,
    hub: null,
  });
}

interface Parts {
  readonly roster: VmRoster;
  readonly setLevel: (level: LogLevel) => void;
  readonly listeners: readonly UnixListener[];
  readonly ready: Promise<void>;
  readonly engines: (Engines & { readonly owned: boolean }) | null;
  readonly reactor: Reactor | null;
  readonly hub: AcceleratorHub | null;
}

function assemble(p: Parts): Daemon {
  const running = p.reactor?.run() ?? Promise.resolve();
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => resolveDone = resolve);
  const snapshot = async (): Promise<DaemonSnapshot> => ({
    vms: await Promise.all(p.roster.hosted.map((h) => h.snapshot())),
    accelerator: p.hub?.stats() ?? null,
  });
  let stopping: Promise<DaemonSnapshot> | null = null;
  const stop = (): Promise<DaemonSnapshot> => {
    p.roster.close();
    stopping ??= stopAll(p, running).finally(resolveDone);
    return stopping;
  };
  p.ready.catch(() => stop());
  const first = (): HostedVm => p.roster.hosted[0]!;
  const inlineOnly = <T>(what: string, get: (h: HostedVm) => T): T => {
    const h = first();
    if (h.service === null) {
      throw new Error(`Cannot read the daemon's ${what}: its VMs are served on Workers`);
    }
    return get(h);
  };
  return {
    socket: p.listeners[0]!.path,
    get vms() {
      return p.roster.hosted;
    },
    get device() {
      return inlineOnly("device", (h) => h.service!.device);
    },
    get server() {
      return inlineOnly("server", (h) => h.service!.server);
    },
    engine: p.engines?.engine ?? null,
    router: p.engines?.router ?? null,
    accel: p.engines?.accel ?? null,
    accelerator: p.hub,
    stats: () => firstStats(p),
    snapshot,
    ready: p.ready,
    done,
    stop,
    addVm: (entry) => p.roster.add(entry),
    removeVm: (name) => p.roster.remove(name),
    setLogLevel: (level) => p.setLevel(level),
  };
}

async function stopAll(p: Parts, running: Promise<void>): Promise<DaemonSnapshot> {
  await p.ready.catch(() => {}); // a VM still starting finishes starting, then stops with the rest
  const last = await Promise.all(p.roster.hosted.map((h) => h.stop()));
  const vms = last.filter((s): s is VmSnapshot => s !== null);
  if (p.reactor !== null) {
    p.reactor.stop();
    await running.catch((e) => log.error("reactor ended with an error: {error}", { error: e }));
    if (p.engines?.owned === true) p.engines.engine.close(); // before the reactor closes: the accelerator leaves it first
    p.reactor.close();
  }
  await p.hub?.close();
  for (const l of p.listeners) l.close();
  for (const h of p.roster.hosted) h.listener.close(); // VMs added at run time
  log.info("stopped: {stats}", { stats: JSON.stringify(vms.map((v) => ({ name: v.name, ...v.device }))) });
  return { vms, accelerator: p.hub?.stats() ?? null };
}

function chooseEngines(options: DaemonOptions, reactor: Reactor): Engines {
  const e = options.engine;
  if (typeof e === "object") return { engine: e, router: e instanceof RouterEngine ? e : null, accel: null };
  return setUpEngines({
    choice: e ?? "auto",
    reactor,
    poll: options.poll ?? false,
    ...(options.device === undefined ? {} : { device: options.device }),
    ...(options.openPort === undefined ? {} : { openPort: options.openPort }),
    ...(options.openQatPort === undefined ? {} : { openQatPort: options.openQatPort }),
  });
}

async function firstStats(p: Parts): Promise<DaemonStats> {
  const first = p.roster.hosted[0]!;
  if (first.service !== null) {
    const r = p.engines?.router?.stats;
    return {
      device: first.service.device.stats.toJSON(),
      router: r === undefined ? null : { ...r, fallbacks: { ...r.fallbacks } },
      accelerator: p.engines?.accel?.stats() ?? null,
    };
  }
  const vm = await first.snapshot();
  return { device: vm.device, router: vm.router, accelerator: accelStatsOf(p.hub, vm) };
}

// The accelerator's counters as one VM sees them: the host's state and failures, the VM's own requests.
function accelStatsOf(hub: AcceleratorHub | null, vm: VmSnapshot): VirtioPciStats | null {
  if (hub === null) return null;
  const h = hub.stats();
  const c = (vm.accelerator ?? {}) as Partial<Record<string, number>>;
  return {
    state: h.state as VirtioPciStats["state"],
    epoch: h.epoch,
    sessions: c["sessions"] ?? 0,
    inflight: c["inflight"] ?? 0,
    completed: c["completed"] ?? 0,
    failed: c["failed"] ?? 0,
    declined: c["declined"] ?? 0,
    bounced: c["bounced"] ?? 0,
    failures: h.failures,
    lastFailure: h.lastFailure,
    refused: h.refused,
  };
}
