/**
 * `MeteredEngine`: the engine a VM's device submits to, counting what the metrics endpoint shows (docs/operations.md,
 * "Metrics"): requests and output bytes by service, algorithm, path and status, sessions open by path, and a latency
 * histogram (from taking a request off the ring to its completion, synchronous or not). It passes sessions and
 * operations through untouched: the engine below (the router, or software alone) sees the device's own objects.
 *
 * Labels are computed once per session (at creation), and each label keeps its rows by status, so a request
 * costs one identity-map lookup (the session's, mostly answered by the last-session cache) and at most one clock
 * read (`monotonicMs`, half the cost of `performance.now()`), and allocates nothing once its session has been seen
 * (design.md's performance rules: the profile of `serve --poll` at 64 B showed the per-request row key string, the
 * pending record, and the second clock read).
 *
 * Latency is the time from taking a request off the ring to its completion, as the metric's help says: the queue
 * calls `beginBatch()` after the first pop of a batch, which reads the clock, each later reading starts the next
 * request (its pop and parse included), and `endBatch()` closes the batch before the queue goes idle. Small
 * synchronous requests are timed in groups of up to `TIMING_GROUP`: one reading closes the group, and each of its
 * requests is observed at the group's mean. A reading per request was 4% of `serve --poll` at 64 B (`perf`), for
 * requests that all fall in the histogram's first bucket (5 µs) anyway. Count and sum stay exact; what a group
 * hides is how a stall inside it was spread. A request of more than `TIMING_GROUP_BYTES` is timed alone, so a
 * large request never lends its time to small ones. An asynchronous submission reads the clock when the engine
 * takes it, for the request after it, and its completion reads it again.
 *
 * @module
 */

import type { Capabilities, CryptoEngine, CryptoOp, EngineSession, SessionParams } from "../engine/engine.ts";
import { PENDING } from "../engine/engine.ts";
import { LatencyHistogram } from "../metrics/snapshot.ts";
import { monotonicMs } from "../os/mod.ts";
import type { HistogramSnapshot, RequestCount, ServedPath } from "../metrics/snapshot.ts";

const STATUS_NAMES = ["ok", "err", "badmsg", "notsupp", "invsess", "nospc", "key_rejected"];
/** Most small synchronous requests one clock reading times together (see the module doc). */
export const TIMING_GROUP = 4;
/** Requests with more input than this are timed alone (at 1 KiB the engine alone takes about 0.7 µs here). */
export const TIMING_GROUP_BYTES = 1024;

/** What a VM's meter shows (JSON: it crosses from the VM's thread in its snapshot). */
export interface MeterSnapshot {
  /** Completed requests by service, algorithm, path and status. */
  readonly requests: readonly RequestCount[];
  /** Sessions open now, by path. */
  readonly sessions: { readonly accelerator: number; readonly software: number };
  /** Time from taking each request off the ring to its completion. */
  readonly latency: HistogramSnapshot;
}

interface Label {
  readonly service: string;
  readonly algorithm: string;
  readonly path: ServedPath;
}

/** A session's label and its rows, indexed by status code. */
interface SessionMeter {
  readonly label: Label;
  readonly rows: (Row | undefined)[];
}

