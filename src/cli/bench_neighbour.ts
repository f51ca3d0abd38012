/**
 * `bench --neighbour flood|restart`: what one VM's load or crash does to the other VMs of the same daemon. The
 * last socket is the neighbour, driven by a second `cryptobridge bench` in its own process (as another VM's QEMU
 * would be); the other sockets run the cases.
 *
 * - `flood`: the cases run twice, first with the neighbour idle, then while it floods (AES-128-CBC, 16 KiB,
 *   depth 1024, indirect chains). The report sets each measured VM's throughput and p99 beside the flood against its figures alone.
 * - `restart`: while the cases run, the neighbour is killed with SIGKILL mid-load and started again, over and
 *   over. A request of a measured VM that fails stops the run; the worst latency a measured VM saw is the longest
 *   it was held up (a stall).
 *
 * @module
 */

import type { BenchCaseResult, BenchConfig } from "./bench_run.ts";
import { selfCommand } from "./bench_serve.ts";
import { runOnSockets, type VmResults } from "./bench_vms.ts";

/** What the neighbour does. */
export type NeighbourMode = "flood" | "restart";

/** The neighbour's workload. */
const FLOOD = { algo: "aes-128-cbc", size: "16k", depth: "1024", indirect: true } as const;
const RESTARTED = { algo: "aes-128-cbc", size: "4k", depth: "32", indirect: false } as const;
/** Time a neighbour gets to start its Deno and connect before the measured run begins. */
const RAMP_MS = 2500;
/** How long a restarted neighbour runs before it is killed again (about 1 s of it is Deno starting). */
const KILL_EVERY_MS = 3000;

/** A neighbour run's outcome. */
export interface NeighbourReport {
  readonly mode: NeighbourMode;
  readonly socket: string;
  /** `flood`: the measured VMs with the neighbour idle. */
  readonly alone?: readonly VmResults[];
  /** The measured VMs beside the neighbour. */
  readonly beside: readonly VmResults[];
  /** `flood`: the neighbour's own figures (from its JSON report). */
  readonly flood?: BenchCaseResult;
  /** `restart`: how many times the neighbour was killed mid-load. */
  readonly kills?: number;
}

/** How to start the neighbour process. */
export interface NeighbourOptions {
  readonly mode: NeighbourMode;
  /** Pin the neighbour's process (all threads) to this CPU. */
  readonly cpu?: number;
}

/**
 * Runs `config`'s cases on every socket but the last, beside a neighbour on the last.
 *
 * @param config The cases; needs `durationMs` (the neighbour's run is sized from it).
 * @param sockets At least two: the measured VMs, then the neighbour.
 * @param o What the neighbour does.
 * @returns The measured VMs' results (alone and beside for `flood`) and the neighbour's.
 * @throws Error when a measured VM's request fails, or the neighbour cannot run.
 */
export async function runBesideNeighbour(
  config: BenchConfig,
  sockets: readonly string[],
  o: NeighbourOptions,
): Promise<NeighbourReport> {
  const measured = sockets.slice(0, -1);
  const socket = sockets[sockets.length - 1]!;
  if (o.mode === "flood") {
    const alone = await runOnSockets(config, measured);
    const flood = startNeighbour(socket, FLOOD, runSeconds(config) + RAMP_MS / 1000 + 2, o.cpu);
    try {
      await sleep(RAMP_MS);
      const beside = await runOnSockets(config, measured);
      return { mode: o.mode, socket, alone, beside, flood: await flood.result() };
    } finally {
      flood.kill();
    }
  }
  const restarts = restartLoop(socket, o.cpu);
  try {
    await sleep(RAMP_MS);
    const beside = await runOnSockets(config, measured);
    return { mode: o.mode, socket, beside, kills: await restarts.stop() };
  } finally {
    await restarts.stop();
  }
}

/** Seconds the measured cases take: every case's warm-up and run, plus a little per session. */
function runSeconds(config: BenchConfig): number {
  const cases = config.algorithms.length * config.sizes.length;
  return (cases * ((config.durationMs ?? 0) + config.warmupMs)) / 1000 + 0.2 * config.algorithms.length;
}

/** A neighbour `bench` process. */
interface Neighbour {
  /** Its only case's result, once it ends on its own. */
  result(): Promise<BenchCaseResult>;
  /** SIGKILL (no-op once it has exited). */
  kill(): void;
  readonly status: Promise<Deno.CommandStatus>;
}

