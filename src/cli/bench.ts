/**
 * `cryptobridge bench`: a load generator for any vhost-user crypto back-end. It plays QEMU and a guest
 * (`src/frontend/`), sends preallocated requests at a fixed depth, checks a sample of outputs against the software
 * engine, and reports operations/s, bytes/s and latency percentiles, as a table or as JSON. Without `--socket` it
 * starts `cryptobridge serve` as a separate process and measures that.
 *
 * @module
 */

import type { VhostSessionLayout } from "../crypto/mod.ts";
import {
  BENCH_ALGORITHMS,
  BENCH_SIZES,
  type BenchAlgorithm,
  type CompletionMode,
  isBenchAlgorithm,
} from "../frontend/mod.ts";
import { parseCommand } from "./args.ts";
import { type BenchReport, formatProgress, formatTable } from "./bench_output.ts";
import { type BenchConfig, type BenchProgress, runBench } from "./bench_run.ts";
import { pinSelf, type ServeProcess, startServe } from "./bench_serve.ts";
import { UsageError } from "./errors.ts";
import { VERSION } from "../daemon/version.ts";

/** `bench --help`. */
export const BENCH_HELP = `cryptobridge bench: drive a vhost-user crypto back-end and measure it

Usage: cryptobridge bench [options]

Back-end:
  --socket PATH          the back-end's vhost-user socket (cryptobridge serve, DPDK vhost_crypto, ...);
                         without it, bench starts \`cryptobridge serve\` in a separate process and measures it
  --poll                 start that serve with --poll (rings served by polling, no kicks)
  --busy-poll US         start that serve with --busy-poll US (after a kick, poll the ring for US µs)
  --pin-serve CPU        run that serve on one CPU (taskset -c CPU)
  --pin-bench CPU        run this load generator on one CPU (taskset -a -p -c CPU)
  --session-layout L     message 26 payload layout for cipher and chaining sessions: A (QEMU <= 7.0),
                         B (QEMU 7.1-8.0, the default) or C (QEMU >= 8.1); a QEMU version such as 7.2 also works
  --no-control-queue     do not set up the control queue (back-ends that have none, such as DPDK's)

Workload:
  --algo LIST            comma-separated, default all: ${BENCH_ALGORITHMS.join(", ")}
  --size LIST            payload bytes per request, comma-separated (k = 1024), default ${
  BENCH_SIZES.join(",")
}
  --depth N              requests in flight, 1-1024 (default 32)
  --duration S           seconds per case (default 2, or unlimited when --count is given)
  --count N              requests per case (with --duration: whichever comes first)
  --warmup S             seconds per case run before measuring (default 0.5; 0 with --count)
  --indirect             indirect descriptor chains (default: direct, one descriptor per part)
  --completion MODE      event: wait for the call eventfd (default); poll: busy-poll the used ring
  --queue-size N         ring size, a power of 2 up to 1024 (default 1024)
  --verify-every N       compare the first output of every slot and then every N-th with the software
                         engine's (default 1024; 1 checks all); a mismatch stops the run with exit code 1.
                         Each check costs the back-end too (the output is overwritten before the request,
                         so its cache lines come back from the generator's core): sample sparingly

Output:
  --json                 print a JSON document instead of the table
  -h, --help             show this help

Sessions: AES-128-CBC and the AES-CBC + HMAC-SHA256 chain are created with vhost-user message 26, as QEMU
forwards them. QEMU's message 26 cannot express AEAD or HMAC-only sessions, so aes-256-gcm and hmac-sha256
are created through the device's control queue, as a guest driver would on a device whose control queue the
back-end serves. A back-end without one (DPDK's vhost_crypto) does not answer there: those two algorithms are
then skipped with a message (or pass --no-control-queue).

For figures worth comparing, give the back-end and the generator a core each, e.g. on two CPUs:
  cryptobridge bench --pin-serve 1 --pin-bench 0
A progress line is shown on a terminal. scripts/bench_report.ts runs the whole matrix against \`openssl speed\`.`;

