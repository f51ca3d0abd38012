/**
 * What `cryptobridge bench` prints: the results table, the JSON document (`--json`) and the progress line.
 *
 * @module
 */

import { type DepartureKind, describeDeparture } from "../frontend/mod.ts";
import type { BenchCaseResult, BenchProgress } from "./bench_run.ts";

/** The `--json` document. */
export interface BenchReport {
  readonly tool: "cryptobridge bench";
  readonly version: string;
  readonly date: string;
  /** The back-end measured. */
  readonly backend: {
    readonly socket: string;
    /** Started by the bench (`cryptobridge serve` in a separate process). */
    readonly spawned: boolean;
    /** `serve --poll` (spawned back-ends only). */
    readonly poll?: boolean;
    readonly command?: readonly string[];
    readonly cpu?: number;
  };
  readonly settings: {
    readonly depth: number;
    readonly durationSeconds?: number;
    readonly count?: number;
    readonly warmupSeconds: number;
    /** The `--peer` preset, when one was given. */
    readonly peer?: string;
    readonly indirect: boolean;
    /** `free-list` or `avail-order`. */
    readonly heads: string;
    readonly vringEnable: boolean;
    /** Sizes above it were skipped. */
    readonly maxSize?: number;
    readonly sessionLayout: string;
    readonly completion: string;
    readonly verifyEvery: number;
    readonly controlQueue: boolean;
    readonly queueSize: number;
    readonly benchCpu?: number;
  };
  readonly host: { readonly cpus: number; readonly loadavg: readonly number[] };
  /** The first (or only) VM's results. */
  readonly results: readonly BenchCaseResult[];
  /** With several VMs (`--socket` more than once, `--vms N`): each VM's results, and the cases summed over them. */
  readonly vms?: readonly { readonly socket: string; readonly results: readonly BenchCaseResult[] }[];
  readonly total?: readonly BenchCaseResult[];
  /** Every sampled output matched the software engine's (a mismatch ends the run with an error instead). */
  readonly verification: { readonly passed: true; readonly verified: number };
  /** Departures from the specs over every case (each case's own are in its `departures`). */
  readonly departures: DepartureSummary;
}

/** `departures` of the JSON report. */
export interface DepartureSummary {
  /** Occurrences of every kind over every case of every VM. */
  readonly total: number;
  /** Occurrences per kind (kinds seen only). */
  readonly byKind: Readonly<Partial<Record<DepartureKind, number>>>;
  /** Cases that stalled (`status: "stalled"`), as "algorithm size". */
  readonly stalled: readonly string[];
}

/**
 * Sums the departures of some cases.
 *
 * @param results The cases.
 * @returns Totals per kind, and the stalled cases.
 */
export function summarizeDepartures(results: readonly BenchCaseResult[]): DepartureSummary {
  const byKind: Partial<Record<DepartureKind, number>> = {};
  let total = 0;
  for (const d of results.flatMap((r) => r.departures ?? [])) {
    byKind[d.kind] = (byKind[d.kind] ?? 0) + d.count;
    total += d.count;
  }
  const stalled = results.filter((r) => r.status === "stalled").map((r) => `${r.algorithm} ${r.size}`);
  return { total, byKind, stalled };
}

/**
 * The departures of each case and the cases that stalled, or one line saying there were none.
 *
 * @param results The cases.
 * @returns Lines, without a trailing newline (empty when no case ran).
 */
export function formatDepartures(results: readonly BenchCaseResult[]): string {
  const ran = results.filter((r) => r.status !== "skipped");
  if (ran.length === 0) return "";
  const lines: string[] = [];
  for (const r of ran) {
    if (r.status === "stalled") {
      lines.push(
        `stalled ${r.algorithm} ${r.size} B: ${r.neverCompleted} requests never completed (connected again for the cases after it)`,
      );
    }
    const ds = r.departures ?? [];
    if (ds.length > 0) {
      lines.push(`departures in ${r.algorithm} ${r.size} B: ${ds.map(describeDeparture).join("; ")}`);
    }
  }
  return lines.length > 0 ? lines.join("\n") : "no departures from the virtio and vhost-user specs seen";
}

/** A number with thousands separators. */
function grouped(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** A latency in µs with 3 significant digits at most. */
function micros(us: number | undefined): string {
  if (us === undefined || Number.isNaN(us)) return "-";
  return us >= 100 ? us.toFixed(0) : us >= 10 ? us.toFixed(1) : us.toFixed(2);
}

/**
 * The results as an aligned text table, skipped cases listed below it.
 *
 * @param results The cases.
 * @returns Lines, without a trailing newline.
 */
export function formatTable(results: readonly BenchCaseResult[]): string {
  const head = ["algorithm", "size", "ops/s", "MB/s", "p50 µs", "p99 µs", "max µs", "verified"];
  const ok = results.filter((r) => r.status !== "skipped");
  const rows = ok.map((r) => [
    r.algorithm,
    `${r.size} B`,
    grouped(r.opsPerSec ?? 0),
    ((r.bytesPerSec ?? 0) / 1e6).toFixed(1),
    micros(r.latencyUs?.p50Us),
    micros(r.latencyUs?.p99Us),
    micros(r.latencyUs?.maxUs),
    grouped(r.verified ?? 0),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const right = new Set([1, 2, 3, 4, 5, 6, 7]);
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
  const lines = [line(head), ...rows.map(line)];
  return [...lines, ...skippedLines(results)].join("\n");
}

/** One line per algorithm and reason: sizes named unless every size of the algorithm was skipped for it. */
function skippedLines(results: readonly BenchCaseResult[]): string[] {
  const groups = new Map<string, { algorithm: string; reason: string; sizes: number[] }>();
  for (const r of results) {
    if (r.status !== "skipped") continue;
    const key = `${r.algorithm}\n${r.reason ?? ""}`;
    const g = groups.get(key) ?? { algorithm: r.algorithm, reason: r.reason ?? "", sizes: [] };
    g.sizes.push(r.size);
    groups.set(key, g);
  }
  return [...groups.values()].map((g) => {
    const all = results.filter((r) => r.algorithm === g.algorithm).length === g.sizes.length;
    const sizes = all ? "" : ` ${g.sizes.map((n) => `${n} B`).join(", ")}`;
    return `skipped ${g.algorithm}${sizes}: ${g.reason}`;
  });
}

/**
 * The progress line (no newline; the caller rewrites it in place on a terminal).
 *
 * @param p Where the run is.
 * @returns The line.
 */
export function formatProgress(p: BenchProgress): string {
  const seconds = (p.elapsedMs / 1000).toFixed(1);
  const rate = p.elapsedMs > 0 ? grouped((p.completed * 1000) / p.elapsedMs) : "0";
  const phase = p.warmup ? " (warm-up)" : "";
  return `[${p.index}/${p.cases}] ${p.algorithm} ${p.size} B${phase}: ${seconds} s, ${rate} ops/s`;
}
