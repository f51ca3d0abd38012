/**
 * `RouterEngine`: the accelerator first, software for the rest, decided per session (design.md decision 5).
 *
 * - A session whose algorithm the accelerator does not advertise is created in software ("not-advertised").
 * - One the accelerator refuses although it advertised it ("refused"), or cannot hold ("nospc"), or cannot create
 *   because it failed ("unavailable"), is created in software too.
 * - Accelerator sessions get a software twin (same parameters, its own OpenSSL context), so a request the
 *   accelerator fails at run time (`ENGINE_FAILED`) is re-run in software and the guest sees success ("failed").
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

/** Why a session or request went to software. */
export type FallbackReason = "not-advertised" | "refused" | "nospc" | "quota" | "unavailable" | "failed";

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
}

/** A session as the device sees it: where it runs, and its software twin for re-runs. */
class RoutedSession implements EngineSession {
  readonly params: SessionParams;
  readonly engine: RouterEngine;
  readonly inner: EngineSession;
  readonly twin: EngineSession | null;

  constructor(engine: RouterEngine, params: SessionParams, inner: EngineSession, twin: EngineSession | null) {
    this.engine = engine;
    this.params = params;
    this.inner = inner;
    this.twin = twin;
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
    fallbacks: { "not-advertised": 0, refused: 0, nospc: 0, quota: 0, unavailable: 0, failed: 0 },
  };
  // The device's completion callback and routed session of each operation submitted asynchronously.
  readonly #pending = new Map<CryptoOp, { complete: CryptoOp["complete"]; session: RoutedSession }>();
  readonly #onAccelComplete = (op: CryptoOp, status: number): void => this.#accelCompleted(op, status);

  /**
   * @param accel The accelerator engine, or null (software only).
   * @param software The software engine.
   */
  constructor(accel: CryptoEngine | null, software: CryptoEngine) {
    this.#accel = accel;
    this.#software = software;
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
