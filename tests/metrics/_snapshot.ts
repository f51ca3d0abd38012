/**
 * Test fixture: a snapshot with two VMs, an accelerator, and label values that need escaping.
 *
 * @module
 */

import { LatencyHistogram, type MetricsSnapshot, type VmMetrics } from "../../src/metrics/mod.ts";

export function vmMetrics(name: string, observations: readonly number[] = [0.00002, 0.0003, 2]): VmMetrics {
  const h = new LatencyHistogram();
  for (const s of observations) h.observe(s);
  return {
    name,
    connected: true,
    sessions: { accelerator: 3, software: 1 },
    inflight: 2,
    requests: [
      {
        service: "cipher",
        algorithm: "AES-CBC",
        path: "accelerator",
        status: "ok",
        requests: 90,
        bytes: 5760,
      },
      { service: "cipher", algorithm: "AES-CBC", path: "software", status: "ok", requests: 10, bytes: 640 },
      { service: "mac", algorithm: "HMAC-SHA256", path: "software", status: "badmsg", requests: 1, bytes: 0 },
    ],
    fallbacks: { "not-advertised": 1, refused: 0, nospc: 2, unavailable: 0, failed: 4 },
    latency: h.snapshot(),
  };
}

export const SNAPSHOT: MetricsSnapshot = {
  version: "0.1.0",
  startTimeSeconds: 1767225600.5,
  vms: [vmMetrics("vm1"), vmMetrics('odd"name\\with\nnewline')],
  accelerator: {
    device: "0000:00:04.0",
    state: "failed",
    failures: 1,
    resets: 2,
    epoch: 2,
    sessions: 3,
    inflight: 0,
  },
};
