/**
 * Operations per second of one session: requests kept in flight (up to the depth) for a fixed time, after an
 * untimed warm-up round (first-use costs: OpenSSL contexts, descriptors, bounce slots). Driven by completions,
 * as the start-up calibration is (`src/engine/calibration.ts`), so an accelerator completing from its poll loop
 * keeps it moving without a Promise per request; a synchronous engine (software) runs in one loop.
 *
 * The figure is wall-clock throughput on a machine that may be doing other things: it tells an operator the
 * order of magnitude and where the accelerator wins, not a benchmark (tests never assert on it).
 *
 * @module
 */

import { type CryptoEngine, type CryptoOp, PENDING } from "../engine/mod.ts";
import { Status } from "../spec/virtio_crypto.ts";

/** Options of `opsPerSecond`. */
export interface ThroughputOptions {
  /** How long the timed run submits, ms (> 0). */
  readonly durationMs: number;
  /** Longest time without any completion before the run fails, ms. */
  readonly stallMs: number;
  /** The clock, ms. Default `performance.now`. */
  readonly now?: () => number;
}

/** A speed run failed: a request did not complete with OK, or nothing completed in time. */
export class ThroughputError extends Error {
  override name = "ThroughputError";
}

/**
 * Measures a session's throughput.
 *
 * @param engine The engine the operations' session belongs to.
 * @param ops The operations to keep in flight (their number is the depth), session set, reused as they complete.
 * @param options Duration, stall limit, clock.
 * @returns Completed operations per second of the timed run.
 * @throws ThroughputError for a status other than OK or a stall.
 */
export async function opsPerSecond(
  engine: CryptoEngine,
  ops: readonly CryptoOp[],
  options: ThroughputOptions,
): Promise<number> {
  const now = options.now ?? (() => performance.now());
  await drive(engine, ops, { count: ops.length, untilMs: Infinity, stallMs: options.stallMs, now });
  const { done, elapsedMs } = await drive(engine, ops, {
    count: Infinity,
    untilMs: options.durationMs,
    stallMs: options.stallMs,
    now,
  });
  return elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
}

interface DriveLimits {
  /** Stop submitting after this many. */
  readonly count: number;
  /** Stop submitting this long after the start, ms. */
  readonly untilMs: number;
  readonly stallMs: number;
  readonly now: () => number;
}

// Submits until a limit is reached, then waits for the requests in flight; resolves with the completions and the
// time from the start to the last one.
function drive(
  engine: CryptoEngine,
  ops: readonly CryptoOp[],
  limits: DriveLimits,
): Promise<{ done: number; elapsedMs: number }> {
  return new Promise((resolve, reject) => {
    const free = [...ops];
    const t0 = limits.now();
    let started = 0;
    let done = 0;
    let last = t0;
    let settled = false;
    let pumping = false;
    const more = (): boolean => started < limits.count && limits.now() - t0 < limits.untilMs;
    const settle = (error: Error | null): void => {
      if (settled) return;
      settled = true;
      clearInterval(watch);
      if (error === null) resolve({ done, elapsedMs: last - t0 });
      else reject(error);
    };
    const finished = (op: CryptoOp, status: number): void => {
      if (settled) return;
      if (status !== Status.OK) {
        return settle(new ThroughputError(`${engine.name} answered status ${status}`));
      }
      done++;
      last = limits.now();
      free.push(op);
      pump();
    };
    // A loop, not recursion: a synchronous engine completes inside submit.
    const pump = (): void => {
      if (pumping) return;
      pumping = true;
      while (!settled && free.length > 0 && more()) {
        const op = free.pop()!;
        started++;
        op.complete = finished;
        const status = engine.submit(op);
        if (status !== PENDING) finished(op, status);
      }
      pumping = false;
      if (!settled && done === started && !more()) settle(null);
    };
    const watch = setInterval(() => {
      if (limits.now() - last > limits.stallMs) {
        settle(new ThroughputError(`${engine.name} completed nothing for ${limits.stallMs} ms`));
      }
    }, Math.min(limits.stallMs, 250));
    pump();
  });
}
