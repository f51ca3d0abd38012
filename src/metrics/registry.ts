/**
 * `MetricsRegistry`: turns the daemon's `MetricsSnapshot`, taken at each scrape through a callback, into the metric
 * families docs/operations.md lists, and writes them in the text format.
 *
 * @module
 */

import {
  type HistogramSample,
  type Labels,
  type MetricFamily,
  type Sample,
  writeExposition,
} from "./exposition.ts";
import type { AcceleratorMetrics, HistogramSnapshot, MetricsSnapshot, VmMetrics } from "./snapshot.ts";

/** Accelerator states that always get a `cryptobridge_accelerator_state` sample (1 for the present one). */
export const ACCELERATOR_STATES: readonly string[] = ["ready", "failed", "closed"];

/** Sums values of equal label sets (a snapshot may split one series over several rows). */
class SeriesSum {
  readonly #series = new Map<string, { labels: Labels; value: number }>();

  add(labels: Labels, value: number): void {
    const key = JSON.stringify(labels);
    const s = this.#series.get(key);
    if (s === undefined) this.#series.set(key, { labels, value });
    else s.value += value;
  }

  samples(): Sample[] {
    return [...this.#series.values()];
  }
}

function counter(name: string, help: string, samples: Sample[]): MetricFamily {
  return { name, help, type: "counter", samples };
}

function gauge(name: string, help: string, samples: Sample[]): MetricFamily {
  return { name, help, type: "gauge", samples };
}

/**
 * A recorded histogram as the format wants it: cumulative counts per bound.
 *
 * @param labels Its labels.
 * @param h The recorded histogram.
 * @returns The sample.
 * @throws RangeError when the counts do not match the bounds.
 */
export function histogramSample(labels: Labels, h: HistogramSnapshot): HistogramSample {
  if (h.counts.length !== h.bounds.length + 1) {
    throw new RangeError(
      `Cannot write histogram: ${h.bounds.length} bounds need ${
        h.bounds.length + 1
      } counts: got ${h.counts.length}`,
    );
  }
  let running = 0;
  const buckets = h.bounds.map((le, i) => [le, running += h.counts[i]!] as const);
  return { labels, buckets, sum: h.sum, count: running + h.counts[h.bounds.length]! };
}

function vmStateFamilies(vms: readonly VmMetrics[]): MetricFamily[] {
  return [
    gauge("cryptobridge_vm_connected", "Whether a vhost-user front-end is connected (1) or not (0)", [
      ...vms.map((vm) => ({ labels: { vm: vm.name }, value: vm.connected ? 1 : 0 })),
    ]),
    gauge(
      "cryptobridge_sessions_open",
      "Sessions open, by the engine holding them",
      vms.flatMap((vm) => [
        { labels: { vm: vm.name, path: "accelerator" }, value: vm.sessions.accelerator },
        { labels: { vm: vm.name, path: "software" }, value: vm.sessions.software },
      ]),
    ),
    gauge(
      "cryptobridge_requests_inflight",
      "Requests taken from the VM's rings and not completed yet",
      vms.map((vm) => ({ labels: { vm: vm.name }, value: vm.inflight })),
    ),
  ];
}

function vmFamilies(vms: readonly VmMetrics[]): MetricFamily[] {
  const requests = new SeriesSum();
  const bytes = new SeriesSum();
  const fallbacks = new SeriesSum();
  for (const vm of vms) {
    for (const r of vm.requests) {
      const labels = {
        vm: vm.name,
        service: r.service,
        algorithm: r.algorithm,
        path: r.path,
        status: r.status,
      };
      requests.add(labels, r.requests);
      bytes.add(labels, r.bytes);
    }
    for (const [reason, n] of Object.entries(vm.fallbacks)) fallbacks.add({ vm: vm.name, reason }, n);
  }
  return [
    ...vmStateFamilies(vms),
    counter(
      "cryptobridge_requests_total",
      "Completed requests by VM, service, algorithm, serving path and virtio-crypto status",
      requests.samples(),
    ),
    counter(
      "cryptobridge_request_bytes_total",
      "Output bytes of completed requests by VM, service, algorithm, serving path and status",
      bytes.samples(),
    ),
    counter(
      "cryptobridge_fallbacks_total",
      "Sessions sent to software by reason (failed: accelerator requests re-run in software)",
      fallbacks.samples(),
    ),
    {
      name: "cryptobridge_request_duration_seconds",
      help: "Time from taking a request off the ring to completing it",
      type: "histogram",
      samples: vms.map((vm) => histogramSample({ vm: vm.name }, vm.latency)),
    },
  ];
}

function acceleratorFamilies(a: AcceleratorMetrics | null): MetricFamily[] {
  const one = (value: number): Sample[] => a === null ? [] : [{ labels: { device: a.device }, value }];
  const states = a === null ? [] : [...new Set([...ACCELERATOR_STATES, a.state])];
  return [
    gauge(
      "cryptobridge_accelerator_up",
      "Whether the accelerator serves (state ready)",
      one(a?.state === "ready" ? 1 : 0),
    ),
    gauge(
      "cryptobridge_accelerator_state",
      "The accelerator's state: 1 for the present one",
      states.map((state) => ({ labels: { device: a!.device, state }, value: state === a!.state ? 1 : 0 })),
    ),
    counter("cryptobridge_accelerator_failures_total", "Accelerator failures seen", one(a?.failures ?? 0)),
    counter(
      "cryptobridge_accelerator_resets_total",
      "Accelerator resets, after failures and on request",
      one(a?.resets ?? 0),
    ),
    gauge(
      "cryptobridge_accelerator_epoch",
      "Accelerator incarnations started (1 + restarts)",
      one(a?.epoch ?? 0),
    ),
    gauge(
      "cryptobridge_accelerator_sessions_open",
      "Sessions open on the accelerator",
      one(a?.sessions ?? 0),
    ),
    gauge(
      "cryptobridge_accelerator_requests_inflight",
      "Requests on the accelerator now",
      one(a?.inflight ?? 0),
    ),
  ];
}

/**
 * The metric families of a snapshot.
 *
 * @param s The snapshot.
 * @returns The families, in a fixed order.
 * @throws RangeError for a histogram whose counts do not match its bounds.
 */
export function metricFamilies(s: MetricsSnapshot): MetricFamily[] {
  return [
    gauge("cryptobridge_build_info", "cryptobridge's version (always 1)", [{
      labels: { version: s.version },
      value: 1,
    }]),
    gauge("cryptobridge_start_time_seconds", "When the daemon started, in seconds since the epoch", [{
      labels: {},
      value: s.startTimeSeconds,
    }]),
    ...vmFamilies(s.vms),
    ...acceleratorFamilies(s.accelerator),
  ];
}

/** Writes a scrape from the snapshot the daemon gives at that moment. */
export class MetricsRegistry {
  readonly #snapshot: () => MetricsSnapshot | Promise<MetricsSnapshot>;

  /**
   * @param snapshot Called at each scrape (the daemon asks its Workers for their counters there).
   */
  constructor(snapshot: () => MetricsSnapshot | Promise<MetricsSnapshot>) {
    this.#snapshot = snapshot;
  }

  /**
   * One scrape.
   *
   * @returns The exposition text.
   */
  async render(): Promise<string> {
    return writeExposition(metricFamilies(await this.#snapshot()));
  }
}
