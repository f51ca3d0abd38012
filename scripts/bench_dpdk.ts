/**
 * The DPDK column of `scripts/bench_report.ts` (issue 15): DPDK's `vhost_crypto` example with its OpenSSL cryptodev
 * (`scripts/dpdk_vhost_crypto.ts`) against the bridge, driven by the same generator (`bench --socket ... --peer
 * dpdk`), AES-128-CBC at the sizes DPDK accepts (2 KiB at most: larger cipher requests are refused), both sides on
 * the back-end CPU and the generator on its own; DPDK is stopped while the bridge runs and started again after it,
 * as its worker spins on that CPU even without a guest (holding it with SIGSTOP was seen to leave its threads
 * running now and then, 2026-12-07: the bridge then shared its CPU). The machine may be shared, so the cases run
 * in interleaved rounds (bridge, DPDK, bridge, DPDK, ...) and each figure is the median of its rounds. The departures from the virtio
 * spec the generator saw in DPDK's answers are kept with the figures.
 *
 * @module
 */

import { build, start, type VhostCrypto } from "./dpdk_vhost_crypto.ts";
import { benchCommand, type MeasureSettings, run } from "./bench_measure.ts";
import { type DpdkComparison, type DpdkRow, median, type Mode, type RatioRow } from "./bench_rows.ts";

/** The largest request DPDK's cipher path takes (`RTE_MBUF_DEFAULT_BUF_SIZE` is 2176; sizes are powers of 2). */
export const DPDK_MAX_SIZE = 2048;
/** The completion modes compared: both sides polling, and the generator waiting for the call eventfd. */
export const DPDK_MODES = ["poll", "event"] as const;

/**
 * The generator's command against DPDK: as against the bridge, but on DPDK's socket with the DPDK peer preset.
 *
 * @param mode poll (the generator polls the used ring) or event.
 * @param size Request size.
 * @param socket DPDK's socket.
 * @param s How to measure.
 * @returns The command.
 */
export function dpdkBenchCommand(mode: Mode, size: number, socket: string, s: MeasureSettings): string[] {
  const bridge = benchCommand("event", "aes-128-cbc", size, s);
  const pinServe = bridge.indexOf("--pin-serve");
  bridge.splice(pinServe, 2); // the back-end is already running, pinned by its own start
  return [
    ...bridge,
    "--socket",
    socket,
    "--peer",
    "dpdk",
    "--completion",
    mode === "poll" ? "poll" : "event",
  ];
}

interface CaseResult {
  readonly opsPerSec: number;
  readonly departures: readonly { readonly kind: string; readonly count: number }[];
}

/** One generator run; a failed run is tried once more (serve's start failed once here on a loaded machine). */
async function once(cmd: string[]): Promise<CaseResult> {
  let text: string;
  try {
    text = await run(cmd);
  } catch (e) {
    const first = (e as Error).message.split("\n").slice(0, 3).join(" ");
    console.error(`warning: trying again after: ${first}`);
    text = await run(cmd);
  }
  const r = JSON.parse(text).results[0];
  if (r.status !== "ok") throw new Error(`${cmd.join(" ")}: ${r.status} (${r.reason ?? ""})`);
  return { opsPerSec: r.opsPerSec, departures: r.departures ?? [] };
}

interface Case {
  readonly mode: DpdkRow["mode"];
  readonly size: number;
}

interface Rounds {
  readonly bridge: number[];
  readonly dpdk: number[];
  readonly departures: Record<string, number>;
}

interface At {
  vc: VhostCrypto;
  readonly s: MeasureSettings;
  readonly o: { readonly binary: string; readonly socket: string; readonly cpu: number };
}

/**
 * One round: each case on the bridge, then at once on DPDK (a ratio of runs minutes apart means little). DPDK is
 * not running while the bridge runs: its worker spins on the same CPU even without a guest.
 */
async function round(cases: readonly Case[], got: readonly Rounds[], at: At): Promise<void> {
  for (const [i, c] of cases.entries()) {
    const g = got[i]!;
    await at.vc.stop();
    try {
      g.bridge.push((await once(benchCommand(c.mode, "aes-128-cbc", c.size, at.s))).opsPerSec);
    } finally {
      at.vc = await start(at.o);
    }
    let d: CaseResult;
    try {
      d = await once(dpdkBenchCommand(c.mode, c.size, at.vc.socket, at.s));
    } catch (e) {
      if (at.vc.alive()) throw e;
      g.bridge.pop(); // no DPDK figure to pair it with in this round
      return; // the caller starts DPDK again for the next round
    }
    g.dpdk.push(d.opsPerSec);
    for (const x of d.departures) g.departures[x.kind] = (g.departures[x.kind] ?? 0) + x.count;
  }
}

