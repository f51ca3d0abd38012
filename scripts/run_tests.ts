/**
 * Runs the test tiers (design.md, "Test tiers") and prints one summary line.
 *
 * - `pure`: memory/, virtio/ and the crypto codecs load no FFI, so they run with NO permissions; a test there that
 *   needs one fails, which is how the layering is proven.
 * - `system`: FFI, OS, engines, vhost-user and integration tests, with the permissions the daemon has.
 * - `guest` (`--guest`, `deno task test:guest`): boots QEMU with a Linux guest (slow; see README).
 *
 * Each tier writes a JUnit report to `.test-results/<tier>.xml`; `scripts/ci_summary.ts` turns the reports into the
 * `N passed, N failed` line CI reads. Extra arguments are passed to `deno test` (for example `--filter`).
 *
 * Usage: deno run --allow-run --allow-read --allow-write --allow-env scripts/run_tests.ts [--guest] [deno test args]
 *
 * @module
 */

import { summarize } from "./ci_summary.ts";
import { fileExists } from "./guest/tools.ts";

const SYSTEM_PERMISSIONS = [
  "--allow-ffi",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-run",
  "--allow-net",
];
const PURE_DIRS = ["tests/spec", "tests/memory", "tests/virtio", "tests/crypto", "tests/log"];
const EXCLUDED_DIRS = new Set([
  "_fixtures",
  "bench",
  "dpdk", // needs DPDK installed: `deno task test:dpdk`
  "guest",
  ...PURE_DIRS.map((d) => d.slice("tests/".length)),
]);
const RESULTS = ".test-results";

interface Tier {
  readonly name: string;
  readonly permissions: readonly string[];
  readonly paths: readonly string[];
}

function systemDirs(): string[] {
  const dirs: string[] = [];
  for (const entry of Deno.readDirSync("tests")) {
    if (entry.isDirectory && !EXCLUDED_DIRS.has(entry.name)) dirs.push(`tests/${entry.name}`);
  }
  return dirs.sort();
}

async function runTier(tier: Tier, extra: readonly string[]): Promise<boolean> {
  const junit = `${RESULTS}/${tier.name}.xml`;
  try {
    Deno.removeSync(junit); // never count a stale report
  } catch {
    // there was none
  }
  const args = ["test", "--no-prompt", ...tier.permissions, `--junit-path=${junit}`, ...extra, ...tier.paths];
  console.log(`\n== ${tier.name} tests: deno ${args.join(" ")}`);
  const status = await new Deno.Command(Deno.execPath(), { args, stdout: "inherit", stderr: "inherit" })
    .spawn()
    .status;
  return status.success;
}

async function main(): Promise<number> {
  const guest = Deno.args.includes("--guest");
  const extra = Deno.args.filter((a) => a !== "--guest");
  Deno.mkdirSync(RESULTS, { recursive: true });
  const tiers: Tier[] = guest ? [{ name: "guest", permissions: ["--allow-all"], paths: ["tests/guest"] }] : [
    { name: "pure", permissions: [], paths: PURE_DIRS.filter(fileExists) },
    { name: "system", permissions: SYSTEM_PERMISSIONS, paths: systemDirs() },
  ];
  const crashed: string[] = [];
  for (const tier of tiers) {
    const ok = await runTier(tier, extra);
    if (!ok) crashed.push(tier.name);
  }
  const summary = summarize(tiers.map((t) => `${RESULTS}/${t.name}.xml`), crashed);
  console.log(`\n${summary.line}`);
  return summary.failed > 0 ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
