/**
 * `cryptobridge bench`: a load generator for any vhost-user crypto back-end. It plays QEMU and a guest
 * (`src/frontend/`), sends preallocated requests at a fixed depth, checks a sample of outputs against the software
 * engine, and reports operations/s, bytes/s and latency percentiles, as a table or as JSON. Without `--socket` it
 * starts `cryptobridge serve` as a separate process and measures that.
 *
 * @module
 */

import { BENCH_ALGORITHMS, BENCH_SIZES } from "../frontend/mod.ts";
import { type BenchOptions, parseBenchOptions } from "./bench_options.ts";
import {
  type BenchReport,
  formatDepartures,
  formatProgress,
  formatTable,
  summarizeDepartures,
} from "./bench_output.ts";
import type { BenchConfig, BenchProgress } from "./bench_run.ts";
import { pinSelf, type ServeProcess, startServe } from "./bench_serve.ts";
import { VERSION } from "../daemon/version.ts";
import { runOnSockets, totals, type VmResults } from "./bench_vms.ts";
import { formatNeighbour, type NeighbourReport, runBesideNeighbour } from "./bench_neighbour.ts";

// Re-exported: callers look for the parser of a command in the command's module.
export { type BenchOptions, parseBenchOptions, sessionLayout, sizes } from "./bench_options.ts";

