/**
 * Routing policy (`serve --route`, issue 11 item 7): which engine a request goes to when both could serve it.
 *
 * - `accel-first` (default): the accelerator for everything it advertises, software for the rest (design.md
 *   decision 5).
 * - `fastest`: like `accel-first`, but a request smaller than its algorithm's threshold runs in software, because
 *   the start-up calibration (`calibration.ts`) measured software faster at that size. An algorithm that was not
 *   measured (chains, asymmetric, a measurement that failed) stays accelerator-first.
 * - `software`: every session in software; the accelerator stays open (health, stats) but serves nothing.
 *
 * A threshold is the smallest request size (source bytes) from which the accelerator is used: 0 means always, and
 * `Infinity` never (software was faster at every measured size).
 *
 * @module
 */

import type { SessionParams } from "./engine.ts";

/** How the router chooses between the accelerator and software. */
export type RoutePolicy = "accel-first" | "fastest" | "software";

/** The policies, for usage messages and parsing. */
export const ROUTE_POLICIES: readonly RoutePolicy[] = ["accel-first", "fastest", "software"];

/** The default policy. */
export const DEFAULT_ROUTE: RoutePolicy = "accel-first";

/**
 * Whether a string names a policy.
 *
 * @param value Any string (a flag's value, a config field).
 * @returns True for `accel-first`, `fastest` or `software`.
 */
export function isRoutePolicy(value: string): value is RoutePolicy {
  return (ROUTE_POLICIES as readonly string[]).includes(value);
}

/** Per-algorithm thresholds, keyed by `routeKey`: the least source size the accelerator is used for. */
export type RouteThresholds = ReadonlyMap<string, number>;

/**
 * The key a session's algorithm is calibrated and looked up under: `service/algo` for the single-algorithm
 * services, null for chains and asymmetric sessions (not calibrated: accelerator first).
 *
 * @param params Session parameters.
 * @returns The key, or null.
 */
export function routeKey(params: SessionParams): string | null {
  switch (params.service) {
    case "cipher":
    case "hash":
    case "mac":
    case "aead":
      return `${params.service}/${params.algo}`;
    default:
      return null;
  }
}

/** One measured size: time per request on each engine, in nanoseconds. */
export interface SpeedPoint {
  /** Source bytes per request. */
  readonly size: number;
  /** Accelerator time per request (throughput with several in flight). */
  readonly accelNs: number;
  /** Software time per request. */
  readonly softwareNs: number;
}

/**
 * The threshold the measurements give: the smallest measured size from which the accelerator was faster at that
 * size and every larger one. Sizes between two measured ones go with the larger (so a request smaller than the
 * first size where the accelerator wins runs in software). No points: 0 (nothing is known, the accelerator first).
 *
 * @param points Measurements, in any order.
 * @returns 0, a measured size, or Infinity.
 */
export function thresholdOf(points: readonly SpeedPoint[]): number {
  const sorted = [...points].sort((a, b) => a.size - b.size);
  let threshold = Infinity;
  for (let i = sorted.length - 1; i >= 0; i--) {
    const p = sorted[i]!;
    if (!(p.accelNs < p.softwareNs)) break;
    threshold = i === 0 ? 0 : p.size;
  }
  return sorted.length === 0 ? 0 : threshold;
}
