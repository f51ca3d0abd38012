/**
 * The accelerator's report (`AcceleratorReport`, docs/control.md) from whichever side of the daemon holds it:
 * the shared host of the VMs' threads (worker placement, a virtio-crypto function's or a QAT VF's: the device's
 * state from the host, the request counters summed over the VMs' clients), or the engine served from the calling
 * thread (inline placement, with an engine object; everything from the engine).
 * Only numbers, names and states are read: nothing here can reach a session's key.
 *
 * @module
 */

import type { AcceleratorEngine } from "../accel/open.ts";
import { QatEngine } from "../accel/qat/mod.ts";
import type { QatStats } from "../accel/qat/mod.ts";
import type { AcceleratorReport } from "../control/mod.ts";
import type { VmSnapshot } from "../vm/vm_service.ts";
import type { Daemon } from "./daemon.ts";

/** The request counters a report sums over the VMs' clients of the shared host. */
const CLIENT_COUNTERS = ["completed", "failed", "declined", "bounced", "doorbells", "interrupts"] as const;

/**
 * The daemon's accelerator report, or null without an accelerator (software only, or it did not come up).
 *
 * @param daemon The daemon.
 * @param device Its `--device`, or null.
 * @param vms The VMs' snapshots, for the shared host's request counters (each VM's client counts its own).
 * @returns The report.
 */
export function acceleratorReport(
  daemon: Pick<Daemon, "accelerator" | "accel">,
  device: string | null,
  vms: readonly VmSnapshot[],
): AcceleratorReport | null {
  if (daemon.accel !== null) return inlineReport(daemon.accel, device);
  const hub = daemon.accelerator;
  if (hub === null) return null;
  const h = hub.stats();
  const sums = { completed: 0, failed: 0, declined: 0, bounced: 0, doorbells: 0, interrupts: 0 };
  for (const vm of vms) {
    for (const k of CLIENT_COUNTERS) sums[k] += counter(vm.accelerator, k);
  }
  const { doorbells, interrupts, ...requests } = sums;
  const qat = "kind" in h ? h : null;
  return {
    kind: qat === null ? "virtio-crypto" : "qat-gen4-vf",
    device,
    name: hub.name,
    state: h.state,
    epoch: h.epoch,
    failures: h.failures,
    resets: Math.max(0, h.epoch - 1),
    lastFailure: h.lastFailure,
    sessions: h.sessions,
    inflight: h.vms.reduce((a, v) => a + v.inflight, 0),
    ...requests,
    refused: [...h.refused],
    qat: qat === null ? null : {
      ringPairs: qat.ringPairs,
      softwareVms: qat.softwareVms,
      services: [...qat.services],
      doorbells,
      interrupts,
    },
  };
}

function inlineReport(engine: AcceleratorEngine, device: string | null): AcceleratorReport {
  const s = engine.stats();
  const qat = engine instanceof QatEngine ? (s as QatStats) : null;
  return {
    kind: qat === null ? "virtio-crypto" : "qat-gen4-vf",
    device,
    name: engine.name,
    state: s.state,
    epoch: s.epoch,
    failures: s.failures,
    resets: Math.max(0, s.epoch - 1),
    lastFailure: s.lastFailure,
    sessions: s.sessions,
    inflight: s.inflight,
    completed: s.completed,
    failed: s.failed,
    declined: s.declined,
    bounced: s.bounced,
    refused: [...s.refused],
    qat: qat === null ? null : {
      ringPairs: qat.ringPairs,
      softwareVms: 0, // one engine on the calling thread serves every VM
      services: [...qat.services],
      doorbells: qat.doorbells,
      interrupts: qat.interrupts,
    },
  };
}

// A VM's client counters arrive as a plain record (they crossed a thread): anything not a number counts 0.
function counter(record: Record<string, unknown> | null, key: string): number {
  const v = record?.[key];
  return typeof v === "number" && Number.isFinite(v) ? v : 0;
}
