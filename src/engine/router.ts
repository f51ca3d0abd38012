/**
 * `RouterEngine`: the accelerator first, software for the rest, decided per session (design.md decision 5).
 *
 * - A session whose algorithm the accelerator does not advertise is created in software ("not-advertised").
 * - One the accelerator refuses although it advertised it ("refused"), or cannot hold ("nospc"), or cannot create
 *   because it failed ("unavailable"), is created in software too.
 * - Accelerator sessions get a software twin (same parameters, its own OpenSSL context), so a request the
 *   accelerator fails at run time (`ENGINE_FAILED`) is re-run in software and the guest sees success ("failed").
 * - The routing policy (`route_policy.ts`, `serve --route`): under `software` every session is made in software
 *   ("policy-software"); under `fastest` a request of an accelerator session smaller than its algorithm's
 *   calibrated threshold runs on the twin instead ("software-faster", per request).
 * Every served request is counted by path, every software session and re-run by reason.
 *
 * @module
 */

import {
  type Capabilities,
  type CryptoEngine,
  type CryptoOp,
  type DmaRegion,
  ENGINE_FAILED,
  EngineError,
  type EngineSession,
  PENDING,
  type SessionParams,
} from "./engine.ts";
import { mergeCapabilities, supports } from "./capabilities.ts";
import {
  type AlgorithmCalibration,
  calibrate,
  type CalibrationOptions,
  thresholdsOf,
} from "./calibration.ts";
import { DEFAULT_ROUTE, routeKey, type RoutePolicy, type RouteThresholds } from "./route_policy.ts";

/**
 * Why a session or request went to software: sessions for all but "failed" (requests re-run) and
 * "software-faster" (requests the `fastest` policy sent to software).
 */
export type FallbackReason =
  | "not-advertised"
  | "refused"
  | "nospc"
  | "quota"
  | "unavailable"
  | "failed"
  | "software-faster"
  | "policy-software";

/** Options of a router. */
export interface RouterOptions {
  /** The routing policy. Default `accel-first`. */
  readonly policy?: RoutePolicy;
  /** Thresholds for `fastest` (usually from `calibrate()` later). Default none: accelerator first. */
  readonly thresholds?: RouteThresholds;
}

/** Counters of a router (`cryptobridge` logs them; tests read them). */
export interface RouterStats {
  /** Requests served by the accelerator. */
  accelRequests: number;
  /** Requests served in software (including re-runs). */
  softwareRequests: number;
  /** Sessions created on the accelerator. */
  accelSessions: number;
  /** Sessions created in software, by reason (re-runs of failed requests count under "failed"). */
  fallbacks: Record<FallbackReason, number>;
  /** The routing policy in force. */
  policy: RoutePolicy;
  /**
   * The `fastest` thresholds in force, JSON-safe: `routeKey` -> least source size on the accelerator, null for
   * software at every size. Empty until a calibration (or `setThresholds`).
   */
  thresholds: Record<string, number | null>;
}

/** A session as the device sees it: where it runs, and its software twin for re-runs. */
class RoutedSession implements EngineSession {
  readonly params: SessionParams;
  readonly engine: RouterEngine;
  readonly inner: EngineSession;
  readonly twin: EngineSession | null;
  /** Its algorithm's calibration key (`routeKey`), or null. */
  readonly key: string | null;

  constructor(engine: RouterEngine, params: SessionParams, inner: EngineSession, twin: EngineSession | null) {
    this.engine = engine;
    this.params = params;
    this.inner = inner;
    this.twin = twin;
    this.key = routeKey(params);
  }
}

