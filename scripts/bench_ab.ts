/**
 * A/B comparison of two commits of the bridge, interleaved: the working tree (B) against another commit (A, checked
 * out once into a temporary git worktree), each round running `cryptobridge bench --json` for every size on both, in
 * one of the report's modes (`benchCommand`, scripts/bench_measure.ts), the daemon and the generator
 * pinned. It prints per size the median, the spread (min-max) of each side and B / A
 * at the medians, and the median (min-max) of each round's own B / A ("paired"; A runs first in odd rounds,
 * B in even ones). On a shared VM host one run can move 10% from the next as the host's load changes, so a
 * change of a few percent shows only in the medians of interleaved rounds (docs/architecture.md, "Threads", was
 * measured this way). This is a script, not a test: it asserts nothing.
 *
 * Usage: deno run -A scripts/bench_ab.ts --base REF [--rounds N] [--mode irq|event|busy|poll] [--algo A]
 *        [--size LIST] [--pin-serve CPU] [--pin-bench CPU] [-- more bench flags, e.g. --indirect]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { benchCommand, type MeasureSettings, run } from "./bench_measure.ts";
import { type Algorithm, ALGORITHMS, median, type Mode, MODES } from "./bench_rows.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    base: { type: "string" },
    rounds: { type: "string", default: "5" },
    mode: { type: "string", default: "event" },
    algo: { type: "string", default: "aes-128-cbc" },
    size: { type: "string", default: "64,4096,16384" },
    "pin-serve": { type: "string", default: "1" },
    "pin-bench": { type: "string", default: "0" },
    help: { type: "boolean", short: "h", default: false },
  },
});

const USAGE = "Usage: deno run -A scripts/bench_ab.ts --base REF [--rounds N] [--mode irq|event|busy|poll] " +
  "[--algo A] [--size LIST] [--pin-serve CPU] [--pin-bench CPU] [-- bench flags]";

const root = fileURLToPath(new URL("..", import.meta.url));

/** What `benchCommand` needs for the checkout at `dir` (the report's fields it does not use keep neutral values). */
function settingsFor(dir: string): MeasureSettings {
  return {
    repeat: 1,
    pinServe: values["pin-serve"]!,
    pinBench: values["pin-bench"]!,
    duration: "2",
    warmup: "0.5",
    depth: "32",
    opensslSeconds: "1",
    waitIdle: false,
    mod: join(dir, "mod.ts"),
  };
}

/** One `bench --json` case in the checkout at `dir`: operations/s. */
async function opsPerSec(dir: string, size: string, extra: readonly string[]): Promise<number> {
  const cmd = benchCommand(values.mode as Mode, values.algo as Algorithm, Number(size), settingsFor(dir));
  const doc = JSON.parse(await run([...cmd, ...extra])) as { results: { opsPerSec: number }[] };
  return doc.results[0]!.opsPerSec;
}

function row(size: string, a: number[], b: number[]): string {
  const k = (x: number) => `${(x / 1000).toFixed(1)}k`;
  const side = (xs: number[]) => `${k(median(xs))} (${k(Math.min(...xs))}-${k(Math.max(...xs))})`;
  const ratio = (median(b) / median(a)).toFixed(3);
  // Each round's A and B ran back to back, so their ratio shares the host's state of that moment: on a host whose
  // speed drifts by 20% between rounds, the median of these pairs is steadier than the ratio of the medians.
  const pairs = b.map((x, i) => x / a[i]!);
  const f = (x: number) => x.toFixed(3);
  const paired = `${f(median(pairs))} (${f(Math.min(...pairs))}-${f(Math.max(...pairs))})`;
  const sides = `A ${side(a).padEnd(26)} B ${side(b).padEnd(26)}`;
  return `${size.padStart(6)} B  ${sides} B/A ${ratio}  paired ${paired}`;
}

async function main(): Promise<void> {
  if (values.help) return console.log(USAGE);
  const base = values.base;
  const rounds = Number(values.rounds);
  const known = MODES.includes(values.mode as Mode) &&
    (ALGORITHMS as readonly string[]).includes(values.algo!);
  if (base === undefined || !Number.isInteger(rounds) || rounds < 1 || !known) {
    console.error(
      `bench_ab: --base REF, --rounds N (>= 1), --mode one of ${MODES.join(", ")} and --algo one of ` +
        `${ALGORITHMS.join(", ")} are needed\n${USAGE}`,
    );
    Deno.exit(2);
  }
  const sizes = values.size!.split(",");
  const dirA = await Deno.makeTempDir({ prefix: "cryptobridge-ab-" });
  await run(["git", "-C", root, "worktree", "add", "--detach", dirA, base]);
  try {
    const a = new Map(sizes.map((s) => [s, [] as number[]]));
    const b = new Map(sizes.map((s) => [s, [] as number[]]));
    for (let r = 1; r <= rounds; r++) {
      for (const s of sizes) {
        // A then B in odd rounds, B then A in even ones: a drift within a pair then favours each side equally.
        if (r % 2 === 1) a.get(s)!.push(await opsPerSec(dirA, s, positionals));
        b.get(s)!.push(await opsPerSec(root, s, positionals));
        if (r % 2 === 0) a.get(s)!.push(await opsPerSec(dirA, s, positionals));
      }
      console.error(`round ${r}/${rounds} done`);
    }
    console.log(
      `A = ${base}, B = working tree; ${rounds} interleaved rounds, ${values.mode} mode, ${values.algo}, ` +
        "ops/s median (min-max)",
    );
    for (const s of sizes) console.log(row(s, a.get(s)!, b.get(s)!));
  } finally {
    await run(["git", "-C", root, "worktree", "remove", "--force", dirA]);
  }
}

if (import.meta.main) await main();