function startNeighbour(
  socket: string,
  load: { readonly algo: string; readonly size: string; readonly depth: string; readonly indirect: boolean },
  seconds: number,
  cpu: number | undefined,
): Neighbour {
  const args = [
    "bench",
    ...["--socket", socket, "--algo", load.algo, "--size", load.size, "--depth", load.depth],
    ...["--duration", seconds.toFixed(1), "--warmup", "0", "--verify-every", "65536", "--json"],
    // A ring of 1024 holds 1024 requests in flight only as indirect chains (the Linux driver's way too).
    ...(load.indirect ? ["--indirect"] : []),
  ];
  // bench records the load average in its JSON report.
  const command = selfCommand(args, ["--allow-sys=loadavg"]);
  const full = cpu === undefined ? command : ["taskset", "-c", String(cpu), ...command];
  const child = new Deno.Command(full[0]!, {
    args: full.slice(1),
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  })
    .spawn();
  const output = child.output();
  let exited = false;
  const status = output.then((o) => {
    exited = true;
    return { success: o.success, code: o.code, signal: o.signal };
  });
  return {
    status,
    kill: () => {
      if (!exited) child.kill("SIGKILL");
    },
    result: async () => {
      const out = await output;
      if (!out.success) {
        const why = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-3).join(" / ");
        throw new Error(`the flooding neighbour on ${socket} failed (exit ${out.code}): ${why}`);
      }
      return (JSON.parse(new TextDecoder().decode(out.stdout)) as { results: BenchCaseResult[] }).results[0]!;
    },
  };
}

/** Starts the neighbour, kills it mid-load, starts it again, until stopped; `stop` returns the kills. */
function restartLoop(socket: string, cpu: number | undefined): { stop(): Promise<number> } {
  let stopped = false;
  let kills = 0;
  let current: Neighbour | null = null;
  const loop = (async () => {
    while (!stopped) {
      current = startNeighbour(socket, RESTARTED, 60, cpu);
      await Promise.race([sleep(KILL_EVERY_MS), current.status]);
      const wasRunning = await Promise.race([current.status.then(() => false), Promise.resolve(true)]);
      current.kill();
      await current.status;
      if (wasRunning) kills++;
      else if (!stopped) throw new Error(`the restarted neighbour on ${socket} exited before it was killed`);
    }
  })();
  // Handled here so that a neighbour failing between two awaits is not an unhandled rejection; `stop` rethrows.
  loop.catch(() => {});
  let stopping: Promise<number> | null = null;
  return {
    stop: () =>
      stopping ??= (async () => {
        stopped = true;
        (current as Neighbour | null)?.kill();
        await loop;
        return kills;
      })(),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * The neighbour report as text: per measured VM and case, its figures alone and beside a flood, or its worst
 * latency while the neighbour was killed and restarted.
 *
 * @param r The report.
 * @returns Lines for a terminal.
 */
export function formatNeighbour(r: NeighbourReport): string {
  const lines: string[] = [];
  if (r.mode === "flood") {
    const f = r.flood;
    lines.push(
      `Neighbour ${r.socket} flooding (AES-128-CBC 16 KiB, depth 1024): ${mops(f?.opsPerSec)} ops/s, ` +
        `${((f?.bytesPerSec ?? 0) / 1e6).toFixed(0)} MB/s`,
    );
  } else lines.push(`Neighbour ${r.socket} killed (SIGKILL) mid-load and restarted ${r.kills} times`);
  r.beside.forEach((vm, v) => {
    lines.push(`VM ${v} (${vm.socket}):`);
    lines.push(
      r.mode === "flood"
        ? "  case                          alone ops/s  beside ops/s  ratio  p99 alone  p99 beside"
        : "  case                          ops/s        p99 us     worst us (stall)",
    );
    vm.results.forEach((c, i) => lines.push(`  ${caseLine(c, r.alone?.[v]?.results[i])}`));
  });
  return lines.join("\n");
}

function caseLine(beside: BenchCaseResult, alone: BenchCaseResult | undefined): string {
  const name = `${beside.algorithm} ${beside.size} B`.padEnd(30);
  if (beside.status !== "ok") return `${name}skipped: ${beside.reason}`;
  const p99 = (c: BenchCaseResult | undefined): string => (c?.latencyUs?.p99Us ?? NaN).toFixed(0);
  if (alone === undefined) {
    return `${name}${mops(beside.opsPerSec).padEnd(13)}${p99(beside).padEnd(11)}${
      (beside.latencyUs?.maxUs ?? NaN).toFixed(0)
    }`;
  }
  const ratio = (beside.opsPerSec ?? 0) / (alone.opsPerSec ?? NaN);
  return `${name}${mops(alone.opsPerSec).padEnd(13)}${mops(beside.opsPerSec).padEnd(14)}${
    ratio.toFixed(2).padEnd(7)
  }${p99(alone).padEnd(11)}${p99(beside)}`;
}

function mops(n: number | undefined): string {
  return Math.round(n ?? 0).toLocaleString("en-US");
}
