/**
 * Prometheus metrics (docs/operations.md, "Metrics"): the text exposition format 0.0.4, a registry that turns
 * the daemon's `MetricsSnapshot` into metric families at each scrape, a latency histogram recorder, and the HTTP
 * endpoint of `serve --metrics ADDR` (TCP or a Unix socket). Loads no FFI.
 *
 * @example Serve a snapshot on a free local port
 * ```ts ignore
 * import { MetricsRegistry, MetricsServer, parseMetricsAddress } from "./src/metrics/mod.ts";
 * const registry = new MetricsRegistry(() => daemonSnapshot());
 * const server = await MetricsServer.listen({ address: parseMetricsAddress("127.0.0.1:9464"), registry });
 * // curl http://127.0.0.1:9464/metrics
 * await server.close();
 * ```
 *
 * @module
 */

export {
  CONTENT_TYPE,
  escapeHelp,
  escapeLabelValue,
  formatValue,
  type HistogramSample,
  type Labels,
  type MetricFamily,
  type MetricType,
  type Sample,
  writeExposition,
} from "./exposition.ts";
export {
  type AcceleratorMetrics,
  DEFAULT_LATENCY_BOUNDS,
  type HistogramSnapshot,
  LatencyHistogram,
  type MetricsSnapshot,
  type RequestCount,
  type ServedPath,
  type VmMetrics,
} from "./snapshot.ts";
export { ACCELERATOR_STATES, histogramSample, metricFamilies, MetricsRegistry } from "./registry.ts";
export {
  type MetricsAddress,
  MetricsAddressError,
  MetricsServer,
  type MetricsServerOptions,
  parseMetricsAddress,
} from "./http.ts";
