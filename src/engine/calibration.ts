/**
 * The start-up calibration behind `serve --route fastest` (issue 11 item 7): a short run of every algorithm the
 * accelerator advertises, on the accelerator and in software, at a few request sizes, giving the router a
 * per-algorithm size threshold (`route_policy.ts`) and one log line per algorithm.
 *
 * Each measurement is throughput: `requests` operations with up to `window` in flight (an accelerator batches;
 * software answers synchronously), after a warm-up round that is not timed (first-use costs: OpenSSL contexts,
 * descriptors). It is driven by completions, not Promises per request, so an accelerator completing from a
 * reactor's callback keeps it moving without a trip through the event loop. A measurement that fails (a status
 * other than OK, no answer within `timeoutMs`, a refused session) leaves its algorithm uncalibrated:
 * accelerator first, and the log says why.
 *
 * The clock is injected, so tests give engines of known relative speed a fake clock and assert the thresholds,
 * never timings.
 *
 * @module
 */

import { type CryptoEngine, type CryptoOp, EngineError, type EngineSession, PENDING } from "./engine.ts";
import { calibrationOp, type CalibrationTarget, calibrationTargets } from "./calibration_ops.ts";
import { supports } from "./capabilities.ts";
import { routeKey, type SpeedPoint, thresholdOf } from "./route_policy.ts";

/** Options of `calibrate`. */
export interface CalibrationOptions {
  /**
   * Source sizes measured, in bytes. Default 64, 1024, 4096: the calibration's buffers are not guest memory, so
   * the accelerators copy them through their per-request bounce areas (16 KiB for source and destination together
   * by default), which larger sizes would not fit.
   */
  readonly sizes?: readonly number[];
  /** Timed requests per size and engine. Default 32. */
  readonly requests?: number;
  /** Requests in flight at once. Default 8. */
  readonly window?: number;
  /** Longest a measurement may take before it counts as failed, ms. Default 2000. */
  readonly timeoutMs?: number;
  /** The clock, in ms. Default `performance.now`. */
  readonly now?: () => number;
}

/** What the calibration found for one algorithm. */
export interface AlgorithmCalibration {
  /** Its `routeKey`. */
  readonly key: string;
  /** Its readable name. */
  readonly name: string;
  /** The measurements (empty when it failed). */
  readonly points: readonly SpeedPoint[];
  /** The least source size the accelerator is used for under `fastest` (0 when not measured). */
  readonly threshold: number;
  /** Why it was not measured, or null. */
  readonly problem: string | null;
}

type Resolved = Required<CalibrationOptions>;

const DEFAULTS: Resolved = {
  sizes: [64, 1024, 4096],
  requests: 32,
  window: 8,
  timeoutMs: 2000,
  now: () => performance.now(),
};

/** A measurement failed: the algorithm stays accelerator-first. */
export class CalibrationError extends Error {
  override name = "CalibrationError";
  /** `status`: a request failed; `timeout`: the engine stopped answering (the rest is not measured). */
  readonly kind: "status" | "timeout";

  /**
   * @param kind What failed.
   * @param message What to log.
   */
  constructor(kind: "status" | "timeout", message: string) {
    super(message);
    this.kind = kind;
  }
}

/**
 * Measures every algorithm the accelerator advertises (and software serves) against software.
 *
 * @param accel The accelerator engine (its own sessions; nothing goes through a router).
 * @param software The software engine.
 * @param options Sizes, counts, clock.
 * @returns One result per algorithm, in the accelerator's table order.
 */
export async function calibrate(
  accel: CryptoEngine,
  software: CryptoEngine,
  options: CalibrationOptions = {},
): Promise<AlgorithmCalibration[]> {
  const o: Resolved = { ...DEFAULTS, ...definedOf(options) };
  const softCaps = software.capabilities();
  const results: AlgorithmCalibration[] = [];
  let stopped: string | null = null; // an engine that stopped answering is not waited for again
  for (const target of calibrationTargets(accel.capabilities())) {
    const key = routeKey(target.params)!;
    const failed = (problem: string) => ({ key, name: target.name, points: [], threshold: 0, problem });
    if (stopped !== null) results.push(failed(stopped));
    else if (!supports(softCaps, target.params)) results.push(failed("software does not serve it"));
    else {
      try {
        const points = await measureTarget(accel, software, target, o);
        results.push({ key, name: target.name, points, threshold: thresholdOf(points), problem: null });
      } catch (e) {
        if (!(e instanceof CalibrationError || e instanceof EngineError)) throw e;
        results.push(failed(e.message));
        if (e instanceof CalibrationError && e.kind === "timeout") stopped = e.message;
      }
    }
  }
  return results;
}

