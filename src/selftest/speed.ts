/**
 * The speed columns of one algorithm: operations per second at each size, on the accelerator (requests kept in
 * flight up to the depth) and on the software engine, in sessions of their own with the same parameters.
 *
 * @module
 */

import { type CryptoEngine, EngineError } from "../engine/mod.ts";
import type { KatCase } from "./kat_case.ts";
import type { SpeedSample } from "./report.ts";
import { speedOps } from "./speed_op.ts";
import { opsPerSecond } from "./throughput.ts";

/** How the speed runs go. */
export interface SpeedOptions {
  /** Source sizes, bytes. */
  readonly sizes: readonly number[];
  /** Each measurement's length, ms. */
  readonly durationMs: number;
  /** Requests in flight on the accelerator. */
  readonly depth: number;
  /** Longest time without a completion, ms. */
  readonly stallMs: number;
}

/**
 * Measures a case's shape at each size on both engines.
 *
 * @param accel The accelerator's engine.
 * @param software The software engine.
 * @param c The case whose session and lengths are timed.
 * @param o Sizes, duration, depth.
 * @returns One sample per size; software's figure is null when it refuses the session.
 * @throws ThroughputError, EngineError: the accelerator failed a speed run (or refused its session).
 */
export async function measureSpeed(
  accel: CryptoEngine,
  software: CryptoEngine,
  c: KatCase,
  o: SpeedOptions,
): Promise<SpeedSample[]> {
  const samples: SpeedSample[] = [];
  for (const size of o.sizes) {
    const device = await measureOn(accel, c, size, o.depth, o);
    const soft = await softwareSpeed(software, c, size, o);
    const ratio = soft === null || soft === 0 ? null : device / soft;
    samples.push({ size, deviceOpsPerSec: device, softwareOpsPerSec: soft, ratio });
  }
  return samples;
}

async function softwareSpeed(
  software: CryptoEngine,
  c: KatCase,
  size: number,
  o: SpeedOptions,
): Promise<number | null> {
  try {
    return await measureOn(software, c, size, 1, o);
  } catch (e) {
    if (e instanceof EngineError) return null;
    throw e;
  }
}

async function measureOn(
  engine: CryptoEngine,
  c: KatCase,
  size: number,
  depth: number,
  o: SpeedOptions,
): Promise<number> {
  const session = engine.createSession(c.params);
  try {
    return await opsPerSecond(engine, speedOps(session, c, size, depth), o);
  } finally {
    engine.closeSession(session);
  }
}
