/**
 * The benchmark report: the bridge against `openssl speed`, in one run. For every algorithm and size it runs
 * `openssl speed` pinned to the bridge's CPU, then `cryptobridge bench` (which starts `cryptobridge serve` as a
 * separate process) in each mode, and writes a JSON file and an SVG chart of throughput by size with the OpenSSL
 * line as the ceiling; it prints bridge/OpenSSL ratios and the first performance targets (issue #6).
 *
 * Modes: `event` is an interrupt-driven guest against the event-driven daemon as `serve` starts by default
 * (kicks and call eventfds, with its 50 µs busy-poll window); `irq` is the same with `--busy-poll 0`; `busy` is
 * the same guest against `serve --busy-poll 1000` (the daemon keeps polling a kicked ring for 1 ms); `poll` is a
 * polling guest against `serve --poll` (no kicks, no interrupts), DPDK's way. The OpenSSL ceiling is
 * `openssl speed -evp aes-128-cbc`, `-evp aes-256-gcm` and `-hmac sha256` (one core, wall clock); for the chain
 * it is the two passes in a row, 1 / (1/CBC + 1/HMAC). The JSON also keeps `-aead -evp aes-256-gcm` (per-message
 * IV, AAD and tag, as a request does) and OpenSSL's stitched `aes-128-cbc-hmac-sha256` for reference.
 *
 * First it measures what a wake-up costs between the two CPUs (`scripts/wake_cost.ts`: an eventfd signal to a
 * thread asleep in `epoll_wait` against one polling), printed last and kept in the JSON's `host.wake`: the
 * event-mode figures pay it per call signal and per kick, and on a VM host it is tens of microseconds. It also
 * measures a cache-line round trip between the two CPUs (`scripts/line_round_trip.ts`) before the cases and
 * after them, printed last and kept in `host.lineRoundTrip`: small-request rates follow it.
 *
 * Then the two-VM cases (`scripts/bench_two_vms.ts`): the daemon's CPU time per request with one VM and with two,
 * one VM beside a flooding neighbour, and beside one killed and restarted.
 *
 * Then DPDK (`scripts/bench_dpdk.ts`), where it is installed: Debian 12's `vhost_crypto` example (built once
 * into .cache/dpdk by `scripts/dpdk_vhost_crypto.ts`, or the newer binary `--dpdk-binary` names) with the OpenSSL
 * cryptodev, on the bridge's CPU, driven by the same generator; AES-128-CBC at the sizes up to 2 KiB, poll and
 * event, in `--dpdk-rounds` interleaved rounds (median). It prints bridge / DPDK beside the OpenSSL ceiling and
 * draws DPDK in the AES-128-CBC panel. `--dpdk` insists (an error if DPDK is missing), `--no-dpdk` skips it; by
 * default it runs when the packages are there (docs/dpdk.md).
 *
 * The machine may be shared: before each measurement the script waits (up to 60 s) until the CPUs are idle, and
 * records how idle they were. `--repeat N` keeps the best of N for both sides. This is a script, not a test.
 *
 * Usage: deno run -A scripts/bench_report.ts [--out DIR] [--duration S] [--warmup S] [--depth N] [--repeat N]
 *        [--algo LIST] [--size LIST] [--modes irq,event,busy,poll] [--pin-serve CPU] [--pin-bench CPU]
 *        [--openssl-seconds S] [--no-wait-idle] [--quick] [--two-vm-sizes LIST|none] [--two-vm-count N]
 *        [--dpdk | --no-dpdk] [--dpdk-binary PATH] [--dpdk-rounds N]
 *        deno run -A scripts/bench_report.ts --render FILE.json   (chart and ratios again from a report)
 *
 * @module
 */

import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { measureAll, type MeasureSettings, run } from "./bench_measure.ts";
import { formatTwoVms, measureTwoVms, type TwoVmReport } from "./bench_two_vms.ts";
import { output } from "./bench_output.ts";
import { measureDpdk } from "./bench_dpdk.ts";
import { checkPackages, DpdkError } from "./dpdk_vhost_crypto.ts";
import { formatWakeCost, measureWakeCost, type WakeCost } from "./wake_cost.ts";
import { formatLineRoundTrip, type LineRoundTrip, measureLineRoundTrip } from "./line_round_trip.ts";
import {
  type Algorithm,
  ALGORITHMS,
  type DpdkComparison,
  type Matrix,
  type Mode,
  MODES,
  ratiosOf,
  type Report,
  targets,
} from "./bench_rows.ts";

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
    modes: { type: "string", default: "irq,event,busy,poll" },
    "pin-serve": { type: "string", default: "1" },
    "pin-bench": { type: "string", default: "0" },
    "openssl-seconds": { type: "string", default: "1" },
    "no-wait-idle": { type: "boolean", default: false },
    quick: { type: "boolean", default: false },
    render: { type: "string" },
    "two-vm-sizes": { type: "string", default: "64,4096,16384" },
    "two-vm-count": { type: "string", default: "200000" },
    dpdk: { type: "boolean", default: false },
    "no-dpdk": { type: "boolean", default: false },
    "dpdk-binary": { type: "string" },
    "dpdk-rounds": { type: "string", default: "3" },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (values.help) {
  // The module's own comment is the help: one text to keep true.
  const text = await Deno.readTextFile(new URL(import.meta.url));
  console.log(
    /\/\*\*\n([\s\S]*?)\*\//.exec(text)![1]!.replaceAll(/^ \* ?/gm, "").replace("@module", "").trim(),
  );
  Deno.exit(0);
}
if (values.dpdk && values["no-dpdk"]) throw new Error("--dpdk and --no-dpdk contradict each other: give one");