/** `bench --help`. */
export const BENCH_HELP = `cryptobridge bench: drive a vhost-user crypto back-end and measure it

Usage: cryptobridge bench [options]

Back-end:
  --socket PATH          the back-end's vhost-user socket (cryptobridge serve, DPDK vhost_crypto, ...);
                         without it, bench starts \`cryptobridge serve\` in a separate process and measures it.
                         Repeat it to drive several VMs at once: results per VM and in total
  --vms N                VMs (sockets) of the serve bench starts itself, 1-16 (default 1)
  --neighbour MODE       with two VMs or more, the last one is a neighbour in its own process while the
                         others run the cases: flood (AES-128-CBC 16 KiB at depth 1024; each case runs
                         alone, then beside the flood) or restart (killed with SIGKILL mid-load and started
                         again, over and over; a measured VM's worst latency is its longest stall)
  --poll                 start that serve with --poll (rings served by polling, no kicks)
  --busy-poll US         start that serve with --busy-poll US (after a kick, poll the ring for US µs)
  --pin-serve CPU        run that serve on one CPU (taskset -c CPU)
  --pin-bench CPU        run this load generator on one CPU (taskset -a -p -c CPU)
  --peer P               drive a known back-end as it is: dpdk-22.11 (Debian 12's; plain dpdk means it) or
                         dpdk-26.07. Sets --indirect --heads avail-order --vring-enable --no-control-queue
                         --max-size 2176 and --session-layout A (22.11) or C (26.07). A flag given beside
                         --peer overrides its part of the preset (--direct, --control-queue,
                         --no-vring-enable, --heads free-list, --session-layout, --max-size)
  --session-layout L     message 26 payload layout for cipher and chaining sessions: A (QEMU <= 7.0),
                         B (QEMU 7.1-8.0, the default) or C (QEMU >= 8.1); a QEMU version such as 7.2 also works
  --no-control-queue     do not set up the control queue (back-ends that have none, such as DPDK's);
                         --control-queue sets it up (the default)
  --vring-enable         send VHOST_USER_SET_VRING_ENABLE(i, 1) for each ring after setting the rings up, before
                         the first kick (QEMU never does for crypto; DPDK's vhost_crypto serves nothing without
                         it); --no-vring-enable does not (the default)
  --heads ORDER          how head descriptors are handed out: free-list (the last freed, as Linux; the default)
                         or avail-order (head = avail position mod queue size, needs --indirect), for a back-end
                         that writes each used element at the slot numbered by its head (DPDK's)
  --max-size BYTES       skip sizes above BYTES with a message instead of sending them (a back-end that would
                         never complete them: DPDK takes at most 2176 bytes per request)

Workload:
  --algo LIST            comma-separated, default all: ${BENCH_ALGORITHMS.join(", ")}
  --size LIST            payload bytes per request, comma-separated (k = 1024), default ${
  BENCH_SIZES.join(",")
}
  --depth N              requests in flight, 1-1024 (default 32)
  --duration S           seconds per case (default 2, or unlimited when --count is given)
  --count N              requests per case (with --duration: whichever comes first)
  --warmup S             seconds per case run before measuring (default 0.5; 0 with --count)
  --indirect             indirect descriptor chains (default: direct, one descriptor per part; --direct)
  --completion MODE      event: wait for the call eventfd (default); poll: busy-poll the used ring
  --queue-size N         ring size, a power of 2 up to 1024 (default 1024)
  --verify-every N       compare the first output of every slot and then every N-th with the software
                         engine's (default 1024; 1 checks all); a mismatch stops the run with exit code 1.
                         Each check costs the back-end too (the output is overwritten before the request,
                         so its cache lines come back from the generator's core): sample sparingly

Output:
  --json                 print a JSON document instead of the table
  -h, --help             show this help

Departures: every used element is checked against the virtio spec: its id is a head in flight, its request
was answered (status byte written), its len is the bytes the device had to write (output + status), and
used.idx stays within the queue size; in poll mode a call signal while notifications are suppressed counts,
in event mode completions left without the signal asked for. A case where nothing completes for 2 s ends
as stalled ("N requests never completed"; after one more kick if the device had suppressed kicks) and the
connection is made again for the next cases. Departures are a report, shown below the table and in the
JSON ("departures" of each case, and a summary): they do not change the exit code, only a wrong output or
an error status does.

Sessions: AES-128-CBC and the AES-CBC + HMAC-SHA256 chain are created with vhost-user message 26, as QEMU
forwards them. QEMU's message 26 cannot express AEAD or HMAC-only sessions, so aes-256-gcm and hmac-sha256
are created through the device's control queue, as a guest driver would on a device whose control queue the
back-end serves. A back-end without one (DPDK's vhost_crypto) does not answer there: those two algorithms are
then skipped with a message (or pass --no-control-queue).

For figures worth comparing, give the back-end and the generator a core each, e.g. on two CPUs:
  cryptobridge bench --pin-serve 1 --pin-bench 0
A progress line is shown on a terminal. scripts/bench_report.ts runs the whole matrix against \`openssl speed\`.`;

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
    if (o.sockets.length === 0) {
      dir = await Deno.makeTempDir({ prefix: "cryptobridge-bench-" });
      serve = await startServe({
        socket: `${dir}/vm0.sock`,
        moreSockets: Array.from({ length: o.vms - 1 }, (_, i) => `${dir}/vm${i + 1}.sock`),
        poll: o.poll,
        ...(o.busyPollUs !== undefined ? { busyPollUs: o.busyPollUs } : {}),
        ...(o.pinServe !== undefined ? { cpu: o.pinServe } : {}),
      });
    }
    const sockets = o.sockets.length > 0 ? o.sockets : serve!.sockets;
    if (o.neighbour !== undefined) {
      const r = await runBesideNeighbour(benchConfig(o, sockets, null), sockets, {
        mode: o.neighbour,
        ...(o.pinBench !== undefined ? { cpu: o.pinBench } : {}),
      });
      if (o.json) console.log(JSON.stringify(neighbourReport(o, serve, r), null, 2));
      else console.log(formatNeighbour(r));
      return 0;
    }
    const vms = await runWithProgress(o, sockets);
    if (o.json) console.log(JSON.stringify(report(o, { version: VERSION, serve }, vms), null, 2));
    else console.log(formatVms(vms));
    return 0;
  } finally {
    await serve?.stop();
    if (dir !== null) await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Runs every case on every socket, with a progress line on a terminal (cleared before the results print). */
async function runWithProgress(o: BenchOptions, sockets: readonly string[]): Promise<VmResults[]> {
  const progress = progressLine();
  try {
    return await runOnSockets(benchConfig(o, sockets, progress), sockets);
  } finally {
    progress?.clear();
  }
}

/** The run's configuration from the options (its socket is replaced per VM). */
function benchConfig(
  o: BenchOptions,
  sockets: readonly string[],
  progress: { update: (p: BenchProgress) => void } | null,
): BenchConfig {
  return {
    socket: sockets[0]!,
    algorithms: o.algorithms,
    sizes: o.sizes,
    depth: o.depth,
    ...(o.durationMs !== undefined ? { durationMs: o.durationMs } : {}),
    ...(o.count !== undefined ? { count: o.count } : {}),
    warmupMs: o.warmupMs,
    indirect: o.indirect,
    heads: o.heads,
    vringEnable: o.vringEnable,
    ...(o.maxSize !== undefined ? { maxSize: o.maxSize } : {}),
    ...(o.peer !== undefined ? { peer: o.peer } : {}),
    sessionLayout: o.sessionLayout,
    completion: o.completion,
    verifyEvery: o.verifyEvery,
    controlQueue: o.controlQueue,
    queueSize: o.queueSize,
    ...(progress !== null ? { onProgress: progress.update } : {}),
  };
}

/** The JSON document of a neighbour run: the usual header, then the report. */
function neighbourReport(o: BenchOptions, serve: ServeProcess | null, r: NeighbourReport): object {
  const base = report(o, { version: VERSION, serve }, r.beside);
  return { ...base, neighbour: r };
}

/** The table of each VM, and of all of them together when there are several. */
function formatVms(vms: readonly VmResults[]): string {
  const table = (results: VmResults["results"]): string =>
    [formatTable(results), formatDepartures(results)].filter((s) => s !== "").join("\n");
  if (vms.length === 1) return table(vms[0]!.results);
  const parts = vms.map((v, i) => `VM ${i} (${v.socket}):\n${table(v.results)}`);
  return [...parts, `All ${vms.length} VMs at once:\n${formatTable(totals(vms))}`].join("\n\n");
}

function report(
  o: BenchOptions,
  run: { version: string; serve: ServeProcess | null },
  vms: readonly VmResults[],
): BenchReport {
  const { serve } = run;
  const socket = vms[0]!.socket;
  const results = vms[0]!.results;
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
      ...(o.peer !== undefined ? { peer: o.peer } : {}),
      indirect: o.indirect,
      heads: o.heads,
      vringEnable: o.vringEnable,
      ...(o.maxSize !== undefined ? { maxSize: o.maxSize } : {}),
      sessionLayout: o.sessionLayout,
      completion: o.completion,
      verifyEvery: o.verifyEvery,
      controlQueue: o.controlQueue,
      queueSize: o.queueSize,
      ...(o.pinBench !== undefined ? { benchCpu: o.pinBench } : {}),
    },
    host: { cpus: navigator.hardwareConcurrency, loadavg: Deno.loadavg() },
    results,
    ...(vms.length > 1 ? { vms, total: totals(vms) } : {}),
    verification: {
      passed: true,
      verified: vms.flatMap((v) => v.results).reduce((n, r) => n + (r.verified ?? 0), 0),
    },
    departures: summarizeDepartures(vms.flatMap((v) => v.results)),
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
