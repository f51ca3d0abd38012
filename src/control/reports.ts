/**
 * What the control socket answers, and the interface the daemon implements to answer it (`DaemonControl`).
 *
 * Every report is plain JSON: strings, numbers, booleans, null, arrays and records of those. None has a place for
 * key material, and the server copies each answer field by field into these shapes (`project.ts`) before
 * sending it, so whatever else an implementation's objects carry is never sent.
 *
 * @module
 */

/** A value or a promise of it: the daemon answers some calls at once and others after asking its Workers. */
export type Awaitable<T> = T | Promise<T>;

/** Log levels, as LogTape names them (`warn` is accepted for `warning` by the method). */
export type LogLevelName = "trace" | "debug" | "info" | "warning" | "error" | "fatal";

/** The levels, in order. */
export const LOG_LEVEL_NAMES: readonly LogLevelName[] = [
  "trace",
  "debug",
  "info",
  "warning",
  "error",
  "fatal",
];

/** One engine the daemon serves with. */
export interface EngineReport {
  /** Its name (`openssl`, `virtio-pci 0000:3b:00.0`). */
  readonly name: string;
  /** What it is to the daemon. */
  readonly role: "accelerator" | "software";
  /** `ready`, `failed`, `closed`, … */
  readonly state: string;
}

/** Which driver serves the accelerator: a virtio-crypto PCI function, or an Intel QAT gen4 virtual function. */
export type AcceleratorKindName = "virtio-crypto" | "qat-gen4-vf";

/** The driver kinds, for checking a report. */
export const ACCELERATOR_KIND_NAMES: readonly AcceleratorKindName[] = ["virtio-crypto", "qat-gen4-vf"];

/** What only a QAT gen4 VF reports. */
export interface QatAcceleratorReport {
  /** Ring pairs driven now: one per VM that has one (0 while the device is down). */
  readonly ringPairs: number;
  /**
   * VMs served in software because every ring pair was taken when they started (docs/qat.md); null from a daemon
   * older than this field.
   */
  readonly softwareVms: number | null;
  /** The service of each of the VF's bundles, as the PF said (`sym`, `asym`, `dc`, …). */
  readonly services: readonly string[];
  /** TX tail writes (doorbells) since the daemon started. */
  readonly doorbells: number;
  /** Completion interrupts taken (0 when completions are polled). */
  readonly interrupts: number;
}

/** The accelerator, when the daemon has one. */
export interface AcceleratorReport {
  /** Which driver serves it. */
  readonly kind: AcceleratorKindName;
  /** Its PCI address, or null (a device model in tests). */
  readonly device: string | null;
  /** Its engine's name. */
  readonly name: string;
  /**
   * `ready`, `failed` (its requests and new sessions go to software; the daemon restarts it when the next
   * session is created, at most once per retry period), `closed`.
   */
  readonly state: string;
  /** Device incarnations started (1 + restarts). */
  readonly epoch: number;
  /** Device failures seen. */
  readonly failures: number;
  /** Resets done (after failures and on request). */
  readonly resets: number;
  /** The last failure's reason, or null. */
  readonly lastFailure: string | null;
  /** Sessions open on the device. */
  readonly sessions: number;
  /** Requests on the device now. */
  readonly inflight: number;
  /** Requests the device answered (OK, or BADMSG for a wrong tag). */
  readonly completed: number;
  /** Requests it took and gave back failed (an error bit, a failure, a timeout): re-run in software. */
  readonly failed: number;
  /** Requests refused before submission (outside what its path covers): run in software. */
  readonly declined: number;
  /** Requests whose buffers went through bounce memory instead of zero copy. */
  readonly bounced: number;
  /** Claims it advertised and refused when probed (`AES-CBC/16`). */
  readonly refused: readonly string[];
  /** QAT-only counters, or null for another kind. */
  readonly qat: QatAcceleratorReport | null;
}

/** `status`. */
export interface StatusReport {
  /** cryptobridge's version. */
  readonly version: string;
  /** The daemon's process id. */
  readonly pid: number;
  /** When it started (ISO 8601, UTC). */
  readonly startedAt: string;
  /** Seconds since it started. */
  readonly uptimeSeconds: number;
  /** The log level now. */
  readonly logLevel: LogLevelName;
  /** The engines. */
  readonly engines: readonly EngineReport[];
  /** The accelerator, or null. */
  readonly accelerator: AcceleratorReport | null;
  /** VMs configured, and how many have a front-end connected. */
  readonly vms: { readonly total: number; readonly connected: number };
  /** Where the daemon answers: this socket, and the metrics address (or null). */
  readonly endpoints: { readonly control: string; readonly metrics: string | null };
}

