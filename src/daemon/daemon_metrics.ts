/**
 * What a scrape of `serve --metrics` shows, taken from the running daemon: each VM's snapshot (its thread's meter,
 * its router's fallbacks) and the shared accelerator's counters (docs/operations.md, "Metrics").
 *
 * @module
 */

import type { AcceleratorMetrics, MetricsSnapshot, VmMetrics } from "../metrics/mod.ts";
import type { VmSnapshot } from "../vm/vm_service.ts";
import type { Daemon } from "./daemon.ts";
import { acceleratorReport } from "./accel_report.ts";
import { VERSION } from "./version.ts";

/**
 * The metrics snapshot of a daemon, now.
 *
 * @param daemon The daemon.
 * @param startedAt When it started.
 * @param device The accelerator's PCI address, or null.
 * @returns The snapshot.
 */
export async function daemonMetrics(
  daemon: Daemon,
  startedAt: Date,
  device: string | null,
): Promise<MetricsSnapshot> {
  const vms = await Promise.all([...daemon.vms].map((h) => h.snapshot()));
  const a = acceleratorReport(daemon, device, vms);
  const accelerator: AcceleratorMetrics | null = a === null ? null : {
    device: a.device ?? a.name,
    state: a.state,
    failures: a.failures,
    resets: a.resets,
    epoch: a.epoch,
    sessions: a.sessions,
    inflight: a.inflight,
  };
  return {
    version: VERSION,
    startTimeSeconds: startedAt.getTime() / 1000,
    vms: vms.map(vmMetrics),
    accelerator,
  };
}

function vmMetrics(s: VmSnapshot): VmMetrics {
  return {
    name: s.name,
    connected: s.connected,
    sessions: s.metrics.sessions,
    inflight: s.inflight,
    requests: s.metrics.requests,
    fallbacks: { ...(s.router?.fallbacks ?? {}) },
    latency: s.metrics.latency,
  };
}
