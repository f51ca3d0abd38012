/**
 * The accelerator self-test (`cryptobridge selftest`, issue 11 item 6): for every algorithm the accelerator
 * advertises, the published known-answer vectors run on the accelerator's own engine (`kat.ts`; never through
 * the router, so nothing is quietly done in software), then its speed against the software engine at 64 B and
 * 4 KiB (`speed.ts`). The report (`report.ts`) is what a user with the hardware sends back.
 *
 * @module
 */

import type { AcceleratorEngine } from "../accel/open.ts";
import { type CryptoEngine, EngineError } from "../engine/mod.ts";
import { CipherAlgo } from "../spec/virtio_crypto.ts";
import { chainCases } from "./chain_case.ts";
import { type KatOutcome, runCases } from "./kat.ts";
import { type AlgorithmReport, countResults, FAILING_RESULTS, type SelftestReport } from "./report.ts";
import { SelftestTimeout } from "./run_op.ts";
import { measureSpeed, type SpeedOptions } from "./speed.ts";
import { timeable } from "./speed_op.ts";
import { type SelftestTarget, selftestTargets } from "./targets.ts";
import { ThroughputError } from "./throughput.ts";

/** Options of `runSelftest`. */
export interface SelftestOptions {
  /** Each speed measurement's length, ms; 0 measures nothing. Default 200. */
  readonly durationMs?: number;
  /** Requests in flight on the accelerator during speed runs. Default 16. */
  readonly depth?: number;
  /** Source sizes of the speed runs. Default 64 and 4096. */
  readonly sizes?: readonly number[];
  /** Longest wait for one answer (and longest time without a completion in a speed run), ms. Default 5000. */
  readonly timeoutMs?: number;
}

/** The accelerator under test. */
export interface SelftestSubject {
  /** Its PCI address. */
  readonly device: string;
  /** Its kind (`virtio-crypto`, `qat-gen4-vf`). */
  readonly kind: string;
  /** Its engine, open. */
  readonly engine: AcceleratorEngine;
}

/** The version the report names (the CLI passes cryptobridge's). */
export interface SelftestContext {
  readonly version: string;
}

const DEFAULTS = { durationMs: 200, depth: 16, sizes: [64, 4096], timeoutMs: 5000 } as const;

/**
 * Runs the self-test on an open accelerator; closes nothing.
 *
 * @param subject The accelerator.
 * @param software The software engine (the speed reference, and the chained case's MAC).
 * @param options Duration, depth, sizes, timeout.
 * @param context The version to report.
 * @returns The report.
 */
export async function runSelftest(
  subject: SelftestSubject,
  software: CryptoEngine,
  options: SelftestOptions = {},
  context: SelftestContext = { version: "unknown" },
): Promise<SelftestReport> {
  const o = { ...DEFAULTS, ...definedOf(options) };
  const accel = subject.engine;
  const chain = await chainCases(software, o.timeoutMs);
  const device = { caps: accel.capabilities(), refusedAtOpen: accel.stats().refused };
  const targets = selftestTargets(device, software.capabilities(), chain);
  const speed = { sizes: o.sizes, durationMs: o.durationMs, depth: o.depth, stallMs: o.timeoutMs };
  const algorithms: AlgorithmReport[] = [];
  for (const t of targets) algorithms.push(await testTarget(t, accel, software, o.timeoutMs, speed));
  const stats = accel.stats();
  const counts = countResults(algorithms);
  return {
    version: context.version,
    device: subject.device,
    kind: subject.kind,
    engine: accel.name,
    software: software.capabilities().cipher.get(CipherAlgo.AES_CBC)?.source ?? software.name,
    durationMs: o.durationMs,
    depth: o.depth,
    refusedAtOpen: stats.refused,
    algorithms,
    accelerator: { state: stats.state, failures: stats.failures, lastFailure: stats.lastFailure },
    counts,
    passed: FAILING_RESULTS.every((r) => counts[r] === 0),
  };
}

function definedOf(options: SelftestOptions): Partial<Required<SelftestOptions>> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
}

async function testTarget(
  t: SelftestTarget,
  accel: AcceleratorEngine,
  software: CryptoEngine,
  timeoutMs: number,
  speed: SpeedOptions,
): Promise<AlgorithmReport> {
  const base = { name: t.name, service: t.service, algo: t.algo, advertised: t.advertised };
  const none = { measuredWith: null, speed: [] };
  if (t.settled !== null) {
    const { result, detail } = t.settled;
    return { ...base, result, vectors: { run: 0, passed: 0 }, detail, ...none };
  }
  const kat = await runCases(accel, t.cases, { timeoutMs, lastFailure: () => accel.stats().lastFailure });
  const report: AlgorithmReport = {
    ...base,
    result: kat.result,
    vectors: { run: kat.run, passed: kat.passed },
    detail: kat.detail,
    ...none,
  };
  return speed.durationMs > 0 ? await withSpeed(report, kat, accel, software, speed) : report;
}

// The speed columns, for an algorithm the accelerator answered (right or wrong); a failed speed run is an error.
async function withSpeed(
  report: AlgorithmReport,
  kat: KatOutcome,
  accel: AcceleratorEngine,
  software: CryptoEngine,
  speed: SpeedOptions,
): Promise<AlgorithmReport> {
  const c = kat.first;
  if ((report.result !== "pass" && report.result !== "mismatch") || c === null || !timeable(c)) return report;
  try {
    const samples = await measureSpeed(accel, software, c, speed);
    return { ...report, measuredWith: c.id, speed: samples };
  } catch (e) {
    if (!(e instanceof ThroughputError || e instanceof EngineError || e instanceof SelftestTimeout)) throw e;
    const detail = `speed run (shaped like ${c.id}): ${e.message}`;
    if (report.result === "mismatch") return { ...report, detail: `${report.detail}; ${detail}` };
    return { ...report, result: "error", detail };
  }
}
