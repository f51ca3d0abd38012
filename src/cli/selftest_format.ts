/**
 * The text form of `cryptobridge selftest`: a header saying what ran how, one table row per algorithm (result,
 * vectors, ops/s on the device and in software at each size, their ratio), the details of every row that has
 * one, and the verdict.
 *
 * @module
 */

import type { AcceleratorKind } from "../pci/mod.ts";
import { KIND_LABELS } from "../pci/mod.ts";
import type { AlgorithmReport, SelftestReport, SelftestResult, SpeedSample } from "../selftest/mod.ts";
import { table } from "./table.ts";

const RESULT_TEXT: Readonly<Record<SelftestResult, string>> = {
  pass: "pass",
  mismatch: "MISMATCH",
  error: "ERROR",
  refused: "refused",
  skipped: "skipped",
};

/**
 * A request size as the header shows it.
 *
 * @param n Bytes.
 * @returns `64 B`, `4 KiB`.
 */
export function sizeText(n: number): string {
  return n >= 1024 && n % 1024 === 0 ? `${n / 1024} KiB` : `${n} B`;
}

/**
 * Operations per second, to three significant digits.
 *
 * @param n ops/s, or null.
 * @returns `812`, `45.3 k`, `1.21 M`, or `-`.
 */
export function opsText(n: number | null): string {
  if (n === null) return "-";
  if (n < 1000) return n.toFixed(0);
  if (n < 1e6) return `${(n / 1e3).toPrecision(3)} k`;
  return `${(n / 1e6).toPrecision(3)} M`;
}

function ratioText(r: number | null): string {
  return r === null ? "-" : r >= 10 ? r.toFixed(1) : r.toFixed(2);
}

function sizesOf(report: SelftestReport): number[] {
  const sizes = new Set<number>();
  for (const a of report.algorithms) for (const s of a.speed) sizes.add(s.size);
  return [...sizes];
}

function speedCells(a: AlgorithmReport, sizes: readonly number[]): string[] {
  return sizes.flatMap((size) => {
    const s: SpeedSample | undefined = a.speed.find((x) => x.size === size);
    return [
      opsText(s?.deviceOpsPerSec ?? null),
      opsText(s?.softwareOpsPerSec ?? null),
      ratioText(s?.ratio ?? null),
    ];
  });
}

function rows(report: SelftestReport): string[] {
  const sizes = sizesOf(report);
  const header = [
    "ALGORITHM",
    "RESULT",
    "VECTORS",
    ...sizes.flatMap((s) => [`DEVICE ${sizeText(s)}`, `SOFTWARE ${sizeText(s)}`, "RATIO"]),
  ];
  return table(
    header,
    report.algorithms.map((a) => [
      a.name,
      RESULT_TEXT[a.result],
      a.vectors.run === 0 ? "-" : `${a.vectors.passed}/${a.vectors.run}`,
      ...speedCells(a, sizes),
    ]),
  );
}

function verdict(report: SelftestReport): string {
  const c = report.counts;
  const rest = `${c.pass} passed, ${c.refused} refused, ${c.skipped} skipped`;
  if (report.passed) return `Result: PASS: no mismatch and no error (${rest})`;
  return `Result: FAIL: ${c.mismatch} mismatch(es), ${c.error} error(s) (${rest})`;
}

function header(report: SelftestReport): string[] {
  const kind = KIND_LABELS[report.kind as AcceleratorKind] ?? report.kind;
  const speed = report.durationMs === 0
    ? "no speed runs (--duration 0)"
    : `ops/s over ${report.durationMs} ms per measurement, ${report.depth} in flight on the device`;
  return [
    `cryptobridge ${report.version} selftest of ${report.device} (${kind}, ${report.engine})`,
    `Known-answer vectors on the device itself; ${speed}`,
    `Software engine: ${report.software}`,
    "",
  ];
}

/**
 * The lines `selftest` prints.
 *
 * @param report The self-test's report.
 * @returns The lines.
 */
export function formatSelftest(report: SelftestReport): string[] {
  const details = report.algorithms.filter((a) => a.detail !== null).map((a) => `  ${a.name}: ${a.detail}`);
  const acc = report.accelerator;
  const refused = report.refusedAtOpen.length === 0
    ? []
    : [`Refused when the driver probed them at open: ${report.refusedAtOpen.join(", ")}`];
  return [
    ...header(report),
    ...rows(report),
    ...(details.length === 0 ? [] : ["", "Details:", ...details]),
    "",
    ...refused,
    `Accelerator after the run: ${acc.state}, ${acc.failures} failure(s)` +
    (acc.lastFailure === null ? "" : ` (last: ${acc.lastFailure})`),
    verdict(report),
    `Send this output (or --json) back to the project with \`cryptobridge info ${report.device}\`.`,
  ];
}
