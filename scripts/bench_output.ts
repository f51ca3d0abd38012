/**
 * What `scripts/bench_report.ts` shows: the ratio table and the targets on standard output, and the SVG chart
 * beside the JSON (one panel per algorithm, the OpenSSL ceiling over each bridge mode). Used after a run and by
 * `--render`, which draws them again from a saved report.
 *
 * @module
 */

import { type ChartPanel, type ChartSeries, renderChart } from "./bench_chart.ts";
import type { BridgeRow, DpdkComparison, Matrix, RatioRow, Report, Target } from "./bench_rows.ts";
import { formatDpdk } from "./bench_dpdk.ts";

function printRatios(matrix: Matrix, ratios: readonly RatioRow[], t: readonly Target[]): void {
  const { algorithms, sizes, modes } = matrix;
  const head = ["algorithm", "size", "OpenSSL MB/s", ...modes.flatMap((m) => [`${m} MB/s`, `${m} ratio`])];
  const rows: string[][] = [];
  for (const algorithm of algorithms) {
    for (const size of sizes) {
      const rs = modes.map((m) =>
        ratios.find((r) => r.mode === m && r.algorithm === algorithm && r.size === size)
      );
      const first = rs.find((r) => r !== undefined);
      if (first === undefined) continue;
      rows.push([
        algorithm,
        `${size} B`,
        first.opensslMBs.toFixed(1),
        ...rs.flatMap((r) => (r === undefined ? ["-", "-"] : [r.bridgeMBs.toFixed(1), r.ratio.toFixed(3)])),
      ]);
    }
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i < 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  console.log(line(head));
  for (const r of rows) console.log(line(r));
  console.log("\ntargets (one data queue; bridge and generator on their own cores):");
  for (const x of t) {
    console.log(`  ${x.pass ? "pass" : "MISS"}  ${x.mode.padEnd(5)}  ${x.name}: ${x.figure}`);
  }
}

/** DPDK's lines in the AES-128-CBC panel: its medians, one per compared mode. */
function dpdkSeries(algorithm: string, dpdk: DpdkComparison | undefined): ChartSeries[] {
  if (dpdk === undefined || algorithm !== "aes-128-cbc") return [];
  const modes = [...new Set(dpdk.rows.map((r) => r.mode))];
  return modes.map((mode) => ({
    label: `DPDK vhost_crypto, ${mode}`,
    kind: "dpdk" as const,
    points: dpdk.rows.filter((r) => r.mode === mode).map((r) => ({
      size: r.size,
      bytesPerSec: r.dpdkOpsPerSec * r.size,
    })),
  }));
}

function chartPanels(
  matrix: Matrix,
  bridge: readonly BridgeRow[],
  ratios: readonly RatioRow[],
  dpdk?: DpdkComparison,
): ChartPanel[] {
  const { sizes, modes } = matrix;
  return matrix.algorithms.map((algorithm) => ({
    title: algorithm,
    series: [
      {
        label: algorithm === "aes-128-cbc-hmac-sha256" ? "openssl CBC+HMAC" : "openssl speed",
        kind: "openssl" as const,
        points: sizes.map((size) => ({
          size,
          bytesPerSec: (ratios.find((r) => r.algorithm === algorithm && r.size === size)?.opensslMBs ?? 0) *
            1e6,
        })),
      },
      ...modes.map((mode) => ({
        label: `bridge, ${mode}`,
        kind: "bridge" as const,
        points: bridge.filter((b) => b.mode === mode && b.algorithm === algorithm).map((b) => ({
          size: b.size,
          bytesPerSec: b.bytesPerSec,
        })),
      })),
      ...dpdkSeries(algorithm, dpdk),
    ],
  }));
}

/**
 * Writes the chart beside the JSON and prints the ratios and targets.
 *
 * @param report The report (its settings name the cases).
 * @param json Path of the report's JSON; the chart gets the same name with `.svg`.
 */
export async function output(report: Report, json: string): Promise<void> {
  const { host, settings, date, bridge, ratios } = report;
  const svg = json.replace(/\.json$/, "") + ".svg";
  await Deno.writeTextFile(
    svg,
    renderChart({
      title: "cryptobridge: throughput by request size (one data queue), OpenSSL as the ceiling",
      subtitle:
        `${host.cpu}, ${host.openssl}; depth ${settings.depth}, bridge on CPU ${settings.pinServe}, generator on CPU ${settings.pinBench}; ${
          date.slice(0, 10)
        }`,
      panels: chartPanels(settings, bridge, ratios, report.dpdk),
    }),
  );
  console.log(`${host.openssl}; ${host.cpu}; Deno ${host.deno}`);
  printRatios(settings, ratios, report.targets);
  if (report.dpdk !== undefined) console.log(`\n${formatDpdk(report.dpdk, ratios)}`);
  console.log(`\nwrote ${json} and ${svg}`);
}
