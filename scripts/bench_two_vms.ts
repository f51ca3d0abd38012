/**
 * The two-VM cases of `scripts/bench_report.ts` (issue 10): one `cryptobridge serve` with two VMs (two sockets,
 * each VM on its own thread), pinned to one CPU, and `cryptobridge bench` on the other.
 *
 * - cost: the daemon's CPU time per request (utime + stime from /proc, over a fixed count of requests) with one
 *   VM loaded, then with both at once; the ratio says what serving a second VM costs each request (target 1.10).
 * - flood: the first VM's throughput and p99 alone and while the second floods (16 KiB, depth 1024).
 * - restart: the first VM's worst latency while the second's front-end is killed with SIGKILL and restarted
 *   (target: no stall over 100 ms).
 *
 * AES-128-CBC in event mode (interrupt-driven guest, kick-driven daemon), the default deployment.
 *
 * @module
 */

import { run } from "./bench_measure.ts";

/** How to run the two-VM cases. */
export interface TwoVmSettings {
  readonly mod: string;
  readonly pinServe: string;
  readonly pinBench: string;
  readonly sizes: readonly number[];
  readonly depth: string;
  /** Requests per VM for the cost case. */
  readonly count: number;
  /** Seconds per case for the flood and restart cases. */
  readonly duration: string;
}

/** The cost of a request with one VM loaded and with two. */
export interface CostRow {
  readonly size: number;
  readonly oneVm: { readonly cpuUsPerRequest: number; readonly opsPerSec: number };
  readonly twoVms: { readonly cpuUsPerRequest: number; readonly opsPerSec: number; readonly perVm: number[] };
  /** Two VMs' cost per request over one VM's. */
  readonly ratio: number;
}

/** What the first VM saw beside a flooding or restarting neighbour. */
export interface NeighbourRow {
  readonly mode: "flood" | "restart";
  readonly size: number;
  readonly opsPerSec: number;
  readonly p99Us: number;
  readonly maxUs: number;
  /** flood: the same VM alone. */
  readonly alone?: { readonly opsPerSec: number; readonly p99Us: number };
  /** restart: times the neighbour was killed. */
  readonly kills?: number;
}

/** Every two-VM figure of a report. */
export interface TwoVmReport {
  readonly cost: CostRow[];
  readonly neighbours: NeighbourRow[];
}

/**
 * Runs the two-VM cases against a serve started here.
 *
 * @param s How.
 * @returns The figures.
 */