/** Routes sessions between an accelerator and the software engine. */
export class RouterEngine implements CryptoEngine {
  readonly name = "router";
  readonly #accel: CryptoEngine | null;
  readonly #software: CryptoEngine;
  readonly #stats: RouterStats = {
    accelRequests: 0,
    softwareRequests: 0,
    accelSessions: 0,
    fallbacks: {
      "not-advertised": 0,
      refused: 0,
      nospc: 0,
      quota: 0,
      unavailable: 0,
      failed: 0,
      "software-faster": 0,
      "policy-software": 0,
    },
    policy: DEFAULT_ROUTE,
    thresholds: {},
  };
  #thresholds: RouteThresholds = new Map();
  // The device's completion callback and routed session of each operation submitted asynchronously.
  readonly #pending = new Map<CryptoOp, { complete: CryptoOp["complete"]; session: RoutedSession }>();
  readonly #onAccelComplete = (op: CryptoOp, status: number): void => this.#accelCompleted(op, status);

  /**
   * @param accel The accelerator engine, or null (software only).
   * @param software The software engine.
   * @param options The routing policy and thresholds.
   */
  constructor(accel: CryptoEngine | null, software: CryptoEngine, options: RouterOptions = {}) {
    this.#accel = accel;
    this.#software = software;
    this.#stats.policy = options.policy ?? DEFAULT_ROUTE;
    if (options.thresholds !== undefined) this.setThresholds(options.thresholds);
  }

  /** The policy in force. */
  get policy(): RoutePolicy {
    return this.#stats.policy;
  }

  /**
   * Changes the policy; sessions made before keep their engine (a `software` session stays in software).
   *
   * @param policy The new policy.
   */
  setPolicy(policy: RoutePolicy): void {
    this.#stats.policy = policy;
  }

  /** The `fastest` thresholds in force (`routeKey` -> least source size on the accelerator). */
  get thresholds(): RouteThresholds {
    return this.#thresholds;
  }

  /**
   * Replaces the `fastest` thresholds; an algorithm without one stays accelerator-first.
   *
   * @param thresholds `routeKey` -> least source size the accelerator is used for.
   */
  setThresholds(thresholds: RouteThresholds): void {
    this.#thresholds = thresholds;
    this.#stats.thresholds = Object.fromEntries(
      [...thresholds].map(([k, n]) => [k, n === Infinity ? null : n]),
    );
  }

  /**
   * Measures the accelerator against software (`calibration.ts`) and takes the thresholds it finds. Requests
   * meanwhile are routed as before. Nothing of the run is counted in the router's stats.
   *
   * @param options Sizes, counts, clock.
   * @returns The results (none without an accelerator), for the log.
   */
  async calibrate(options: CalibrationOptions = {}): Promise<AlgorithmCalibration[]> {
    if (this.#accel === null) return [];
    const results = await calibrate(this.#accel, this.#software, options);
    this.setThresholds(thresholdsOf(results));
    return results;
  }

  /** The counters (live object). */
  get stats(): Readonly<RouterStats> {
    return this.#stats;
  }

  capabilities(): Capabilities {
    const soft = this.#software.capabilities();
    return this.#accel === null ? soft : mergeCapabilities(this.#accel.capabilities(), soft);
  }

  createSession(params: SessionParams): EngineSession {
    const accel = this.#accel;
    if (accel !== null && this.#stats.policy === "software") {
      return this.#softwareSession(params, "policy-software");
    }
    if (accel === null || !supports(accel.capabilities(), params)) {
      return this.#softwareSession(params, accel === null ? null : "not-advertised");
    }
    // The twin is made first: the device zeroes `params` keys after this call returns, and the accelerator may
    // not be asked for its key back.
    let twin: EngineSession | null = null;
    try {
      twin = this.#software.createSession(params);
    } catch (e) {
      if (!(e instanceof EngineError)) throw e; // no software fallback for this one: accelerator only
    }
    try {
      const inner = accel.createSession(params);
      this.#stats.accelSessions++;
      return new RoutedSession(this, params, inner, twin);
    } catch (e) {
      if (!(e instanceof EngineError) || twin === null) throw e;
      this.#stats.fallbacks[reasonOf(e)]++;
      return new RoutedSession(this, params, twin, null);
    }
  }

  #softwareSession(params: SessionParams, reason: FallbackReason | null): EngineSession {
    const inner = this.#software.createSession(params);
    if (reason !== null) this.#stats.fallbacks[reason]++;
    return new RoutedSession(this, params, inner, null);
  }

  closeSession(session: EngineSession): void {
    const s = session as RoutedSession;
    s.inner.engine.closeSession(s.inner);
    if (s.twin !== null) s.twin.engine.closeSession(s.twin);
  }

  submit(op: CryptoOp): number {
    const routed = op.session as RoutedSession | null;
    if (routed === null || routed.engine !== this) return this.#software.submit(op);
    const inner = routed.inner;
    if (inner.engine === this.#software) return this.#runSoftware(op, inner, routed);
    if (this.#softwareFaster(routed, op)) {
      this.#stats.fallbacks["software-faster"]++;
      return this.#runSoftware(op, routed.twin!, routed);
    }
    const complete = op.complete;
    this.#pending.set(op, { complete, session: routed });
    op.session = inner;
    op.complete = this.#onAccelComplete;
    const status = inner.engine.submit(op);
    if (status === PENDING) return PENDING;
    this.#pending.delete(op);
    op.complete = complete; // answered at once: the owner's callback must be there for the op's next use
    return this.#finishAccel(op, routed, status);
  }

  // `fastest`: a request smaller than its algorithm's threshold goes to the twin (when there is one).
  #softwareFaster(routed: RoutedSession, op: CryptoOp): boolean {
    if (this.#stats.policy !== "fastest" || routed.twin === null || routed.key === null) return false;
    const threshold = this.#thresholds.get(routed.key);
    return threshold !== undefined && op.src.total < threshold;
  }

  #runSoftware(op: CryptoOp, inner: EngineSession, routed: RoutedSession): number {
    op.session = inner;
    const status = this.#software.submit(op);
    op.session = routed;
    this.#stats.softwareRequests++;
    return status;
  }

  // Restores the device's view of the op, and re-runs it in software if the accelerator failed.
  #finishAccel(op: CryptoOp, routed: RoutedSession, status: number): number {
    op.session = routed;
    if (status !== ENGINE_FAILED) {
      this.#stats.accelRequests++;
      return status;
    }
    this.#stats.fallbacks.failed++;
    if (routed.twin === null) return 1; // Status.ERR: nothing can serve it
    return this.#runSoftware(op, routed.twin, routed);
  }

  #accelCompleted(op: CryptoOp, status: number): void {
    const p = this.#pending.get(op);
    if (p === undefined) return;
    this.#pending.delete(op);
    op.complete = p.complete;
    op.complete(op, this.#finishAccel(op, p.session, status));
  }

  /** Passes the guest memory table on to the accelerator (it maps guest RAM for DMA); software needs nothing. */
  setGuestMemory(regions: readonly DmaRegion[]): void {
    this.#accel?.setGuestMemory?.(regions);
  }

  close(): void {
    this.#accel?.close();
    this.#software.close();
  }
}

function reasonOf(e: EngineError): FallbackReason {
  switch (e.kind) {
    case "nospc":
      return "nospc";
    case "quota":
      return "quota";
    case "unavailable":
      return "unavailable";
    default:
      return "refused";
  }
}
