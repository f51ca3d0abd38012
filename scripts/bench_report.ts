/**
 * The benchmark report: the bridge against `openssl speed`, in one run. For every algorithm and size it runs
 * `openssl speed` pinned to the bridge's CPU, then `cryptobridge bench` (which starts `cryptobridge serve` as a
 * separate process) in each mode, and writes a JSON file and an SVG chart of throughput by size with the OpenSSL
 * line as the ceiling; it prints bridge/OpenSSL ratios and the first performance targets (issue #6).
 *
 * Modes: `event` is an interrupt-driven guest against the event-driven daemon (kicks and call eventfds); `busy` is
 * the same guest against `serve --busy-poll 1000` (the daemon keeps polling a kicked ring for 1 ms); `poll` is a
 * polling guest against `serve --poll` (no kicks, no interrupts), DPDK's way. The OpenSSL ceiling is
 * `openssl speed -evp aes-128-cbc`, `-evp aes-256-gcm` and `-hmac sha256` (one core, wall clock); for the chain
 * it is the two passes in a row, 1 / (1/CBC + 1/HMAC). The JSON also keeps `-aead -evp aes-256-gcm` (per-message
 * IV, AAD and tag, as a request does) and OpenSSL's stitched `aes-128-cbc-hmac-sha256` for reference.
 *
 * The machine may be shared: before each measurement the script waits (up to 60 s) until the CPUs are idle, and
 * records how idle they were. `--repeat N` keeps the best of N for both sides. This is a script, not a test.
 *
 * Usage: deno run -A scripts/bench_report.ts [--out DIR] [--duration S] [--warmup S] [--depth N] [--repeat N]
 *        [--algo LIST] [--size LIST] [--modes event,busy,poll] [--pin-serve CPU] [--pin-bench CPU]
 *        [--openssl-seconds S] [--no-wait-idle] [--quick]
 *        deno run -A scripts/bench_report.ts --render FILE.json   (chart and ratios again from a report)
 *
 * @module
 */

import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { type ChartPanel, renderChart } from "./bench_chart.ts";

const ALGORITHMS = ["aes-128-cbc", "aes-256-gcm", "hmac-sha256", "aes-128-cbc-hmac-sha256"] as const;
type Algorithm = (typeof ALGORITHMS)[number];
type Mode = "event" | "busy" | "poll";

/** `openssl speed` arguments of the ceiling of each measured algorithm, and of the reference extras. */
const OPENSSL_ARGS: Record<string, readonly string[]> = {
  "aes-128-cbc": ["-evp", "aes-128-cbc"],
  "aes-256-gcm": ["-evp", "aes-256-gcm"],
  "hmac-sha256": ["-hmac", "sha256"],
  "aes-256-gcm (-aead)": ["-aead", "-evp", "aes-256-gcm"],
  "aes-128-cbc-hmac-sha256 (stitched)": ["-evp", "aes-128-cbc-hmac-sha256"],
};

interface OpensslRow {
  readonly name: string;
  readonly size: number;
  readonly args: readonly string[];
  readonly bytesPerSec: number;
  readonly idleBefore: number;
}

interface BridgeRow {
  readonly mode: Mode;
  readonly algorithm: Algorithm;
  readonly size: number;
  readonly opsPerSec: number;
  readonly bytesPerSec: number;
  readonly latencyUs: Record<string, number>;
  readonly verified: number;
  readonly idleBefore: number;
}

interface RatioRow {
  readonly mode: Mode;
  readonly algorithm: Algorithm;
  readonly size: number;
  readonly bridgeMBs: number;
  readonly opensslMBs: number;
  readonly ratio: number;
}

interface Target {
  readonly mode: Mode;
  readonly name: string;
  readonly figure: string;
  readonly pass: boolean;
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    out: { type: "string", default: ".test-results/bench" },
    duration: { type: "string", default: "2" },
    warmup: { type: "string", default: "0.5" },
    depth: { type: "string", default: "32" },
    repeat: { type: "string", default: "1" },
    algo: { type: "string", default: ALGORITHMS.join(",") },
    size: { type: "string", default: "64,256,1024,4096,16384" },
    modes: { type: "string", default: "event,busy,poll" },
    "pin-serve": { type: "string", default: "1" },
    "pin-bench": { type: "string", default: "0" },
    "openssl-seconds": { type: "string", default: "1" },
    "no-wait-idle": { type: "boolean", default: false },
    quick: { type: "boolean", default: false },
    render: { type: "string" },
  },
});

