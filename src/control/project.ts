/**
 * Copies a `DaemonControl` answer field by field into its report shape (`reports.ts`): only the fields a report
 * declares are read, each checked for its JSON type, so an implementation that hands over a richer object (a
 * session, an engine, anything holding a key) sends nothing beyond the report. A field of the wrong type is an
 * implementation bug: TypeError, which the server answers as "Internal error".
 *
 * @module
 */

import type {
  AcceleratorKindName,
  AcceleratorReport,
  EngineReport,
  LogLevelName,
  PathStats,
  QatAcceleratorReport,
  StatsReport,
  StatusReport,
  VmReport,
  VmStats,
} from "./reports.ts";
import { ACCELERATOR_KIND_NAMES, LOG_LEVEL_NAMES } from "./reports.ts";

/** Longest string a report may carry: names, paths and one-line messages. */
const MAX_STRING = 4096;
/** Keys of counter records: status and reason names. */
const COUNTER_KEY = /^[a-z][a-z0-9_-]{0,31}$/;

type Obj = Readonly<Record<string, unknown>>;

function fail(where: string, want: string, v: unknown): never {
  const got = v === null ? "null" : Array.isArray(v) ? "an array" : typeof v;
  throw new TypeError(`Cannot answer: ${where} must be ${want}: got ${got}`);
}

function obj(v: unknown, where: string): Obj {
  if (typeof v !== "object" || v === null || Array.isArray(v)) fail(where, "an object", v);
  return v as Obj;
}

function str(v: unknown, where: string): string {
  if (typeof v !== "string" || v.length > MAX_STRING) fail(where, `a string of at most ${MAX_STRING}`, v);
  return v;
}

function strOrNull(v: unknown, where: string): string | null {
  return v === null ? null : str(v, where);
}

function num(v: unknown, where: string): number {
  if (typeof v !== "number" || !Number.isFinite(v)) fail(where, "a finite number", v);
  return v;
}

function bool(v: unknown, where: string): boolean {
  if (typeof v !== "boolean") fail(where, "a boolean", v);
  return v;
}

function list<T>(v: unknown, where: string, item: (x: unknown, at: string) => T): T[] {
  if (!Array.isArray(v)) fail(where, "an array", v);
  return v.map((x, i) => item(x, `${where}[${i}]`));
}

function counts(v: unknown, where: string): Record<string, number> {
  const o = obj(v, where);
  const out: Record<string, number> = {};
  for (const [k, n] of Object.entries(o)) {
    if (!COUNTER_KEY.test(k)) fail(`${where} key ${JSON.stringify(k.slice(0, 40))}`, "a counter name", k);
    out[k] = num(n, `${where}.${k}`);
  }
  return out;
}

function logLevel(v: unknown, where: string): LogLevelName {
  const s = str(v, where);
  if (!(LOG_LEVEL_NAMES as readonly string[]).includes(s)) fail(where, LOG_LEVEL_NAMES.join(" | "), v);
  return s as LogLevelName;
}

function engine(v: unknown, where: string): EngineReport {
  const o = obj(v, where);
  const role = str(o["role"], `${where}.role`);
  if (role !== "accelerator" && role !== "software") {
    fail(`${where}.role`, '"accelerator" or "software"', role);
  }
  return { name: str(o["name"], `${where}.name`), role, state: str(o["state"], `${where}.state`) };
}

/**
 * An accelerator report, copied.
 *
 * @param v What the daemon answered.
 * @param where Its place, for messages.
 * @returns The report.
 * @throws TypeError for a field of the wrong type.
 */
export function projectAccelerator(v: unknown, where = "accelerator"): AcceleratorReport {
  const o = obj(v, where);
  const kind = str(o["kind"], `${where}.kind`);
  if (!(ACCELERATOR_KIND_NAMES as readonly string[]).includes(kind)) {
    fail(`${where}.kind`, ACCELERATOR_KIND_NAMES.join(" | "), kind);
  }
  return {
    kind: kind as AcceleratorKindName,
    device: strOrNull(o["device"], `${where}.device`),
    name: str(o["name"], `${where}.name`),
    state: str(o["state"], `${where}.state`),
    epoch: num(o["epoch"], `${where}.epoch`),
    failures: num(o["failures"], `${where}.failures`),
    resets: num(o["resets"], `${where}.resets`),
    lastFailure: strOrNull(o["lastFailure"], `${where}.lastFailure`),
    sessions: num(o["sessions"], `${where}.sessions`),
    inflight: num(o["inflight"], `${where}.inflight`),
    completed: num(o["completed"], `${where}.completed`),
    failed: num(o["failed"], `${where}.failed`),
    declined: num(o["declined"], `${where}.declined`),
    bounced: num(o["bounced"], `${where}.bounced`),
    refused: list(o["refused"], `${where}.refused`, str),
    qat: o["qat"] === null ? null : qatPart(o["qat"], `${where}.qat`),
  };
}