/** What an operation in flight needs back at completion; one per operation object, reused. */
interface Pending {
  complete: CryptoOp["complete"];
  t0: number;
  active: boolean;
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
  readonly #meters = new WeakMap<EngineSession, SessionMeter>();
  // The last session counted and its meter: a queue's requests mostly run on one session, and a WeakMap look-up
  // per request shows in the profile. Cleared when that session closes.
  #lastSession: EngineSession | null = null;
  #lastMeter: SessionMeter | undefined = undefined;
  readonly #rows = new Map<string, Row>();
  // Keyed by the device's operation objects, which it reuses per request slot: bounded by the queue sizes.
  readonly #pending = new WeakMap<CryptoOp, Pending>();
  readonly #latency = new LatencyHistogram();
  readonly #open = { accelerator: 0, software: 0 };
  readonly #onComplete = (op: CryptoOp, status: number): void => this.#completed(op, status);
  /**
   * When the next request started (`monotonicMs`): the batch's start or the last reading; -1 outside a batch
   * (between `endBatch()` and `beginBatch()`), where nothing is grouped.
   */
  #mark = -1;
  /** Synchronous requests completed since `#mark` whose latency waits for their group's reading (rows are counted). */
  #grouped = 0;

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
    this.#meters.set(session, { label, rows: [] });
    this.#open[label.path]++;
    return session;
  }

  closeSession(session: EngineSession): void {
    const meter = this.#meters.get(session);
    if (meter !== undefined) {
      this.#open[meter.label.path]--;
      this.#meters.delete(session);
    }
    if (this.#lastSession === session) {
      this.#lastSession = null;
      this.#lastMeter = undefined;
    }
    this.#inner.closeSession(session);
  }

  beginBatch(): void {
    this.#closeGroup(); // a caller that skipped endBatch(): its last group is closed now, idle time and all
    this.#mark = monotonicMs();
  }

  endBatch(): void {
    this.#closeGroup();
    this.#mark = -1;
  }

  submit(op: CryptoOp): number {
    const inBatch = this.#mark >= 0;
    const alone = !inBatch || op.src.total > TIMING_GROUP_BYTES;
    if (alone) this.#closeGroup();
    const t0 = inBatch ? this.#mark : monotonicMs();
    const complete = op.complete;
    op.complete = this.#onComplete;
    const status = this.#inner.submit(op);
    if (status === PENDING) {
      // The engine completes later (never inside submit), so the record can be made now; off the software path.
      // Requests grouped before it are closed first, so its own time starts after theirs; that reading also starts
      // the next request.
      if (this.#grouped > 0) {
        this.#pendingOf(op, complete, this.#closeGroup());
        return PENDING;
      }
      this.#pendingOf(op, complete, t0);
      this.#mark = inBatch ? monotonicMs() : -1;
      return PENDING;
    }
    op.complete = complete;
    this.#countRow(op, status);
    if (alone) {
      const t1 = monotonicMs();
      this.#latency.observe((t1 - t0) / 1000);
      this.#mark = inBatch ? t1 : -1;
    } else if (++this.#grouped === TIMING_GROUP) {
      this.#closeGroup();
    }
    return status;
  }

  // Observes the grouped requests at their mean, from one reading that starts the next request; returns it.
  #closeGroup(): number {
    const n = this.#grouped;
    if (n === 0) return this.#mark;
    const t = monotonicMs();
    const each = (t - this.#mark) / n / 1000;
    for (let i = 0; i < n; i++) this.#latency.observe(each);
    this.#grouped = 0;
    this.#mark = t;
    return t;
  }

  #pendingOf(op: CryptoOp, complete: CryptoOp["complete"], t0: number): void {
    const p = this.#pending.get(op);
    if (p === undefined) {
      this.#pending.set(op, { complete, t0, active: true });
      return;
    }
    p.complete = complete;
    p.t0 = t0;
    p.active = true;
  }

  #completed(op: CryptoOp, status: number): void {
    const p = this.#pending.get(op);
    if (p === undefined || !p.active) return;
    p.active = false;
    op.complete = p.complete;
    this.#latency.observe((monotonicMs() - p.t0) / 1000);
    this.#countRow(op, status);
    op.complete(op, status);
  }

  #countRow(op: CryptoOp, status: number): void {
    const meter = this.#meterOf(op.session);
    if (meter === undefined) return; // a stateless request: no session, counted by the device only
    const row = meter.rows[status] ?? this.#newRow(meter, status);
    row.requests++;
    if (status === 0) row.bytes += op.dst.total + op.digest.total; // what the device writes back
  }

  #meterOf(session: EngineSession | null): SessionMeter | undefined {
    if (session === null) return undefined;
    if (session === this.#lastSession) return this.#lastMeter;
    const meter = this.#meters.get(session);
    this.#lastSession = session;
    this.#lastMeter = meter;
    return meter;
  }

  // Sessions with the same label share their rows: the snapshot shows one row per label and status.
  #newRow(meter: SessionMeter, status: number): Row {
    const statusName = STATUS_NAMES[status] ?? `status-${status}`;
    const { label } = meter;
    const key = `${label.service}\0${label.algorithm}\0${label.path}\0${statusName}`;
    let row = this.#rows.get(key);
    if (row === undefined) this.#rows.set(key, row = { label, status: statusName, requests: 0, bytes: 0 });
    meter.rows[status] = row;
    return row;
  }

  setGuestMemory(regions: Parameters<NonNullable<CryptoEngine["setGuestMemory"]>>[0]): void {
    this.#inner.setGuestMemory?.(regions);
  }

  /** The counters, as JSON (a group still open shows after `endBatch()`). */
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