const quick = values.quick;
const duration = quick ? "0.5" : values.duration;
const warmup = quick ? "0.2" : values.warmup;
const repeat = Math.max(1, Number(values.repeat));
// `let`: --render takes them from the report's settings.
let algorithms = values.algo.split(",").map((a) => a.trim()) as Algorithm[];
for (const a of algorithms) if (!ALGORITHMS.includes(a)) throw new Error(`Unknown algorithm ${a}`);
let sizes = values.size.split(",").map((s) => Number(s.trim()));
let modes = values.modes.split(",").map((m) => m.trim()) as Mode[];
for (const m of modes) if (!["event", "busy", "poll"].includes(m)) throw new Error(`Unknown mode ${m}`);
const pinServe = values["pin-serve"];
const pinBench = values["pin-bench"];
const opensslSeconds = String(Math.max(1, Math.round(Number(values["openssl-seconds"]))));
const mod = fileURLToPath(new URL("../mod.ts", import.meta.url));

/** CPU idle fraction over `ms`, from /proc/stat (all CPUs). */
async function idleFraction(ms: number): Promise<number> {
  const read = (): [number, number] => {
    const fields = Deno.readTextFileSync("/proc/stat").split("\n")[0]!.trim().split(/\s+/).slice(1).map(
      Number,
    );
    const total = fields.reduce((a, b) => a + b, 0);
    return [fields[3]! + (fields[4] ?? 0), total];
  };
  const [i1, t1] = read();
  await new Promise((r) => setTimeout(r, ms));
  const [i2, t2] = read();
  return t2 > t1 ? (i2 - i1) / (t2 - t1) : 1;
}

/** Waits until the machine is idle (other processes would steal the cores measured), at most 60 s. */
async function waitIdle(): Promise<number> {
  if (values["no-wait-idle"]) return await idleFraction(200);
  const deadline = Date.now() + 60_000;
  let idle = 0;
  while (Date.now() < deadline) {
    idle = await idleFraction(500);
    if (idle >= 0.9) return idle;
  }
  console.error(`warning: the CPUs stayed busy (${(idle * 100).toFixed(0)} % idle): measuring anyway`);
  return idle;
}

async function run(cmd: string[]): Promise<string> {
  const out = await new Deno.Command(cmd[0]!, { args: cmd.slice(1), stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`${cmd.join(" ")} failed:\n${text}\n${new TextDecoder().decode(out.stderr)}`);
  }
  return text;
}

async function measureOpenssl(name: string, size: number): Promise<OpensslRow> {
  const args = OPENSSL_ARGS[name]!;
  let best = 0;
  let idleBefore = 1;
  for (let r = 0; r < repeat; r++) {
    idleBefore = await waitIdle();
    const text = await run([
      "taskset",
      "-c",
      pinServe,
      "openssl",
      "speed",
      "-elapsed",
      "-mr",
      "-seconds",
      opensslSeconds,
      "-bytes",
      String(size),
      ...args,
    ]);
    const m = /^\+F:\d+:[^:]+:([\d.]+)/m.exec(text);
    if (m === null) throw new Error(`Cannot read openssl speed ${args.join(" ")} output:\n${text}`);
    best = Math.max(best, Number(m[1]));
  }
  return { name, size, args, bytesPerSec: best, idleBefore };
}

async function measureBridge(mode: Mode, algorithm: Algorithm, size: number): Promise<BridgeRow> {
  let best: BridgeRow | null = null;
  for (let r = 0; r < repeat; r++) {
    const idleBefore = await waitIdle();
    const text = await run([
      Deno.execPath(),
      "run",
      "--allow-all",
      mod,
      "bench",
      "--json",
      "--algo",
      algorithm,
      "--size",
      String(size),
      "--duration",
      duration,
      "--warmup",
      warmup,
      "--depth",
      values.depth,
      "--pin-serve",
      pinServe,
      "--pin-bench",
      pinBench,
      ...(mode === "poll"
        ? ["--poll", "--completion", "poll"]
        : mode === "busy"
        ? ["--busy-poll", "1000"]
        : []),
    ]);
    const report = JSON.parse(text);
    const result = report.results[0];
    if (result.status !== "ok") throw new Error(`${algorithm} ${size} B skipped: ${result.reason}`);
    const row: BridgeRow = {
      mode,
      algorithm,
      size,
      opsPerSec: result.opsPerSec,
      bytesPerSec: result.bytesPerSec,
      latencyUs: result.latencyUs,
      verified: result.verified,
      idleBefore,
    };
    if (best === null || row.opsPerSec > best.opsPerSec) best = row;
  }
  return best!;
}

function ceilingOf(openssl: readonly OpensslRow[], algorithm: Algorithm, size: number): number {
  const of = (name: string): number =>
    openssl.find((o) => o.name === name && o.size === size)?.bytesPerSec ?? NaN;
  if (algorithm !== "aes-128-cbc-hmac-sha256") return of(algorithm);
  return 1 / (1 / of("aes-128-cbc") + 1 / of("hmac-sha256"));
}

