/**
 * `daemonControl`: the running daemon as the control socket sees it (`DaemonControl`, docs/control.md). Reports are
 * built from the VMs' snapshots (numbers, names, states): nothing here can reach a session's key.
 *
 * @module
 */

import type { LogLevel } from "@logtape/logtape";
import {
  ControlError,
  type DaemonControl,
  type EngineReport,
  type StatusReport,
  type VmReport,
  type VmStats,
} from "../control/mod.ts";
import { UnixSocketError } from "../os/mod.ts";
import { ConfigError } from "../vm/config.ts";
import type { VmSnapshot } from "../vm/vm_service.ts";
import type { Daemon } from "./daemon.ts";
import type { HostedVm } from "./hosted_vm.ts";
import { RosterError } from "./vm_roster.ts";
import { acceleratorReport } from "./accel_report.ts";
import { VERSION } from "./version.ts";

/** What the control socket reports beside the daemon's own state. */
export interface ControlContext {
  /** When the daemon started. */
  readonly startedAt: Date;
  /** The control socket's path. */
  readonly control: string;
  /** The metrics address, or null. */
  readonly metrics: string | null;
  /** The accelerator's PCI address (`--device`), or null. */
  readonly device: string | null;
  /** The log level now. */
  logLevel: LogLevel;
  /** Sets the main thread's own logging (the VMs' threads are told by the daemon). */
  readonly configureMainLogging: (level: LogLevel) => Promise<void>;
}

/**
 * The control socket's view of a daemon.
 *
 * @param daemon The running daemon.
 * @param ctx Start time, endpoints, logging.
 * @returns What the control server answers through.
 */
export function daemonControl(daemon: Daemon, ctx: ControlContext): DaemonControl {
  return {
    status: async () => statusOf(daemon, ctx, await snapshots(daemon)),
    listVms: async () => (await snapshots(daemon)).map(([h, s]) => vmReport(h, s)),
    stats: async () => ({ vms: (await snapshots(daemon)).map(([, s]) => vmStats(s)) }),
    addVm: async (config) => {
      const vm = await translate(() => daemon.addVm(config));
      return vmReport(vm, await vm.snapshot());
    },
    removeVm: async (name) => {
      const last = await translate(() => daemon.removeVm(name));
      return last === null ? null : vmStats(last);
    },
    setLogLevel: async (level) => {
      ctx.logLevel = level;
      await ctx.configureMainLogging(level);
      daemon.setLogLevel(level);
    },
    resetAccelerator: async (options) => {
      // The shared host of the VMs' threads, or the engine served from the main thread (a QAT VF).
      const target = daemon.accelerator ?? daemon.accel;
      if (target === null) {
        throw new ControlError(
          "unavailable",
          "This daemon has no accelerator: start serve with --device BDF",
        );
      }
      target.injectReset(); // in-flight requests re-run in software; the device restarts at the next session
      void options;
      const vms = (await snapshots(daemon)).map(([, s]) => s);
      return acceleratorReport(daemon, ctx.device, vms)!;
    },
  };
}

async function snapshots(daemon: Daemon): Promise<[HostedVm, VmSnapshot][]> {
  const vms = [...daemon.vms];
  return await Promise.all(vms.map(async (h) => [h, await h.snapshot()] as [HostedVm, VmSnapshot]));
}

// The daemon's errors as the control socket's kinds (and JSON-RPC codes).
async function translate<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof ConfigError) {
      const kind = /is also the (name|socket) of/.test(e.message) ? "exists" : "invalid-params";
      throw new ControlError(kind, e.message, { field: e.field.replace(/^vms\[\d+\]\./, "") });
    }
    if (e instanceof RosterError) {
      throw new ControlError(
        e.kind === "not-found" ? "not-found" : e.kind === "busy" ? "conflict" : "unavailable",
        e.message,
      );
    }
    if (e instanceof UnixSocketError) throw new ControlError("failed", e.message);
    throw e;
  }
}

function statusOf(daemon: Daemon, ctx: ControlContext, vms: [HostedVm, VmSnapshot][]): StatusReport {
  const accelerator = acceleratorReport(daemon, ctx.device, vms.map(([, s]) => s));
  const engines: EngineReport[] = [{ name: "openssl", role: "software", state: "ready" }];
  if (accelerator !== null) {
    engines.unshift({ name: accelerator.name, role: "accelerator", state: accelerator.state });
  }
  const now = Date.now();
  return {
    version: VERSION,
    pid: Deno.pid,
    startedAt: ctx.startedAt.toISOString(),
    uptimeSeconds: Math.round((now - ctx.startedAt.getTime()) / 100) / 10,
    logLevel: ctx.logLevel,
    engines,
    accelerator,
    vms: { total: vms.length, connected: vms.filter(([, s]) => s.connected).length },
    endpoints: { control: ctx.control, metrics: ctx.metrics },
  };
}

function vmReport(h: HostedVm, s: VmSnapshot): VmReport {
  return {
    name: s.name,
    socket: s.socket,
    connected: s.connected,
    connections: s.connections,
    queues: s.queues,
    sessions: s.sessions,
    maxSessions: h.config.maxSessions,
    inflight: s.inflight,
    maxInflight: h.config.maxInflight,
    thread: s.thread,
  };
}

const STATUSES = ["ok", "err", "badmsg", "notsupp", "invsess", "nospc", "key_rejected"];

/**
 * One VM's counters as `stats` shows them.
 *
 * @param s Its snapshot.
 * @returns Requests, bytes, by status, by path, fallbacks.
 */
export function vmStats(s: VmSnapshot): VmStats {
  const r = s.router;
  const softwareSessions = s.metrics.sessions.software;
  const requests = s.device["requests"] ?? 0;
  return {
    name: s.name,
    requests,
    bytes: s.device["bytes"] ?? 0,
    byStatus: Object.fromEntries(STATUSES.map((k) => [k, s.device[k] ?? 0])),
    byPath: {
      accelerator: { requests: r?.accelRequests ?? 0, sessions: s.metrics.sessions.accelerator },
      software: { requests: r === null ? requests : r.softwareRequests, sessions: softwareSessions },
    },
    fallbacks: { ...(r?.fallbacks ?? {}) },
  };
}