/** `bench` options after parsing: the run's configuration, plus how to start the back-end and print. */
export interface BenchOptions extends Omit<BenchConfig, "socket" | "onProgress"> {
  /** A back-end to drive; without it bench starts `cryptobridge serve` itself. */
  readonly socket?: string;
  /** Start that serve with `--poll`. */
  readonly poll: boolean;
  /** Start that serve with `--busy-poll`. */
  readonly busyPollUs?: number;
  /** CPU for that serve. */
  readonly pinServe?: number;
  /** CPU for this process. */
  readonly pinBench?: number;
  readonly json: boolean;
  readonly help: boolean;
}

/**
 * Parses `bench` arguments.
 *
 * @param args The arguments after `bench`.
 * @returns The options, defaults filled in.
 * @throws UsageError for an unknown option, a bad value or a contradictory combination.
 */
export function parseBenchOptions(args: string[]): BenchOptions {
  const { values: v, positionals } = parseCommand("bench", args, {
    socket: { type: "string" },
    poll: { type: "boolean" },
    "busy-poll": { type: "string" },
    "pin-serve": { type: "string" },
    "pin-bench": { type: "string" },
    "session-layout": { type: "string" },
    "no-control-queue": { type: "boolean" },
    algo: { type: "string" },
    size: { type: "string" },
    depth: { type: "string" },
    duration: { type: "string" },
    count: { type: "string" },
    warmup: { type: "string" },
    indirect: { type: "boolean" },
    completion: { type: "string" },
    "queue-size": { type: "string" },
    "verify-every": { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (positionals.length > 0) {
    throw new UsageError(
      `bench takes no arguments, only options: got "${positionals[0]}": see \`cryptobridge bench --help\``,
    );
  }
  const socket = str(v.socket);
  if (socket !== undefined) {
    for (const name of ["poll", "busy-poll", "pin-serve"]) {
      if (v[name] !== undefined) {
        throw new UsageError(
          `--${name} applies to the serve bench starts itself: with --socket, start the back-end with it yourself`,
        );
      }
    }
  }
  const count = v.count === undefined ? undefined : integer("--count", v.count, 1, Number.MAX_SAFE_INTEGER);
  const duration = v.duration === undefined ? undefined : seconds("--duration", v.duration, 0.001);
  const durationMs = duration === undefined ? (count === undefined ? 2000 : undefined) : duration * 1000;
  const warmup = v.warmup === undefined ? (count === undefined ? 0.5 : 0) : seconds("--warmup", v.warmup, 0);
  const queueSize = integer("--queue-size", v["queue-size"] ?? "1024", 1, 1024);
  if ((queueSize & (queueSize - 1)) !== 0) {
    throw new UsageError(`--queue-size must be a power of 2 up to 1024: current value is ${queueSize}`);
  }
  return {
    ...(socket !== undefined ? { socket } : {}),
    poll: v.poll === true,
    ...optionalInt("busyPollUs", "--busy-poll", v["busy-poll"], 0, 100_000),
    ...optionalInt("pinServe", "--pin-serve", v["pin-serve"], 0, 4095),
    ...optionalInt("pinBench", "--pin-bench", v["pin-bench"], 0, 4095),
    sessionLayout: sessionLayout(str(v["session-layout"]) ?? "B"),
    controlQueue: v["no-control-queue"] !== true,
    algorithms: algorithms(str(v.algo)),
    sizes: sizes(str(v.size)),
    depth: integer("--depth", v.depth ?? "32", 1, 1024),
    ...(durationMs !== undefined ? { durationMs } : {}),
    ...(count !== undefined ? { count } : {}),
    warmupMs: warmup * 1000,
    indirect: v.indirect === true,
    completion: completion(str(v.completion) ?? "event"),
    queueSize,
    verifyEvery: integer("--verify-every", v["verify-every"] ?? "1024", 1, Number.MAX_SAFE_INTEGER),
    json: v.json === true,
    help: v.help === true,
  };
}

function str(value: string | boolean | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function integer(name: string, value: string | boolean, min: number, max: number): number {
  const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(
      `${name} must be an integer from ${min} to ${max}: current value is ${String(value)}`,
    );
  }
  return n;
}

function optionalInt(
  key: "pinServe" | "pinBench" | "busyPollUs",
  name: string,
  value: string | boolean | undefined,
  min: number,
  max: number,
): Partial<Record<"pinServe" | "pinBench" | "busyPollUs", number>> {
  return value === undefined ? {} : { [key]: integer(name, value, min, max) };
}

function seconds(name: string, value: string | boolean, min: number): number {
  const n = typeof value === "string" && /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  if (!(n >= min) || n > 86400) {
    throw new UsageError(
      `${name} must be a number of seconds from ${min} to 86400: current value is ${value}`,
    );
  }
  return n;
}

/**
 * A `--session-layout` value: A, B or C, or a QEMU version mapped to its layout (≤ 7.0: A, 7.1-8.0: B, ≥ 8.1: C).
 *
 * @param value What was typed.
 * @returns The layout.
 * @throws UsageError for anything else.
 */
export function sessionLayout(value: string): VhostSessionLayout {
  const upper = value.toUpperCase();
  if (upper === "A" || upper === "B" || upper === "C") return upper;
  const m = /^(?:qemu-?)?(\d+)\.(\d+)(?:\.\d+)?$/i.exec(value);
  if (m !== null) {
    const version = Number(m[1]) * 100 + Number(m[2]);
    return version <= 700 ? "A" : version <= 800 ? "B" : "C";
  }
  throw new UsageError(
    `--session-layout must be A (QEMU <= 7.0), B (7.1-8.0), C (>= 8.1) or a QEMU version: current value is ${value}`,
  );
}

function algorithms(value: string | undefined): BenchAlgorithm[] {
  if (value === undefined || value === "all") return [...BENCH_ALGORITHMS];
  const names = value.split(",").map((s) => s.trim().toLowerCase()).filter((s) => s !== "");
  for (const name of names) {
    if (!isBenchAlgorithm(name)) {
      throw new UsageError(`--algo: unknown algorithm "${name}": use ${BENCH_ALGORITHMS.join(", ")} or all`);
    }
  }
  if (names.length === 0) throw new UsageError(`--algo needs at least one algorithm`);
  return [...new Set(names as BenchAlgorithm[])];
}

/**
 * A `--size` list: integers, optionally with a k suffix (× 1024), each a multiple of 16 from 16 to 1 MiB.
 *
 * @param value What was typed (undefined: the default matrix).
 * @returns The sizes, in the order given, without duplicates.
 * @throws UsageError for a malformed or out-of-range size.
 */
export function sizes(value: string | undefined): number[] {
  if (value === undefined) return [...BENCH_SIZES];
  const out: number[] = [];
  for (const raw of value.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
    const m = /^(\d+)\s*(k|kib|K|KiB)?$/.exec(raw);
    const n = m === null ? NaN : Number(m[1]) * (m[2] === undefined ? 1 : 1024);
    if (!Number.isSafeInteger(n) || n < 16 || n > 1 << 20 || n % 16 !== 0) {
      throw new UsageError(
        `--size must be a multiple of 16 from 16 to 1M (k = 1024): current value is ${raw}`,
      );
    }
    if (!out.includes(n)) out.push(n);
  }
  if (out.length === 0) throw new UsageError("--size needs at least one size");
  return out;
}

function completion(value: string): CompletionMode {
  if (value === "event" || value === "poll") return value;
  throw new UsageError(`--completion must be event or poll: current value is ${value}`);
}

/**
 * Runs `bench`.
 *
 * @param args Arguments after `bench`.
 * @returns The exit code.
 */
export async function bench(args: string[]): Promise<number> {
  const o = parseBenchOptions(args);
  if (o.help) {
    console.log(BENCH_HELP);
    return 0;
  }
  if (o.pinBench !== undefined) await pinSelf(o.pinBench);
  let serve: ServeProcess | null = null;
  let dir: string | null = null;
  try {
    if (o.socket === undefined) {
      dir = await Deno.makeTempDir({ prefix: "cryptobridge-bench-" });
      serve = await startServe({
        socket: `${dir}/vhost.sock`,
        poll: o.poll,
        ...(o.busyPollUs !== undefined ? { busyPollUs: o.busyPollUs } : {}),
        ...(o.pinServe !== undefined ? { cpu: o.pinServe } : {}),
      });
    }
    const socket = o.socket ?? serve!.socket;
    const progress = progressLine();
    const config: BenchConfig = {
      socket,
      algorithms: o.algorithms,
      sizes: o.sizes,
      depth: o.depth,
      ...(o.durationMs !== undefined ? { durationMs: o.durationMs } : {}),
      ...(o.count !== undefined ? { count: o.count } : {}),
      warmupMs: o.warmupMs,
      indirect: o.indirect,
      sessionLayout: o.sessionLayout,
      completion: o.completion,
      verifyEvery: o.verifyEvery,
      controlQueue: o.controlQueue,
      queueSize: o.queueSize,
      ...(progress !== null ? { onProgress: progress.update } : {}),
    };
    let results;
    try {
      results = await runBench(config);
    } finally {
      progress?.clear();
    }
    if (o.json) console.log(JSON.stringify(report(o, { version: VERSION, socket, serve }, results), null, 2));
    else console.log(formatTable(results));
    return 0;
  } finally {
    await serve?.stop();
    if (dir !== null) await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

function report(
  o: BenchOptions,
  run: { version: string; socket: string; serve: ServeProcess | null },
  results: BenchReport["results"],
): BenchReport {
  const { socket, serve } = run;
  return {
    tool: "cryptobridge bench",
    version: run.version,
    date: new Date().toISOString(),
    backend: {
      socket,
      spawned: serve !== null,
      ...(serve !== null ? { poll: o.poll, command: serve.command } : {}),
      ...(o.pinServe !== undefined ? { cpu: o.pinServe } : {}),
    },
    settings: {
      depth: o.depth,
      ...(o.durationMs !== undefined ? { durationSeconds: o.durationMs / 1000 } : {}),
      ...(o.count !== undefined ? { count: o.count } : {}),
      warmupSeconds: o.warmupMs / 1000,
      indirect: o.indirect,
      sessionLayout: o.sessionLayout,
      completion: o.completion,
      verifyEvery: o.verifyEvery,
      controlQueue: o.controlQueue,
      queueSize: o.queueSize,
      ...(o.pinBench !== undefined ? { benchCpu: o.pinBench } : {}),
    },
    host: { cpus: navigator.hardwareConcurrency, loadavg: Deno.loadavg() },
    results,
    verification: { passed: true, verified: results.reduce((n, r) => n + (r.verified ?? 0), 0) },
  };
}

/** A progress line rewritten in place on a terminal, shown once a run has gone on for 2 s. */
function progressLine(): { update: (p: BenchProgress) => void; clear: () => void } | null {
  if (!Deno.stdout.isTerminal()) return null;
  const encoder = new TextEncoder();
  const start = performance.now();
  let shown = false;
  return {
    update: (p) => {
      if (performance.now() - start < 2000) return;
      shown = true;
      Deno.stdout.writeSync(encoder.encode(`\r\x1b[K${formatProgress(p)}`));
    },
    clear: () => {
      if (shown) Deno.stdout.writeSync(encoder.encode("\r\x1b[K"));
    },
  };
}