function targets(bridge: readonly BridgeRow[], ratios: readonly RatioRow[]): Target[] {
  const out: Target[] = [];
  for (const mode of modes) {
    const ratio = (size: number): number | undefined =>
      ratios.find((r) => r.mode === mode && r.algorithm === "aes-128-cbc" && r.size === size)?.ratio;
    for (const [size, bar] of [[16384, 0.8], [4096, 0.7]] as const) {
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
        name: "AES-128-CBC 64 B >= 500 k ops/s",
        figure: `${Math.round(small.opsPerSec).toLocaleString("en-US")} ops/s`,
        pass: small.opsPerSec >= 500_000,
      });
    }
  }
  return out;
}

function printRatios(ratios: readonly RatioRow[], t: readonly Target[]): void {
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

function chartPanels(bridge: readonly BridgeRow[], ratios: readonly RatioRow[]): ChartPanel[] {
  return algorithms.map((algorithm) => ({
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
    ],
  }));
}

/** Every case, OpenSSL first, then the bridge in each mode, case by case. */
async function measureAll(): Promise<{ openssl: OpensslRow[]; bridge: BridgeRow[] }> {
  const openssl: OpensslRow[] = [];
  const bridge: BridgeRow[] = [];
  const needed = new Set<string>();
  for (const a of algorithms) {
    if (a === "aes-128-cbc-hmac-sha256") {
      ["aes-128-cbc", "hmac-sha256", `${a} (stitched)`].forEach((n) => needed.add(n));
    } else needed.add(a);
    if (a === "aes-256-gcm") needed.add("aes-256-gcm (-aead)");
  }
  const total = algorithms.length * sizes.length;
  let done = 0;
  for (const algorithm of algorithms) {
    for (const size of sizes) {
      done++;
      console.error(`[${done}/${total}] ${algorithm} ${size} B`);
      for (const name of needed) {
        const relevant = name.startsWith(algorithm) ||
          (algorithm === "aes-128-cbc-hmac-sha256" && (name === "aes-128-cbc" || name === "hmac-sha256"));
        if (relevant && !openssl.some((o) => o.name === name && o.size === size)) {
          openssl.push(await measureOpenssl(name, size));
        }
      }
      for (const mode of modes) bridge.push(await measureBridge(mode, algorithm, size));
    }
  }
  return { openssl, bridge };
}

async function main(): Promise<void> {
  const { openssl, bridge } = await measureAll();
  const ratios: RatioRow[] = ratiosOf(openssl, bridge);
  const t = targets(bridge, ratios);
  const host = {
    cpus: navigator.hardwareConcurrency,
    cpu: /model name\s*:\s*(.*)/.exec(Deno.readTextFileSync("/proc/cpuinfo"))?.[1] ?? "unknown",
    openssl: (await run(["openssl", "version"])).trim(),
    deno: Deno.version.deno,
    loadavg: Deno.loadavg(),
  };
  const settings = {
    durationSeconds: Number(duration),
    warmupSeconds: Number(warmup),
    depth: Number(values.depth),
    repeat,
    pinServe: Number(pinServe),
    pinBench: Number(pinBench),
    opensslSeconds: Number(opensslSeconds),
    modes,
    algorithms,
    sizes,
  };
  const date = new Date().toISOString();
  await Deno.mkdir(values.out, { recursive: true });
  const json = `${values.out}/bench_report.json`;
  const report = {
    tool: "scripts/bench_report.ts",
    date,
    host,
    settings,
    openssl,
    bridge,
    ratios,
    targets: t,
  };
  await Deno.writeTextFile(json, JSON.stringify(report, null, 2) + "\n");
  await output(report, json);
}

interface Report {
  readonly date: string;
  readonly host: { readonly cpu: string; readonly openssl: string; readonly deno: string };
  readonly settings: {
    readonly depth: number;
    readonly pinServe: number;
    readonly pinBench: number;
    readonly modes: Mode[];
    readonly algorithms: Algorithm[];
    readonly sizes: number[];
  };
  readonly bridge: BridgeRow[];
  readonly ratios: RatioRow[];
  readonly targets: Target[];
}

/** Writes the chart beside the JSON and prints the ratios and targets. */
async function output(report: Report, json: string): Promise<void> {
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
      panels: chartPanels(bridge, ratios),
    }),
  );
  console.log(`${host.openssl}; ${host.cpu}; Deno ${host.deno}`);
  printRatios(ratios, report.targets);
  console.log(`\nwrote ${json} and ${svg}`);
}

function ratiosOf(openssl: readonly OpensslRow[], bridge: readonly BridgeRow[]): RatioRow[] {
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

if (values.render !== undefined) {
  const report = JSON.parse(await Deno.readTextFile(values.render)) as Report;
  ({ algorithms, sizes, modes } = report.settings);
  await output(report, values.render);
} else {
  await main();
}