function qatPart(v: unknown, where: string): QatAcceleratorReport {
  const o = obj(v, where);
  return {
    ringPairs: num(o["ringPairs"], `${where}.ringPairs`),
    // Added after the first QAT daemons: an older one leaves it out, and its report still reads.
    softwareVms: o["softwareVms"] === undefined ? null : num(o["softwareVms"], `${where}.softwareVms`),
    services: list(o["services"], `${where}.services`, str),
    doorbells: num(o["doorbells"], `${where}.doorbells`),
    interrupts: num(o["interrupts"], `${where}.interrupts`),
  };
}

/**
 * A status report, copied.
 *
 * @param v What the daemon answered.
 * @returns The report.
 * @throws TypeError for a field of the wrong type.
 */
export function projectStatus(v: unknown): StatusReport {
  const o = obj(v, "status");
  const vms = obj(o["vms"], "status.vms");
  const endpoints = obj(o["endpoints"], "status.endpoints");
  return {
    version: str(o["version"], "status.version"),
    pid: num(o["pid"], "status.pid"),
    startedAt: str(o["startedAt"], "status.startedAt"),
    uptimeSeconds: num(o["uptimeSeconds"], "status.uptimeSeconds"),
    logLevel: logLevel(o["logLevel"], "status.logLevel"),
    engines: list(o["engines"], "status.engines", engine),
    accelerator: o["accelerator"] === null
      ? null
      : projectAccelerator(o["accelerator"], "status.accelerator"),
    vms: {
      total: num(vms["total"], "status.vms.total"),
      connected: num(vms["connected"], "status.vms.connected"),
    },
    endpoints: {
      control: str(endpoints["control"], "status.endpoints.control"),
      metrics: strOrNull(endpoints["metrics"], "status.endpoints.metrics"),
    },
  };
}

function thread(v: unknown, where: string): VmReport["thread"] {
  if (v === null) return null;
  const o = obj(v, where);
  return { tid: num(o["tid"], `${where}.tid`), cpus: list(o["cpus"], `${where}.cpus`, num) };
}

/**
 * A VM report, copied.
 *
 * @param v What the daemon answered.
 * @param where Its place, for messages.
 * @returns The report.
 * @throws TypeError for a field of the wrong type.
 */
export function projectVm(v: unknown, where = "vm"): VmReport {
  const o = obj(v, where);
  return {
    name: str(o["name"], `${where}.name`),
    socket: str(o["socket"], `${where}.socket`),
    connected: bool(o["connected"], `${where}.connected`),
    connections: num(o["connections"], `${where}.connections`),
    queues: num(o["queues"], `${where}.queues`),
    sessions: num(o["sessions"], `${where}.sessions`),
    maxSessions: num(o["maxSessions"], `${where}.maxSessions`),
    inflight: num(o["inflight"], `${where}.inflight`),
    maxInflight: num(o["maxInflight"], `${where}.maxInflight`),
    thread: thread(o["thread"], `${where}.thread`),
  };
}

function path(v: unknown, where: string): PathStats {
  const o = obj(v, where);
  return {
    requests: num(o["requests"], `${where}.requests`),
    sessions: num(o["sessions"], `${where}.sessions`),
  };
}

/**
 * One VM's counters, copied.
 *
 * @param v What the daemon answered.
 * @param where Its place, for messages.
 * @returns The counters.
 * @throws TypeError for a field of the wrong type.
 */
export function projectVmStats(v: unknown, where = "stats"): VmStats {
  const o = obj(v, where);
  const byPath = obj(o["byPath"], `${where}.byPath`);
  return {
    name: str(o["name"], `${where}.name`),
    requests: num(o["requests"], `${where}.requests`),
    bytes: num(o["bytes"], `${where}.bytes`),
    byStatus: counts(o["byStatus"], `${where}.byStatus`),
    byPath: {
      accelerator: path(byPath["accelerator"], `${where}.byPath.accelerator`),
      software: path(byPath["software"], `${where}.byPath.software`),
    },
    fallbacks: counts(o["fallbacks"], `${where}.fallbacks`),
  };
}

function addCounts(into: Record<string, number>, from: Readonly<Record<string, number>>): void {
  for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + n;
}

/**
 * The stats report: every VM's counters, copied, and their sums.
 *
 * @param v What the daemon answered (`{ vms: [...] }`).
 * @returns The report.
 * @throws TypeError for a field of the wrong type.
 */
export function projectStats(v: unknown): StatsReport {
  const vms = list(obj(v, "stats")["vms"], "stats.vms", projectVmStats);
  const byStatus: Record<string, number> = {};
  const fallbacks: Record<string, number> = {};
  const sum = (get: (s: VmStats) => number): number => vms.reduce((a, s) => a + get(s), 0);
  for (const s of vms) {
    addCounts(byStatus, s.byStatus);
    addCounts(fallbacks, s.fallbacks);
  }
  const total: VmStats = {
    name: "*",
    requests: sum((s) => s.requests),
    bytes: sum((s) => s.bytes),
    byStatus,
    byPath: {
      accelerator: {
        requests: sum((s) => s.byPath.accelerator.requests),
        sessions: sum((s) => s.byPath.accelerator.sessions),
      },
      software: {
        requests: sum((s) => s.byPath.software.requests),
        sessions: sum((s) => s.byPath.software.sessions),
      },
    },
    fallbacks,
  };
  return { vms, total };
}
