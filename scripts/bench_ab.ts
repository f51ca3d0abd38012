/**
 * A/B comparison of two commits of the bridge, interleaved: the working tree (B) against another commit (A, checked
 * out once into a temporary git worktree), each round running `cryptobridge bench --json` for every size on A then
 * on B, the daemon and the generator pinned. It prints per size the median, the spread (min-max) of each side and
 * B / A at the medians. On a shared VM host one run can move 10% from the next as the host's load changes, so a
 * change of a few percent shows only in the medians of interleaved rounds (docs/architecture.md, "Threads", was
 * measured this way). This is a script, not a test: it asserts nothing.
 *
 * Usage: deno run -A scripts/bench_ab.ts --base REF [--rounds N] [--algo A] [--size LIST] [--pin-serve CPU]
 *        [--pin-bench CPU] [-- more bench flags, e.g. --poll --completion poll]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { median } from "./bench_rows.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    base: { type: "string" },
    rounds: { type: "string", default: "5" },
    algo: { type: "string", default: "aes-128-cbc" },
    size: { type: "string", default: "64,4096,16384" },
    "pin-serve": { type: "string", default: "1" },
    "pin-bench": { type: "string", default: "0" },
    help: { type: "boolean", short: "h", default: false },
  },
});

const USAGE = "Usage: deno run -A scripts/bench_ab.ts --base REF [--rounds N] [--algo A] [--size LIST] " +
  "[--pin-serve CPU] [--pin-bench CPU] [-- bench flags]";

const root = fileURLToPath(new URL("..", import.meta.url));

/** Runs a command in `cwd`; its stdout, or an error naming it. */
async function run(cmd: string[], cwd: string): Promise<string> {
  const out = await new Deno.Command(cmd[0]!, { args: cmd.slice(1), cwd, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-3).join("\n");
    throw new Error(`${cmd.join(" ")} failed (exit ${out.code}):\n${err}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/** One `bench --json` case in the checkout at `dir`: operations/s. */
async function opsPerSec(dir: string, size: string, extra: readonly string[]): Promise<number> {
  const args = [Deno.execPath(), "run", "--allow-all", "mod.ts", "bench", "--json", "--algo", values.algo!];
  args.push("--size", size, "--duration", "2", "--warmup", "0.5", "--depth", "32");
  args.push("--pin-serve", values["pin-serve"]!, "--pin-bench", values["pin-bench"]!, ...extra);
  const doc = JSON.parse(await run(args, dir)) as { results: { opsPerSec: number }[] };
  return doc.results[0]!.opsPerSec;
}

function row(size: string, a: number[], b: number[]): string {
  const k = (x: number) => `${(x / 1000).toFixed(1)}k`;
  const side = (xs: number[]) => `${k(median(xs))} (${k(Math.min(...xs))}-${k(Math.max(...xs))})`;
  const ratio = (median(b) / median(a)).toFixed(3);
  return `${size.padStart(6)} B  A ${side(a).padEnd(26)} B ${side(b).padEnd(26)} B/A ${ratio}`;
}

async function main(): Promise<void> {
  if (values.help) return console.log(USAGE);
  const base = values.base;
  const rounds = Number(values.rounds);
  if (base === undefined || !Number.isInteger(rounds) || rounds < 1) {
    console.error(`bench_ab: --base REF and --rounds N (>= 1) are needed\n${USAGE}`);
    Deno.exit(2);
  }
  const sizes = values.size!.split(",");
  const dirA = await Deno.makeTempDir({ prefix: "cryptobridge-ab-" });
  await run(["git", "worktree", "add", "--detach", dirA, base], root);
  try {
    const a = new Map(sizes.map((s) => [s, [] as number[]]));
    const b = new Map(sizes.map((s) => [s, [] as number[]]));
    for (let r = 1; r <= rounds; r++) {
      for (const s of sizes) {
        a.get(s)!.push(await opsPerSec(dirA, s, positionals));
        b.get(s)!.push(await opsPerSec(root, s, positionals));
      }
      console.error(`round ${r}/${rounds} done`);
    }
    console.log(
      `A = ${base}, B = working tree; ${rounds} interleaved rounds, ${values.algo}, ops/s median (min-max)`,
    );
    for (const s of sizes) console.log(row(s, a.get(s)!, b.get(s)!));
  } finally {
    await run(["git", "worktree", "remove", "--force", dirA], root);
  }
}

if (import.meta.main) await main();
