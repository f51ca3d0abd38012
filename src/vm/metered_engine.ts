/**
 * `MeteredEngine`: the engine a VM's device submits to, counting what the metrics endpoint shows (docs/operations.md,
 * "Metrics"): requests and output bytes by service, algorithm, path and status, sessions open by path, and a latency
 * histogram (submit to completion, synchronous or not). It passes sessions and operations through untouched: the
 * engine below (the router, or software alone) sees the device's own objects.
 *
 * Labels are computed once per session (at creation), so a request costs two clock reads and one map update.
 *
 * @module
 */

import type { Capabilities, CryptoEngine, CryptoOp, EngineSession, SessionParams } from "../engine/engine.ts";
import { PENDING } from "../engine/engine.ts";
import { LatencyHistogram } from "../metrics/snapshot.ts";
import type { HistogramSnapshot, RequestCount, ServedPath } from "../metrics/snapshot.ts";

const STATUS_NAMES = ["ok", "err", "badmsg", "notsupp", "invsess", "nospc", "key_rejected"];

/** What a VM's meter shows (JSON: it crosses from the VM's thread in its snapshot). */
export interface MeterSnapshot {
  /** Completed requests by service, algorithm, path and status. */
  readonly requests: readonly RequestCount[];
  /** Sessions open now, by path. */
  readonly sessions: { readonly accelerator: number; readonly software: number };
  /** Submit-to-completion time of each request. */
  readonly latency: HistogramSnapshot;
}

interface Label {
  readonly service: string;
  readonly algorithm: string;
  readonly path: ServedPath;
}

interface Row {
  readonly label: Label;
  readonly status: string;
  requests: number;
  bytes: number;
}

/** The engine of one VM's device, metered. */
export class MeteredEngine implements CryptoEngine {
  readonly name: string;
  readonly #inner: CryptoEngine;
  readonly #pathOf: (session: EngineSession) => ServedPath;
  readonly #labels = new WeakMap<EngineSession, Label>();
  readonly #rows = new Map<string, Row>();
  readonly #pending = new Map<CryptoOp, { complete: CryptoOp["complete"]; t0: number }>();
  readonly #latency = new LatencyHistogram();
  readonly #open = { accelerator: 0, software: 0 };
  readonly #onComplete = (op: CryptoOp, status: number): void => this.#completed(op, status);

  /**
   * @param inner The engine that does the work.
   * @param pathOf Which path a new session of `inner` runs on (default: software).
   */
  constructor(inner: CryptoEngine, pathOf: (session: EngineSession) => ServedPath = () => "software") {
    this.#inner = inner;
    this.#pathOf = pathOf;
    this.name = inner.name;
  }

  capabilities(): Capabilities {
    return this.#inner.capabilities();
  }

  createSession(params: SessionParams): EngineSession {
    const session = this.#inner.createSession(params);
    const label = {
      service: params.service,
      algorithm: algorithmName(this.capabilities(), params),
      path: this.#pathOf(session),
    };
    this.#labels.set(session, label);
    this.#open[label.path]++;
    return session;
  }

  closeSession(session: EngineSession): void {
    const label = this.#labels.get(session);
    if (label !== undefined) {
      this.#open[label.path]--;
      this.#labels.delete(session);
    }
    this.#inner.closeSession(session);
  }

  submit(op: CryptoOp): number {
    const t0 = performance.now();
    const complete = op.complete;
    this.#pending.set(op, { complete, t0 });
    op.complete = this.#onComplete;
    const status = this.#inner.submit(op);
    if (status === PENDING) return PENDING;
    this.#pending.delete(op);
    op.complete = complete;
    this.#count(op, status, t0);
    return status;
  }

  #completed(op: CryptoOp, status: number): void {
    const p = this.#pending.get(op);
    if (p === undefined) return;
    this.#pending.delete(op);
    op.complete = p.complete;
    this.#count(op, status, p.t0);
    op.complete(op, status);
  }

  #count(op: CryptoOp, status: number, t0: number): void {
    this.#latency.observe((performance.now() - t0) / 1000);
    const label = op.session === null ? undefined : this.#labels.get(op.session);
    if (label === undefined) return; // a stateless request: no session, counted by the device only
    const statusName = STATUS_NAMES[status] ?? `status-${status}`;
    const key = `${label.service}\0${label.algorithm}\0${label.path}\0${statusName}`;
    let row = this.#rows.get(key);
    if (row === undefined) this.#rows.set(key, row = { label, status: statusName, requests: 0, bytes: 0 });
    row.requests++;
    if (status === 0) row.bytes += op.dst.total + op.digest.total; // what the device writes back
  }

  setGuestMemory(regions: Parameters<NonNullable<CryptoEngine["setGuestMemory"]>>[0]): void {
    this.#inner.setGuestMemory?.(regions);
  }

  /** The counters, as JSON. */
  snapshot(): MeterSnapshot {
    return {
      requests: [...this.#rows.values()].map((r) => ({
        ...r.label,
        status: r.status,
        requests: r.requests,
        bytes: r.bytes,
      })),
      sessions: { ...this.#open },
      latency: this.#latency.snapshot(),
    };
  }

  close(): void {
    this.#inner.close();
  }
}

/**
 * The readable name of a session's algorithm, as the engines' tables give it (`AES-CBC`, `HMAC-SHA256`; a chain is
 * `AES-CBC+HMAC-SHA256`).
 *
 * @param caps The engine's capabilities.
 * @param params The session's parameters.
 * @returns The name, or `<service>-<id>` for an id the tables do not hold.
 */
export function algorithmName(caps: Capabilities, params: SessionParams): string {
  switch (params.service) {
    case "chain": {
      const cipher = caps.cipher.get(params.cipher.algo)?.name ?? `cipher-${params.cipher.algo}`;
      const table = params.auth.hashMode === 1 ? caps.hash : caps.mac;
      return `${cipher}+${table.get(params.auth.algo)?.name ?? `auth-${params.auth.algo}`}`;
    }
    default:
      return caps[params.service].get(params.algo)?.name ?? `${params.service}-${params.algo}`;
  }
}