const quick = values.quick;
const algorithms = values.algo.split(",").map((a) => a.trim()) as Algorithm[];
for (const a of algorithms) if (!ALGORITHMS.includes(a)) throw new Error(`Unknown algorithm ${a}`);
const sizes = values.size.split(",").map((s) => Number(s.trim()));
const modes = values.modes.split(",").map((m) => m.trim()) as Mode[];
for (const m of modes) {
  if (!(MODES as readonly string[]).includes(m)) {
    throw new Error(`Unknown mode ${m}: use ${MODES.join(", ")}`);
  }
}
const measure: MeasureSettings = {
  repeat: Math.max(1, Number(values.repeat)),
  pinServe: values["pin-serve"],
  pinBench: values["pin-bench"],
  duration: quick ? "0.5" : values.duration,
  warmup: quick ? "0.2" : values.warmup,
  depth: values.depth,
  opensslSeconds: String(Math.max(1, Math.round(Number(values["openssl-seconds"])))),
  waitIdle: !values["no-wait-idle"],
  mod: fileURLToPath(new URL("../mod.ts", import.meta.url)),
};

async function main(matrix: Matrix): Promise<void> {
  // What a call signal or a kick costs here, for reading the event-mode figures (scripts/wake_cost.ts).
  const wake = await measureWakeCost({
    cpuSelf: +measure.pinServe,
    cpuPeer: +measure.pinBench,
    rounds: 1000,
  });
  // Small-request rates follow this on a VM host whose vCPUs move (scripts/line_round_trip.ts): before and after.
  const lineBefore = await timeLineRoundTrip();
  const { openssl, bridge } = await measureAll(matrix, measure);
  const twoVms = await twoVmCases();
  const dpdk = await dpdkCase();
  const lineAfter = await timeLineRoundTrip();
  const ratios = ratiosOf(openssl, bridge);
  const t = targets(modes, bridge, ratios);
  const host = await hostInfo(wake, { before: lineBefore, after: lineAfter });
  const settings = {
    durationSeconds: Number(measure.duration),
    warmupSeconds: Number(measure.warmup),
    depth: Number(measure.depth),
    repeat: measure.repeat,
    pinServe: Number(measure.pinServe),
    pinBench: Number(measure.pinBench),
    opensslSeconds: Number(measure.opensslSeconds),
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
    ...(twoVms !== null ? { twoVms } : {}),
    ...(dpdk !== null ? { dpdk } : {}),
  };
  await Deno.writeTextFile(json, JSON.stringify(report, null, 2) + "\n");
  await output(report, json);
  if (twoVms !== null) console.log(formatTwoVms(twoVms));
  console.log(`\n${formatWakeCost(wake)}`);
  console.log(formatLineRoundTrip("before the cases", lineBefore));
  console.log(formatLineRoundTrip("after them", lineAfter));
}

/** One cache-line round trip measurement between the report's two CPUs. */
function timeLineRoundTrip(): Promise<LineRoundTrip> {
  return measureLineRoundTrip({ cpuSelf: +measure.pinServe, cpuPeer: +measure.pinBench, rounds: 500_000 });
}

/** The machine, for reading the figures: CPUs, versions, load, what a wake-up and a cache-line round trip cost. */
async function hostInfo(
  wake: WakeCost,
  lineRoundTrip: { before: LineRoundTrip; after: LineRoundTrip },
): Promise<Report["host"]> {
  return {
    cpus: navigator.hardwareConcurrency,
    cpu: /model name\s*:\s*(.*)/.exec(Deno.readTextFileSync("/proc/cpuinfo"))?.[1] ?? "unknown",
    openssl: (await run(["openssl", "version"])).trim(),
    deno: Deno.version.deno,
    loadavg: Deno.loadavg(),
    wake,
    lineRoundTrip,
  };
}

/** The two-VM cases (cost per request, flood, restart), unless `--two-vm-sizes none`. */
async function twoVmCases(): Promise<TwoVmReport | null> {
  if (values["two-vm-sizes"] === "none") return null;
  console.error("two VMs: cost per request, flood, restart");
  return await measureTwoVms({
    mod: measure.mod,
    pinServe: measure.pinServe,
    pinBench: measure.pinBench,
    sizes: values["two-vm-sizes"].split(",").map((x) => Number(x.trim())),
    depth: measure.depth,
    count: quick ? 20_000 : Number(values["two-vm-count"]),
    duration: measure.duration,
  });
}

/** DPDK beside the bridge, unless `--no-dpdk`, or DPDK is missing and neither `--dpdk` nor a binary asks for it. */
async function dpdkCase(): Promise<DpdkComparison | null> {
  if (values["no-dpdk"]) return null;
  const binary = values["dpdk-binary"];
  if (binary === undefined && !values.dpdk) {
    try {
      await checkPackages();
    } catch (e) {
      if (!(e instanceof DpdkError)) throw e;
      console.error(`no DPDK column: ${e.message}`);
      return null;
    }
  }
  const rounds = quick ? 1 : Math.max(1, Number(values["dpdk-rounds"]));
  try {
    return await measureDpdk(sizes, measure, { rounds, binary });
  } catch (e) {
    // What was measured before must still be written.
    console.error(`no DPDK column: ${(e as Error).message}`);
    return null;
  }
}

if (values.render !== undefined) {
  // The cases come from the report's own settings, not from this command line.
  const report = JSON.parse(await Deno.readTextFile(values.render)) as Report;
  await output(report, values.render);
} else {
  await main({ algorithms, sizes, modes });
}
