/**
 * What a cache-line round trip costs between two CPUs of this host: this thread stores a value in one shared word,
 * a peer thread on the other CPU sees it and stores it in another, and this thread waits to see that. Every
 * request of the bridge reads lines the load generator's CPU has just written (avail entries, descriptors, the
 * indirect table) and writes lines it reads back (status byte, used entries), so on a VM host whose vCPUs move
 * between physical cores this figure moves the small-request rates by tens of percent within minutes (82-615 ns
 * seen on one host, docs/dpdk.md). `bench_report.ts` measures it before and after its cases and prints both.
 *
 * Usage: deno run --allow-ffi --allow-read scripts/line_round_trip.ts [--cpu-self N] [--cpu-peer N] [--rounds N]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { pinThread, threadAffinity } from "../src/os/thread.ts";
import { type LinePeerInit, PING, PONG, STOP } from "./_line_peer.ts";
import { median } from "./bench_rows.ts";

/** The measurement: the median over `BATCHES` batches of `rounds / BATCHES` round trips each. */
export interface LineRoundTrip {
  readonly cpuSelf: number;
  readonly cpuPeer: number;
  readonly rounds: number;
  /** Median nanoseconds per round trip. */
  readonly ns: number;
  /** Round trips the peer answered (equals `rounds` when every one was answered). */
  readonly answered: number;
}

/** Batches a run is cut into, so that one descheduling does not decide the figure. */
const BATCHES = 5;
/** How long one answer may take before the peer is taken for lost. */
const ANSWER_TIMEOUT_MS = 2000;

/**
 * Measures the round trip.
 *
 * @param o CPUs for this thread and the peer (different ones) and round trips in all (rounded down to a multiple
 *   of `BATCHES`).
 * @returns The median per round trip, in nanoseconds.
 * @throws Error when the peer stops answering.
 */
export async function measureLineRoundTrip(
  o: { cpuSelf: number; cpuPeer: number; rounds: number },
): Promise<LineRoundTrip> {
  const before = threadAffinity();
  const words = new Int32Array(new SharedArrayBuffer(4 * (PONG + 16)));
  const peer = new Worker(new URL("./_line_peer.ts", import.meta.url).href, { type: "module" });
  try {
    let answered!: (count: number) => void;
    const count = new Promise<number>((resolve) => answered = resolve);
    await new Promise<void>((ready, reject) => {
      // "ready" first, then the number of values answered once it saw STOP.
      peer.onmessage = (e) => typeof e.data === "number" ? answered(e.data) : ready();
      peer.onerror = (e) => reject(new Error(`line round-trip peer failed: ${e.message}`));
      peer.postMessage({ words, cpu: o.cpuPeer } satisfies LinePeerInit);
    });
    pinThread([o.cpuSelf]);
    const perBatch = Math.max(1, Math.floor(o.rounds / BATCHES));
    const ns: number[] = [];
    let value = 0;
    for (let b = 0; b < BATCHES; b++) {
      const t0 = performance.now();
      for (let i = 0; i < perBatch; i++) pingPong(words, ++value);
      ns.push((performance.now() - t0) * 1e6 / perBatch);
    }
    Atomics.store(words, PING, STOP);
    const total = await count;
    return { ...o, rounds: perBatch * BATCHES, ns: Math.round(median(ns) * 10) / 10, answered: total };
  } finally {
    Atomics.store(words, PING, STOP);
    pinThread(before); // the caller goes on where it ran
    peer.terminate();
  }
}

function pingPong(words: Int32Array, value: number): void {
  Atomics.store(words, PING, value);
  let deadline = 0;
  for (let spins = 1; Atomics.load(words, PONG) !== value; spins++) {
    // A clock read only every 2^20 spins: the wait itself is what is measured.
    if ((spins & 0xfffff) !== 0) continue;
    const now = performance.now();
    if (deadline === 0) deadline = now + ANSWER_TIMEOUT_MS;
    else if (now > deadline) {
      throw new Error(`line round-trip peer did not answer ${value} within ${ANSWER_TIMEOUT_MS} ms`);
    }
  }
}

/**
 * One line for a report.
 *
 * @param label When it was measured ("before the cases", ...).
 * @param r The measurement.
 * @returns The line.
 */
export function formatLineRoundTrip(label: string, r: LineRoundTrip): string {
  return `cache-line round trip CPU ${r.cpuSelf} <-> CPU ${r.cpuPeer} ${label}: ${r.ns} ns ` +
    `(median of ${BATCHES} batches, ${r.rounds} round trips)`;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      "cpu-self": { type: "string", default: "1" },
      "cpu-peer": { type: "string", default: "0" },
      rounds: { type: "string", default: "500000" },
    },
  });
  const r = await measureLineRoundTrip({
    cpuSelf: Number(values["cpu-self"]),
    cpuPeer: Number(values["cpu-peer"]),
    rounds: Number(values.rounds),
  });
  console.log(formatLineRoundTrip("now", r));
}