function rowOf(c: Case, g: Rounds): DpdkRow {
  const [bridge, dpdk] = [median(g.bridge), median(g.dpdk)];
  return {
    ...c,
    bridgeOpsPerSec: bridge,
    dpdkOpsPerSec: dpdk,
    ratio: bridge / dpdk,
    rounds: { bridge: g.bridge, dpdk: g.dpdk },
    departures: g.departures,
  };
}

/**
 * Measures the comparison: DPDK's example built (or taken from `binary`), started on the back-end CPU, and the
 * cases in interleaved rounds.
 *
 * @param sizes The report's sizes (those above 2 KiB are left out).
 * @param s How to measure (pins, duration, depth).
 * @param o Rounds, and a user-built binary.
 * @returns The comparison.
 */
export async function measureDpdk(
  sizes: readonly number[],
  s: MeasureSettings,
  o: { readonly rounds: number; readonly binary?: string | undefined },
): Promise<DpdkComparison> {
  const binary = o.binary ?? await build();
  const dir = await Deno.makeTempDir({ prefix: "cryptobridge-dpdk-" });
  const socket = `${dir}/vhost-crypto.sock`;
  const run = { binary, socket, cpu: Number(s.pinServe) };
  const at: At = { vc: await start(run), s, o: run };
  try {
    const cases: Case[] = DPDK_MODES.flatMap((mode) =>
      sizes.filter((z) => z <= DPDK_MAX_SIZE).map((size) => ({ mode, size }))
    );
    const got: Rounds[] = cases.map(() => ({ bridge: [], dpdk: [], departures: {} }));
    for (let r = 0; r < o.rounds; r++) {
      console.error(`DPDK comparison, round ${r + 1}/${o.rounds}`);
      await round(cases, got, at);
      if (!at.vc.alive()) at.vc = await restart(at.vc, run);
    }
    return { binary, rounds: o.rounds, rows: cases.map((c, i) => rowOf(c, got[i]!)) };
  } finally {
    await at.vc.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

// DPDK's example has been seen to exit mid-run (round 3 of 3, 2026-12-06): say so with its last words, start a
// fresh one for the next round, and keep what the round measured (the generator's run against a dead socket
// fails and is left out of the medians).
async function restart(
  vc: VhostCrypto,
  o: { readonly binary: string; readonly socket: string; readonly cpu: number },
): Promise<VhostCrypto> {
  const tail = (await Deno.readTextFile(vc.log).catch(() => "")).trim().split("\n").slice(-5).join("\n  ");
  console.error(
    `warning: vhost_crypto exited during the round; starting it again. Its last lines:\n  ${tail}`,
  );
  await vc.stop();
  return await start(o);
}

/**
 * The comparison as lines of text: per mode and size the OpenSSL ceiling (when the report measured AES-128-CBC
 * at that size), both medians and bridge / DPDK, then the departures the generator saw in DPDK's answers.
 *
 * @param c The comparison.
 * @param ratios The report's ratios (their OpenSSL ceilings).
 * @returns The lines.
 */
export function formatDpdk(c: DpdkComparison, ratios: readonly RatioRow[]): string {
  const mbs = (ops: number, size: number): string => ((ops * size) / 1e6).toFixed(1).padStart(7);
  const lines = [
    `cryptobridge / DPDK vhost_crypto (openssl cryptodev), AES-128-CBC, median of ${c.rounds} rounds (MB/s):`,
    "  mode     size  OpenSSL   bridge     DPDK  bridge/DPDK",
  ];
  for (const r of c.rows) {
    const ceiling = ratios.find((x) => x.algorithm === "aes-128-cbc" && x.size === r.size)?.opensslMBs;
    lines.push(
      `  ${r.mode.padEnd(5)} ${String(r.size).padStart(5)} B ${
        ceiling === undefined ? "      -" : ceiling.toFixed(1).padStart(7)
      }  ` +
        `${mbs(r.bridgeOpsPerSec, r.size)}  ${mbs(r.dpdkOpsPerSec, r.size)}  ${
          r.ratio.toFixed(2).padStart(11)
        }`,
    );
  }
  for (const kind of new Set(c.rows.flatMap((r) => Object.keys(r.departures)))) {
    const n = c.rows.reduce((a, r) => a + (r.departures[kind] ?? 0), 0);
    lines.push(`  departure in DPDK's answers, seen by the generator: ${kind} x${n}`);
  }
  return lines.join("\n");
}