export async function measureTwoVms(s: TwoVmSettings): Promise<TwoVmReport> {
  const dir = await Deno.makeTempDir({ prefix: "cryptobridge-2vm-" });
  const sockets = [`${dir}/vm0.sock`, `${dir}/vm1.sock`];
  const serve = await startServe(s, sockets);
  try {
    const cost: CostRow[] = [];
    for (const size of s.sizes) cost.push(await measureCost(s, serve.pid, sockets, size));
    const neighbours: NeighbourRow[] = [];
    for (const mode of ["flood", "restart"] as const) {
      for (const size of s.sizes) neighbours.push(await measureNeighbour(s, sockets, mode, size));
    }
    return { cost, neighbours };
  } finally {
    serve.kill("SIGTERM");
    await serve.status;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

async function startServe(s: TwoVmSettings, sockets: readonly string[]): Promise<Deno.ChildProcess> {
  const args = ["-c", s.pinServe, Deno.execPath(), "run", "--allow-all", s.mod, "serve"];
  args.push(...sockets.flatMap((p) => ["--socket", p]), "--log-level", "warning");
  const child = new Deno.Command("taskset", { args, stdout: "null", stderr: "inherit" }).spawn();
  const deadline = Date.now() + 30_000;
  while (!sockets.every(isSocket)) {
    if (Date.now() > deadline) throw new Error("serve with two VMs did not listen within 30 s");
    await new Promise((r) => setTimeout(r, 50));
  }
  return child;
}

function isSocket(path: string): boolean {
  try {
    return Deno.statSync(path).isSocket === true;
  } catch {
    return false;
  }
}

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function benchArgs(s: TwoVmSettings, sockets: readonly string[], size: number, extra: string[]): string[] {
  return [
    Deno.execPath(),
    ...["run", "--allow-all", s.mod, "bench", "--json", "--algo", "aes-128-cbc", "--size", String(size)],
    ...["--depth", s.depth, "--pin-bench", s.pinBench, ...sockets.flatMap((p) => ["--socket", p]), ...extra],
  ];
}

async function measureCost(s: TwoVmSettings, pid: number, sockets: string[], size: number): Promise<CostRow> {
  const count = ["--count", String(s.count)];
  // Warm both VMs' threads (JIT, OpenSSL contexts) before anything is counted.
  await run(benchArgs(s, sockets, size, ["--count", String(Math.min(s.count, 50_000))]));
  const measure = async (on: string[]): Promise<{ cpu: number; report: BenchJson }> => {
    const before = cpuSeconds(pid);
    const report = JSON.parse(await run(benchArgs(s, on, size, count))) as BenchJson;
    return { cpu: cpuSeconds(pid) - before, report };
  };
  const one = await measure(sockets.slice(0, 1));
  const two = await measure(sockets);
  const oneUs = (one.cpu * 1e6) / s.count;
  const twoUs = (two.cpu * 1e6) / (2 * s.count);
  return {
    size,
    oneVm: { cpuUsPerRequest: oneUs, opsPerSec: one.report.results[0]!.opsPerSec },
    twoVms: {
      cpuUsPerRequest: twoUs,
      opsPerSec: two.report.total![0]!.opsPerSec,
      perVm: two.report.vms!.map((v) => v.results[0]!.opsPerSec),
    },
    ratio: twoUs / oneUs,
  };
}

async function measureNeighbour(
  s: TwoVmSettings,
  sockets: string[],
  mode: "flood" | "restart",
  size: number,
): Promise<NeighbourRow> {
  const extra = ["--neighbour", mode, "--duration", s.duration];
  const report = JSON.parse(await run(benchArgs(s, sockets, size, extra))) as BenchJson;
  const n = report.neighbour!;
  const beside = n.beside[0]!.results[0]!;
  const alone = n.alone?.[0]?.results[0];
  return {
    mode,
    size,
    opsPerSec: beside.opsPerSec,
    p99Us: beside.latencyUs.p99Us,
    maxUs: beside.latencyUs.maxUs,
    ...(alone !== undefined ? { alone: { opsPerSec: alone.opsPerSec, p99Us: alone.latencyUs.p99Us } } : {}),
    ...(n.kills !== undefined ? { kills: n.kills } : {}),
  };
}

interface CaseJson {
  readonly opsPerSec: number;
  readonly latencyUs: { readonly p99Us: number; readonly maxUs: number };
}

interface BenchJson {
  readonly results: CaseJson[];
  readonly vms?: { readonly results: CaseJson[] }[];
  readonly total?: CaseJson[];
  readonly neighbour?: {
    readonly beside: { readonly results: CaseJson[] }[];
    readonly alone?: { readonly results: CaseJson[] }[];
    readonly kills?: number;
  };
}

/**
 * The two-VM figures as lines, with the targets of issue 10 (cost within 10 %, no stall over 100 ms).
 *
 * @param r The figures.
 * @returns Lines for a terminal.
 */
export function formatTwoVms(r: TwoVmReport): string {
  const out = ["", "two VMs on one daemon (AES-128-CBC, event mode; daemon on one CPU):"];
  for (const c of r.cost) {
    out.push(
      `  ${String(c.size).padStart(5)} B  cost per request: one VM ${
        c.oneVm.cpuUsPerRequest.toFixed(2)
      } us, ` +
        `two VMs ${c.twoVms.cpuUsPerRequest.toFixed(2)} us: ratio ${c.ratio.toFixed(3)} ` +
        `(${c.ratio <= 1.1 ? "pass" : "MISS"} <= 1.10); ops/s ${ops(c.oneVm.opsPerSec)} vs ` +
        `${c.twoVms.perVm.map(ops).join(" + ")}`,
    );
  }
  for (const n of r.neighbours) {
    const head = `  ${String(n.size).padStart(5)} B  beside a ${n.mode === "flood" ? "flood  " : "restart"}:`;
    if (n.mode === "flood") {
      out.push(
        `${head} ${ops(n.opsPerSec)} ops/s (${(n.opsPerSec / n.alone!.opsPerSec).toFixed(2)}x alone), ` +
          `p99 ${n.p99Us.toFixed(0)} us (alone ${n.alone!.p99Us.toFixed(0)} us)`,
      );
    } else {
      out.push(
        `${head} ${ops(n.opsPerSec)} ops/s, p99 ${n.p99Us.toFixed(0)} us, worst ${
          (n.maxUs / 1000).toFixed(1)
        } ms ` +
          `over ${n.kills} kills (${n.maxUs <= 100_000 ? "pass" : "MISS"} <= 100 ms)`,
      );
    }
  }
  return out.join("\n");
}

function ops(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}