/** One VM as `vm.list` shows it. */
export interface VmReport {
  /** Its name. */
  readonly name: string;
  /** Its vhost-user socket. */
  readonly socket: string;
  /** Whether a front-end (QEMU) is connected now. */
  readonly connected: boolean;
  /** Front-ends accepted since it was added. */
  readonly connections: number;
  /** Data queues offered. */
  readonly queues: number;
  /** Sessions open. */
  readonly sessions: number;
  /** Its session limit. */
  readonly maxSessions: number;
  /** Requests taken from its rings and not completed yet. */
  readonly inflight: number;
  /** Its limit of requests in flight. */
  readonly maxInflight: number;
  /** The thread serving it (kernel id, CPUs it may run on), or null when served on the main thread. */
  readonly thread: { readonly tid: number; readonly cpus: readonly number[] } | null;
}

/** Requests and sessions of one path. */
export interface PathStats {
  /** Requests it served. */
  readonly requests: number;
  /** Sessions open on it now. */
  readonly sessions: number;
}

/** One VM's counters. */
export interface VmStats {
  /** Its name. */
  readonly name: string;
  /** Requests completed. */
  readonly requests: number;
  /** Output bytes of successful requests. */
  readonly bytes: number;
  /** Requests by virtio-crypto status: `ok`, `err`, `badmsg`, `notsupp`, `invsess`, `nospc`, `key_rejected`. */
  readonly byStatus: Readonly<Record<string, number>>;
  /** Which path served them. */
  readonly byPath: { readonly accelerator: PathStats; readonly software: PathStats };
  /** Sessions (and re-run requests: `failed`) sent to software, by reason (README, "Which path served what"). */
  readonly fallbacks: Readonly<Record<string, number>>;
}

/** `stats`: every VM's counters, and their sums. */
export interface StatsReport {
  /** Per VM, in the daemon's order. */
  readonly vms: readonly VmStats[];
  /** The sums over the VMs (`name` is `*`); the server computes them. */
  readonly total: VmStats;
}

/** What `accelerator.reset` and `accelerator.restart` ask for. */
export interface ResetOptions {
  /**
   * false (`accelerator.reset`): reset the function now; its in-flight requests are re-run in software and
   * sessions move to software; it comes back by the daemon's usual restart policy. true (`accelerator.restart`):
   * reset it and start it again at once, so new sessions go to it.
   */
  readonly restart: boolean;
}

/**
 * What the daemon implements for the control socket. A method that fails for a reason the caller should see
 * throws `ControlError` (its kind picks the JSON-RPC code); anything else thrown becomes "Internal error".
 */
export interface DaemonControl {
  /** Version, uptime, engines, accelerator state. */
  status(): Awaitable<StatusReport>;
  /** Every VM. */
  listVms(): Awaitable<readonly VmReport[]>;
  /** Every VM's counters (the server adds the total). */
  stats(): Awaitable<Omit<StatsReport, "total">>;
  /**
   * Starts serving one more VM, leaving the others untouched.
   *
   * @param config Its settings as in the configuration file's `vms` entries (docs/config.md), unchecked: the
   *   daemon checks them and throws ControlError `invalid-params` naming the field, `exists` for a taken name
   *   or socket.
   * @returns The VM, listening.
   */
  addVm(config: Readonly<Record<string, unknown>>): Awaitable<VmReport>;
  /**
   * Stops serving one VM: its front-end is dropped, its sessions closed (keys zeroed), its socket removed.
   *
   * @param name The VM.
   * @returns Its last counters, or null when it had none. Throws ControlError `not-found` for an unknown name.
   */
  removeVm(name: string): Awaitable<VmStats | null>;
  /** Logs at `level` and above from now on, in every thread. */
  setLogLevel(level: LogLevelName): Awaitable<void>;
  /**
   * Resets (and with `restart`, restarts) the accelerator. Throws ControlError `unavailable` without one.
   *
   * @returns Its state afterwards.
   */
  resetAccelerator(options: ResetOptions): Awaitable<AcceleratorReport>;
}