function definedOf(options: CalibrationOptions): Partial<Resolved> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<Resolved>;
}

async function measureTarget(
  accel: CryptoEngine,
  software: CryptoEngine,
  target: CalibrationTarget,
  o: Resolved,
): Promise<SpeedPoint[]> {
  const sessions: EngineSession[] = [];
  try {
    const a = accel.createSession(target.params);
    sessions.push(a);
    const s = software.createSession(target.params);
    sessions.push(s);
    const points: SpeedPoint[] = [];
    for (const size of o.sizes) {
      const accelNs = await timePerRequest(a, target, size, o);
      const softwareNs = await timePerRequest(s, target, size, o);
      points.push({ size, accelNs, softwareNs });
    }
    return points;
  } finally {
    for (const session of sessions) session.engine.closeSession(session);
  }
}

// Nanoseconds per request of one session at one size: a warm-up round, then `requests` timed.
async function timePerRequest(
  session: EngineSession,
  target: CalibrationTarget,
  size: number,
  o: Resolved,
): Promise<number> {
  const ops = Array.from({ length: Math.max(1, Math.min(o.window, o.requests)) }, () => {
    const op = calibrationOp(target, size);
    op.session = session;
    return op;
  });
  await runRequests(session.engine, ops, ops.length, o.timeoutMs);
  const t0 = o.now();
  await runRequests(session.engine, ops, o.requests, o.timeoutMs);
  return ((o.now() - t0) * 1e6) / o.requests;
}

// Runs `total` requests over the operations, each reused as soon as it completes; rejects with a
// CalibrationError for a failed request or a timeout.
function runRequests(engine: CryptoEngine, ops: CryptoOp[], total: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const free = [...ops];
    let started = 0;
    let done = 0;
    let settled = false;
    let pumping = false;
    const settle = (error: Error | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error === null) resolve();
      else reject(error);
    };
    const finished = (op: CryptoOp, status: number): void => {
      if (settled) return;
      if (status !== 0) {
        return settle(new CalibrationError("status", `${engine.name} answered status ${status}`));
      }
      free.push(op);
      if (++done === total) return settle(null);
      pump();
    };
    // A loop, not recursion: a synchronous engine answers inside submit.
    const pump = (): void => {
      if (pumping) return;
      pumping = true;
      while (!settled && started < total && free.length > 0) {
        const op = free.pop()!;
        started++;
        op.complete = finished;
        const status = engine.submit(op);
        if (status !== PENDING) finished(op, status);
      }
      pumping = false;
    };
    const timer = setTimeout(
      () => settle(new CalibrationError("timeout", `${engine.name} did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    pump();
  });
}

/**
 * The log line of one algorithm: each size's times and what `fastest` does with it.
 *
 * @param c Its result.
 * @returns One line.
 */
export function formatCalibration(c: AlgorithmCalibration): string {
  if (c.problem !== null) return `${c.name}: not measured (${c.problem}); accelerator first`;
  const points = c.points.map((p) =>
    `${bytes(p.size)} accelerator ${micro(p.accelNs)} software ${micro(p.softwareNs)}`
  ).join(", ");
  const verdict = c.threshold === 0
    ? "accelerator at every size"
    : c.threshold === Infinity
    ? "software at every size"
    : `software below ${bytes(c.threshold)}`;
  return `${c.name}: ${points}; fastest: ${verdict}`;
}

function micro(ns: number): string {
  return `${(ns / 1000).toFixed(1)} us`;
}

function bytes(n: number): string {
  return n >= 1024 && n % 1024 === 0 ? `${n / 1024} KiB` : `${n} B`;
}

/**
 * The thresholds of the measured algorithms (the router's `fastest` table); failed ones are left out.
 *
 * @param results The calibration.
 * @returns `routeKey` -> threshold.
 */
export function thresholdsOf(results: readonly AlgorithmCalibration[]): Map<string, number> {
  return new Map(results.filter((r) => r.problem === null).map((r) => [r.key, r.threshold]));
}
