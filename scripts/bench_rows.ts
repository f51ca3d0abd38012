/**
 * The rows of `scripts/bench_report.ts` and what is derived from them: what each side measured, the OpenSSL
 * ceiling of each case (for the chain, the two passes in a row: 1 / (1/CBC + 1/HMAC)), the bridge/OpenSSL ratios
 * and the first performance targets (issue #6). Pure: no process is run here.
 *
 * @module
 */

import type { WakeCost } from "./wake_cost.ts";
import type { LineRoundTrip } from "./line_round_trip.ts";

/**
 * The median of some figures (the mean of the middle two for an even count).
 *
 * @param xs The figures, at least one.
 * @returns Their median.
 */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The algorithms the report measures. */
export const ALGORITHMS = ["aes-128-cbc", "aes-256-gcm", "hmac-sha256", "aes-128-cbc-hmac-sha256"] as const;
/** One of `ALGORITHMS`. */
export type Algorithm = (typeof ALGORITHMS)[number];
/**
 * How guest and daemon meet: interrupts and kicks against the default daemon (`event`, its 50 µs busy-poll
 * window) or one that sleeps at once (`irq`, `--busy-poll 0`), a daemon busy-polling for 1 ms, or both sides
 * polling.
 */
export type Mode = "event" | "irq" | "busy" | "poll";

/** Every mode, in the report's order. */
export const MODES: readonly Mode[] = ["irq", "event", "busy", "poll"];

/** The cases of a report: every algorithm at every size, in every mode. */
export interface Matrix {
  readonly algorithms: readonly Algorithm[];
  readonly sizes: readonly number[];
  readonly modes: readonly Mode[];
}

/** One `openssl speed` figure. */
export interface OpensslRow {
  readonly name: string;
  readonly size: number;
  readonly args: readonly string[];
  readonly bytesPerSec: number;
  readonly idleBefore: number;
}

/** One `cryptobridge bench` figure. */
export interface BridgeRow {
  readonly mode: Mode;
  readonly algorithm: Algorithm;
  readonly size: number;
  readonly opsPerSec: number;
  readonly bytesPerSec: number;
  readonly latencyUs: Record<string, number>;
  readonly verified: number;
  readonly idleBefore: number;
}

/** A bridge figure over its OpenSSL ceiling. */
export interface RatioRow {
  readonly mode: Mode;
  readonly algorithm: Algorithm;
  readonly size: number;
  readonly bridgeMBs: number;
  readonly opensslMBs: number;
  readonly ratio: number;
}

/** One case of the comparison: the medians of both sides. */
export interface DpdkRow {
  readonly mode: "poll" | "event";
  readonly size: number;
  readonly bridgeOpsPerSec: number;
  readonly dpdkOpsPerSec: number;
  /** bridge over DPDK. */
  readonly ratio: number;
  /** Every round's figures, bridge and DPDK. */
  readonly rounds: { readonly bridge: number[]; readonly dpdk: number[] };
  /** What the generator reported about DPDK's answers (kind and count, summed over the rounds). */
  readonly departures: Record<string, number>;
}

/** The comparison in the report's JSON. */
export interface DpdkComparison {
  readonly binary: string;
  readonly rounds: number;
  readonly rows: DpdkRow[];
}

/** A performance target, met or missed. */
export interface Target {
  readonly mode: Mode;
  readonly name: string;
  readonly figure: string;
  readonly pass: boolean;
}

/** What the report's JSON holds, as far as `--render` reads it back. */
export interface Report {
  readonly date: string;
  readonly host: {
    readonly cpus: number;
    readonly cpu: string;
    readonly openssl: string;
    readonly deno: string;
    readonly loadavg: number[];
    /** What a wake-up costs between the two CPUs (scripts/wake_cost.ts); absent in reports before 2026-12-07. */
    readonly wake?: WakeCost;
    /** Cache-line round trip before and after the cases (scripts/line_round_trip.ts); absent in older reports. */
    readonly lineRoundTrip?: { readonly before: LineRoundTrip; readonly after: LineRoundTrip };
  };
  readonly settings: Matrix & {
    readonly depth: number;
    readonly pinServe: number;
    readonly pinBench: number;
  };
  readonly bridge: BridgeRow[];
  readonly ratios: RatioRow[];
  readonly targets: Target[];
  /** The DPDK comparison (`scripts/bench_dpdk.ts`), when DPDK was measured. */
  readonly dpdk?: DpdkComparison;
}

function ceilingOf(openssl: readonly OpensslRow[], algorithm: Algorithm, size: number): number {
  const of = (name: string): number =>
    openssl.find((o) => o.name === name && o.size === size)?.bytesPerSec ?? NaN;
  if (algorithm !== "aes-128-cbc-hmac-sha256") return of(algorithm);
  return 1 / (1 / of("aes-128-cbc") + 1 / of("hmac-sha256"));
}

/**
 * Each bridge figure over the OpenSSL ceiling of its case.
 *
 * @param openssl The OpenSSL figures.
 * @param bridge The bridge figures.
 * @returns One ratio per bridge figure.
 */
export function ratiosOf(openssl: readonly OpensslRow[], bridge: readonly BridgeRow[]): RatioRow[] {
  return bridge.map((b) => {
    const ceiling = ceilingOf(openssl, b.algorithm, b.size);
    return {
      mode: b.mode,
      algorithm: b.algorithm,
      size: b.size,
      bridgeMBs: b.bytesPerSec / 1e6,
      opensslMBs: ceiling / 1e6,
      ratio: b.bytesPerSec / ceiling,
    };
  });
}

/**
 * The targets in each mode, AES-128-CBC: event and busy (issues 6 and 10) at 16 KiB at least 0.8 of `openssl
 * speed`, at 4 KiB at least 0.7, at 64 B at least 500 k operations/s; poll (issues 10 and 15) at 16 KiB at least
 * 0.9, at 4 KiB 0.7, at 64 B 700 k operations/s (each only when measured).
 *
 * @param modes The modes measured.
 * @param bridge The bridge figures.
 * @param ratios Their ratios.
 * @returns The targets, met or missed.
 */
export function targets(
  modes: readonly Mode[],
  bridge: readonly BridgeRow[],
  ratios: readonly RatioRow[],
): Target[] {
  const out: Target[] = [];
  for (const mode of modes) {
    const ratio = (size: number): number | undefined =>
      ratios.find((r) => r.mode === mode && r.algorithm === "aes-128-cbc" && r.size === size)?.ratio;
    const bars = mode === "poll" ? { big: 0.9, small: 700_000 } : { big: 0.8, small: 500_000 };
    for (const [size, bar] of [[16384, bars.big], [4096, 0.7]] as const) {
      const r = ratio(size);
      if (r !== undefined) {
        out.push({
          mode,
          name: `AES-128-CBC ${size / 1024} KiB >= ${bar} of openssl speed`,
          figure: r.toFixed(3),
          pass: r >= bar,
        });
      }
    }
    const small = bridge.find((b) => b.mode === mode && b.algorithm === "aes-128-cbc" && b.size === 64);
    if (small !== undefined) {
      out.push({
        mode,
        name: `AES-128-CBC 64 B >= ${bars.small / 1000} k ops/s`,
        figure: `${Math.round(small.opsPerSec).toLocaleString("en-US")} ops/s`,
        pass: small.opsPerSec >= bars.small,
      });
    }
  }
  return out;
}
