/**
 * What a wake-up costs on this host: an eventfd signal from this thread to a thread on another CPU that sleeps in
 * `epoll_wait` (as a VM's thread and an event-mode guest do), against one that is busy polling. On a VM host a
 * sleeping CPU is woken by an inter-processor interrupt, which the hypervisor handles: the writer's
 * `eventfd_write` then takes tens of microseconds instead of one. Event-mode figures of `bench_report.ts` pay it
 * per call signal and per kick, so the report prints this measurement beside them.
 *
 * Usage: deno run --allow-ffi --allow-read scripts/wake_cost.ts [--cpu-self N] [--cpu-peer N] [--rounds N]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { EventFd } from "../src/os/eventfd.ts";
import { pinThread, threadAffinity } from "../src/os/thread.ts";
import type { WakePeerInit } from "./_wake_peer.ts";
import { median } from "./bench_rows.ts";

/** Medians of one way of waiting, in microseconds. */
export interface WakeFigures {
  /** How long the signalling `eventfd_write` took. */
  readonly signalUs: number;
  /** From the signal until the peer's answer arrived (its wake-up, its signal back, seen by polling). */
  readonly roundTripUs: number;
}

/** The peer asleep in `epoll_wait`, and the peer polling its eventfd. */
export interface WakeCost {
  readonly cpuSelf: number;
  readonly cpuPeer: number;
  readonly rounds: number;
  readonly sleeping: WakeFigures;
  readonly polling: WakeFigures;
}

/** Between rounds, time for the peer to go back to sleep. */
const GAP_US = 300;

/**
 * Measures both ways of waiting.
 *
 * @param o CPUs for this thread and the peer (different ones), and rounds per way.
 * @returns The medians.
 */
export async function measureWakeCost(
  o: { cpuSelf: number; cpuPeer: number; rounds: number },
): Promise<WakeCost> {
  const before = threadAffinity();
  pinThread([o.cpuSelf]);
  try {
    const sleeping = await measureOne("sleep", o);
    const polling = await measureOne("poll", o);
    return { ...o, sleeping, polling };
  } finally {
    pinThread(before); // the caller goes on where it ran
  }
}

async function measureOne(
  wait: WakePeerInit["wait"],
  o: { cpuPeer: number; rounds: number },
): Promise<WakeFigures> {
  using ping = new EventFd();
  using pong = new EventFd();
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const peer = new Worker(new URL("./_wake_peer.ts", import.meta.url).href, { type: "module" });
  try {
    let done!: () => void;
    const ended = new Promise<void>((resolve) => done = resolve);
    const started = new Promise<void>((resolve, reject) => {
      peer.onmessage = (e) => e.data === "done" ? done() : resolve();
      peer.onerror = (e) => reject(new Error(`wake peer failed: ${e.message}`));
    });
    peer.postMessage({ ping: ping.fd, pong: pong.fd, cpu: o.cpuPeer, wait, stop } satisfies WakePeerInit);
    await started;
    const signal: number[] = [];
    const roundTrip: number[] = [];
    for (let i = 0; i < o.rounds; i++) {
      spinFor(GAP_US);
      const t0 = performance.now();
      ping.signal();
      const t1 = performance.now();
      while (pong.consume() === 0n) { /* the answer */ }
      const t2 = performance.now();
      signal.push((t1 - t0) * 1000);
      roundTrip.push((t2 - t0) * 1000);
    }
    Atomics.store(stop, 0, 1);
    ping.signal();
    await Promise.race([ended, new Promise((r) => setTimeout(r, 1000))]); // it closes its epoll set first
    return { signalUs: medianUs(signal), roundTripUs: medianUs(roundTrip) };
  } finally {
    Atomics.store(stop, 0, 1);
    peer.terminate();
  }
}

function spinFor(us: number): void {
  const end = performance.now() + us / 1000;
  while (performance.now() < end) { /* the peer falls asleep */ }
}

function medianUs(xs: readonly number[]): number {
  return Math.round(median(xs) * 100) / 100;
}

/**
 * One line for a report.
 *
 * @param w The measurement.
 * @returns The line.
 */
export function formatWakeCost(w: WakeCost): string {
  return `wake-ups on this host (CPU ${w.cpuSelf} signals CPU ${w.cpuPeer}, medians of ${w.rounds}): ` +
    `to a sleeping thread ${w.sleeping.signalUs} us per eventfd_write, ${w.sleeping.roundTripUs} us round trip; ` +
    `to a polling one ${w.polling.signalUs} us, ${w.polling.roundTripUs} us`;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      "cpu-self": { type: "string", default: "1" },
      "cpu-peer": { type: "string", default: "0" },
      rounds: { type: "string", default: "2000" },
    },
  });
  const cost = await measureWakeCost({
    cpuSelf: Number(values["cpu-self"]),
    cpuPeer: Number(values["cpu-peer"]),
    rounds: Number(values.rounds),
  });
  console.log(formatWakeCost(cost));
}
