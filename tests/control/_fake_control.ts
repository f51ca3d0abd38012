/**
 * Test fixture: a `DaemonControl` with VMs in a map, whose answers carry extra fields (a key among them) that the
 * server must never send, and knobs to make calls slow or fail.
 *
 * @module
 */

import {
  type AcceleratorReport,
  ControlError,
  type DaemonControl,
  type LogLevelName,
  type StatsReport,
  type StatusReport,
  type VmReport,
  type VmStats,
} from "../../src/control/mod.ts";

/** Bytes that must never appear on the socket: the fake's objects carry them in fields no report declares. */
export const SECRET_KEY = new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0x5e, 0xc7, 0xe7, 0x00, 0x11, 0x22]);
export const SECRET_HEX = [...SECRET_KEY].map((b) => b.toString(16).padStart(2, "0")).join("");

function vm(name: string, socket: string): VmReport & { key: string; session: { key: Uint8Array } } {
  return {
    name,
    socket,
    connected: false,
    connections: 0,
    queues: 1,
    sessions: 0,
    maxSessions: 1024,
    inflight: 0,
    maxInflight: 256,
    thread: null,
    key: SECRET_HEX, // never sent: not a VmReport field
    session: { key: SECRET_KEY },
  };
}

function vmStats(name: string): VmStats {
  return {
    name,
    requests: 10,
    bytes: 160,
    byStatus: { ok: 9, err: 1 },
    byPath: { accelerator: { requests: 6, sessions: 1 }, software: { requests: 4, sessions: 2 } },
    fallbacks: { "not-advertised": 1, nospc: 1 },
  };
}

/** The fake daemon. */
export class FakeControl implements DaemonControl {
  readonly vms = new Map<string, ReturnType<typeof vm>>();
  level: LogLevelName = "info";
  /** Milliseconds `addVm` takes. */
  addDelayMs = 0;
  /** Whether there is an accelerator. */
  accelerator = true;
  /** Which kind it is: a QAT VF reports its ring pairs and services beside the common counters. */
  acceleratorKind: AcceleratorReport["kind"] = "virtio-crypto";
  resets = 0;
  /** When set, `status()` throws it (an internal error). */
  statusFailure: Error | null = null;
  /** When set, `listVms()` returns this instead (a bug: wrong types). */
  brokenVms: unknown = null;

  constructor() {
    this.vms.set("vm1", vm("vm1", "/run/cryptobridge/vm1.sock"));
  }

  status(): StatusReport {
    if (this.statusFailure !== null) throw this.statusFailure;
    return {
      version: "0.1.0",
      pid: Deno.pid,
      startedAt: "2026-01-01T00:00:00.000Z",
      uptimeSeconds: 12.5,
      logLevel: this.level,
      engines: [{ name: "openssl", role: "software", state: "ready" }],
      accelerator: this.accelerator ? this.#accel() : null,
      vms: { total: this.vms.size, connected: 0 },
      endpoints: { control: "/run/cryptobridge/cryptobridge-control.sock", metrics: null },
      // @ts-expect-error: an extra field, as a sloppy implementation might pass
      keys: [SECRET_HEX],
    };
  }

  listVms(): Promise<readonly VmReport[]> {
    return Promise.resolve((this.brokenVms ?? [...this.vms.values()]) as VmReport[]);
  }

  stats(): Omit<StatsReport, "total"> {
    return { vms: [...this.vms.keys()].map(vmStats) };
  }

  async addVm(config: Readonly<Record<string, unknown>>): Promise<VmReport> {
    if (this.addDelayMs > 0) await new Promise((r) => setTimeout(r, this.addDelayMs));
    const name = config["name"] as string;
    if (typeof config["queues"] !== "undefined" && typeof config["queues"] !== "number") {
      throw new ControlError("invalid-params", "queues: must be an integer in 1..64", { field: "queues" });
    }
    if (this.vms.has(name)) throw new ControlError("exists", `A VM named "${name}" is served already`);
    const v = vm(name, config["socket"] as string);
    this.vms.set(name, v);
    return v;
  }

  removeVm(name: string): VmStats | null {
    if (!this.vms.delete(name)) throw new ControlError("not-found", `No VM named "${name}": see vm.list`);
    return vmStats(name);
  }

  setLogLevel(level: LogLevelName): void {
    this.level = level;
  }

  resetAccelerator(options: { restart: boolean }): AcceleratorReport {
    if (!this.accelerator) throw new ControlError("unavailable", "This daemon has no accelerator");
    this.resets++;
    return { ...this.#accel(), state: options.restart ? "ready" : "failed" };
  }

  #accel(): AcceleratorReport {
    const qat = this.acceleratorKind === "qat-gen4-vf";
    return {
      kind: this.acceleratorKind,
      device: qat ? "0000:3d:00.1" : "0000:00:04.0",
      name: qat ? "qat-gen4 0000:3d:00.1" : "virtio-pci",
      state: qat ? "failed" : "ready",
      epoch: 1,
      failures: qat ? 1 : 0,
      resets: this.resets,
      lastFailure: qat ? "ring 0 stopped answering" : null,
      sessions: 3,
      inflight: 0,
      completed: 40,
      failed: 2,
      declined: 1,
      bounced: 5,
      refused: qat ? [] : ["SHA1"],
      qat: qat
        ? {
          ringPairs: 0,
          softwareVms: 1,
          services: ["sym", "asym", "sym", "dc"],
          doorbells: 17,
          interrupts: 12,
        }
        : null,
    };
  }
}
