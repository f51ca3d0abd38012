/**
 * Software engine throughput against `openssl speed`, in one run: for AES-128-CBC, AES-256-GCM and HMAC-SHA256
 * at 64 B, 1 KiB, 4 KiB and 16 KiB, times `engine.submit` on a realistic request (`tests/bench/engine_cases.ts`)
 * and runs `openssl speed -elapsed -bytes N -seconds S` for the same algorithm and size right after, then prints
 * engine ops/s and MB/s, OpenSSL MB/s, their ratio, and a pass/miss mark against the targets of design.md's
 * performance rules: ratio >= 0.9 at 16 KiB, and >= 1.5 M ops/s for 64-byte AES-128-CBC.
 *
 * Both sides use wall-clock time (`-elapsed`), and each case runs `--repeat` times keeping the best of each side,
 * so a busy machine hurts both alike. This is a script, not a test: it asserts nothing.
 *
 * Usage: `deno run -A scripts/bench_engine.ts [--seconds 1] [--repeat 2] [--json]`
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Status } from "../src/spec/virtio_crypto.ts";
import { SoftwareEngine } from "../src/engine/software/mod.ts";
import { type AlgorithmName, ALGORITHMS, benchOp, SIZES } from "../tests/bench/engine_cases.ts";

/** One measured case. */
interface Row {
  algorithm: AlgorithmName;
  size: number;
  engineOps: number;
  engineMBs: number;
  opensslMBs: number;
  ratio: number;
  target: string;
  mark: "pass" | "MISS" | "-";
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "1" },
    repeat: { type: "string", default: "2" },
    json: { type: "boolean", default: false },
  },
});
const seconds = Math.max(1, Math.round(Number(values.seconds)));
const repeat = Math.max(1, Math.round(Number(values.repeat)));

/** Operations per second of `engine.submit` on one case, over about `seconds`. */
function measureEngine(engine: SoftwareEngine, algorithm: AlgorithmName, size: number): number {
  const op = benchOp(engine, algorithm, size);
  const run = (ms: number): number => {
    let n = 0;
    const start = performance.now();
    let now = start;
    while (now - start < ms) {
      for (let i = 0; i < 256; i++) {
        if (engine.submit(op) !== Status.OK) throw new Error(`${algorithm} ${size} B failed`);
      }
      n += 256;
      now = performance.now();
    }
    return (n * 1000) / (now - start);
  };
  run(150); // warm up: let V8 optimise the path and OpenSSL fill its caches
  const rate = run(seconds * 1000);
  engine.closeSession(op.session!);
  return rate;
}

/** Bytes per second `openssl speed` reports for one algorithm and size. */
async function measureOpenSsl(args: readonly string[], size: number): Promise<number> {
  const command = new Deno.Command("openssl", {
    args: ["speed", "-elapsed", "-mr", "-seconds", String(seconds), "-bytes", String(size), ...args],
    stdout: "piped",
    stderr: "piped",
  });
  const { stdout, success } = await command.output();
  const text = new TextDecoder().decode(stdout);
  const match = /^\+F:\d+:[^:]+:([\d.]+)/m.exec(text);
  if (!success || match === null) throw new Error(`Cannot run openssl speed ${args.join(" ")}: ${text}`);
  return Number(match[1]);
}

function targetOf(
  algorithm: AlgorithmName,
  size: number,
  ops: number,
  ratio: number,
): Pick<Row, "target" | "mark"> {
  if (size === 16384) return { target: "ratio >= 0.9", mark: ratio >= 0.9 ? "pass" : "MISS" };
  if (size === 64 && algorithm === "AES-128-CBC") {
    return { target: ">= 1.5 M ops/s", mark: ops >= 1.5e6 ? "pass" : "MISS" };
  }
  return { target: "", mark: "-" };
}

async function main(): Promise<void> {
  const engine = new SoftwareEngine();
  const rows: Row[] = [];
  for (const { name, speedArgs } of ALGORITHMS) {
    for (const size of SIZES) {
      let engineOps = 0;
      let opensslBps = 0;
      for (let r = 0; r < repeat; r++) {
        engineOps = Math.max(engineOps, measureEngine(engine, name, size));
        opensslBps = Math.max(opensslBps, await measureOpenSsl(speedArgs, size));
      }
      const engineMBs = (engineOps * size) / 1e6;
      const ratio = engineMBs / (opensslBps / 1e6);
      rows.push({
        algorithm: name,
        size,
        engineOps,
        engineMBs,
        opensslMBs: opensslBps / 1e6,
        ratio,
        ...targetOf(name, size, engineOps, ratio),
      });
      if (!values.json) Deno.stderr.writeSync(new TextEncoder().encode(`measured ${name} ${size} B\n`));
    }
  }
  engine.close();
  if (values.json) {
    console.log(JSON.stringify({ openssl: await opensslVersion(), loadavg: Deno.loadavg(), rows }, null, 2));
  } else printTable(rows, await opensslVersion());
}

async function opensslVersion(): Promise<string> {
  const { stdout } = await new Deno.Command("openssl", { args: ["version"], stdout: "piped" }).output();
  return new TextDecoder().decode(stdout).trim();
}

function printTable(rows: readonly Row[], version: string): void {
  const head = [
    "algorithm",
    "size",
    "engine ops/s",
    "engine MB/s",
    "OpenSSL MB/s",
    "ratio",
    "target",
    "mark",
  ];
  const body = rows.map((r) => [
    r.algorithm,
    `${r.size} B`,
    Math.round(r.engineOps).toLocaleString("en-US"),
    r.engineMBs.toFixed(1),
    r.opensslMBs.toFixed(1),
    r.ratio.toFixed(3),
    r.target,
    r.mark,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  console.log(
    `${version}; one core, wall clock; load average ${Deno.loadavg().map((x) => x.toFixed(2)).join(" ")}`,
  );
  console.log(line(head));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const b of body) console.log(line(b));
}

await main();
