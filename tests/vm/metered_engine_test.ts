/**
 * `MeteredEngine`: counts by label and status, synchronous and asynchronous completions alike, with the per-label
 * rows cached per session (the hot path allocates nothing) and operation objects reused across requests.
 *
 * @module
 */

import assert from "node:assert/strict";
import { CipherAlgo, Status } from "../../src/spec/virtio_crypto.ts";
import {
  type Capabilities,
  type CryptoEngine,
  CryptoOp,
  type EngineSession,
  PENDING,
  type SessionParams,
} from "../../src/engine/mod.ts";
import { SoftwareEngine } from "../../src/engine/software/mod.ts";
import { MeteredEngine, TIMING_GROUP_BYTES } from "../../src/vm/metered_engine.ts";

/** Answers each submit with the next scripted status; `PENDING` ops are held until `finish`. */
class ScriptedEngine implements CryptoEngine {
  readonly name = "scripted";
  readonly held: CryptoOp[] = [];
  readonly #caps = new SoftwareEngine().capabilities();
  statuses: number[] = [];

  capabilities(): Capabilities {
    return this.#caps;
  }
  createSession(params: SessionParams): EngineSession {
    return { params, engine: this } as EngineSession;
  }
  closeSession(): void {}
  submit(op: CryptoOp): number {
    const status = this.statuses.shift() ?? Status.OK;
    if (status === PENDING) this.held.push(op);
    return status;
  }
  finish(status: number): void {
    const op = this.held.shift()!;
    op.complete(op, status);
  }
  close(): void {}
}

const AES_CBC: SessionParams = {
  service: "cipher",
  algo: CipherAlgo.AES_CBC,
  op: 1,
  key: new Uint8Array(16),
} as unknown as SessionParams;

function observed(meter: MeteredEngine): number {
  return meter.snapshot().latency.counts.reduce((a, b) => a + b, 0);
}

function opFor(session: EngineSession): CryptoOp {
  const op = new CryptoOp(4);
  op.session = session;
  return op;
}

Deno.test("MeteredEngine counts synchronous statuses per label, one row per status", () => {
  const inner = new ScriptedEngine();
  const meter = new MeteredEngine(inner);
  const op = opFor(meter.createSession(AES_CBC));
  inner.statuses = [Status.OK, Status.OK, Status.BADMSG];
  for (let i = 0; i < 3; i++) meter.submit(op);
  const rows = meter.snapshot().requests;
  assert.deepEqual(
    rows.map((r) => [r.algorithm, r.path, r.status, r.requests]).sort(),
    [["AES-CBC", "software", "badmsg", 1], ["AES-CBC", "software", "ok", 2]],
  );
  assert.equal(observed(meter), 3);
});

Deno.test("MeteredEngine: sessions with the same label share a row; closing counts sessions down", () => {
  const inner = new ScriptedEngine();
  const meter = new MeteredEngine(inner);
  const a = meter.createSession(AES_CBC);
  const b = meter.createSession(AES_CBC);
  assert.equal(meter.snapshot().sessions.software, 2);
  meter.submit(opFor(a));
  meter.submit(opFor(b));
  const rows = meter.snapshot().requests;
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.requests, 2);
  meter.closeSession(a);
  meter.closeSession(a); // twice is harmless
  assert.equal(meter.snapshot().sessions.software, 1);
});

Deno.test("MeteredEngine: an asynchronous completion reaches the owner once, with its own callback restored", () => {
  const inner = new ScriptedEngine();
  const meter = new MeteredEngine(inner);
  const op = opFor(meter.createSession(AES_CBC));
  const seen: number[] = [];
  const owner = (_: CryptoOp, status: number): void => void seen.push(status);
  op.complete = owner;
  inner.statuses = [PENDING, PENDING];
  assert.equal(meter.submit(op), PENDING);
  inner.finish(Status.OK);
  assert.equal(op.complete, owner);
  // The same operation object reused for the next request, completed with an error.
  op.complete = owner;
  assert.equal(meter.submit(op), PENDING);
  const meterCallback = op.complete; // what the engine below calls
  inner.finish(Status.ERR);
  meterCallback(op, Status.OK); // a second completion of a finished request: ignored by the meter
  assert.deepEqual(seen, [Status.OK, Status.ERR]);
  const byStatus = Object.fromEntries(meter.snapshot().requests.map((r) => [r.status, r.requests]));
  assert.deepEqual(byStatus, { ok: 1, err: 1 });
});

Deno.test("MeteredEngine: a stateless request (no session) is timed but not counted in a row", () => {
  const meter = new MeteredEngine(new ScriptedEngine());
  meter.submit(new CryptoOp(4));
  assert.equal(meter.snapshot().requests.length, 0);
  assert.equal(observed(meter), 1);
});

Deno.test("MeteredEngine: requests alternating between sessions, and after one closes, count on their own labels", () => {
  const inner = new ScriptedEngine();
  let created = 0;
  // The first session is on the accelerator, the others in software: two labels for the same algorithm.
  const meter = new MeteredEngine(inner, () => created++ === 0 ? "accelerator" : "software");
  const a = meter.createSession(AES_CBC);
  const b = meter.createSession(AES_CBC);
  inner.statuses = new Array(5).fill(Status.OK);
  const [opA, opB] = [opFor(a), opFor(b)];
  for (const op of [opA, opB, opA]) meter.submit(op); // the last-session cache switches both ways
  meter.closeSession(a);
  meter.submit(opFor(meter.createSession(AES_CBC)));
  meter.submit(opB);
  const rows = meter.snapshot().requests.map((r) => [r.path, r.requests]).sort();
  assert.deepEqual(rows, [["accelerator", 2], ["software", 3]]);
  assert.equal(observed(meter), 5);
});

/** Spins for `ms` (a request's work, or the queue's idle time between batches). */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* busy */ }
}

Deno.test("MeteredEngine: each request is timed from the batch's start or the previous completion, not the idle time", () => {
  // The inner engine takes 20 ms per request; between the two batches the queue is idle for 60 ms.
  const inner = new (class extends ScriptedEngine {
    override submit(op: CryptoOp): number {
      spin(20);
      return super.submit(op);
    }
  })();
  const meter = new MeteredEngine(inner);
  const op = opFor(meter.createSession(AES_CBC));
  meter.beginBatch();
  meter.submit(op);
  meter.submit(op);
  meter.endBatch();
  spin(60);
  meter.beginBatch();
  meter.submit(op);
  meter.endBatch();
  const { sum, counts, bounds } = meter.snapshot().latency;
  assert.equal(counts.reduce((a, b) => a + b, 0), 3);
  // Three requests of at least 20 ms each; had the idle time counted, the sum would be at least 120 ms.
  assert.ok(sum >= 0.06 && sum < 0.11, `latency sum ${sum} s`);
  const above50ms = counts.filter((_, i) => i > 0 && bounds[i - 1]! >= 0.05).reduce((a, b) => a + b, 0);
  assert.equal(above50ms, 0);
});

/** An operation whose source is `bytes` long (what the meter sizes a request by). */
function sizedOp(session: EngineSession, bytes: number): CryptoOp {
  const op = opFor(session);
  op.src.push({ bytes: new Uint8Array(bytes), address: 0n }, 0, bytes);
  return op;
}

Deno.test("MeteredEngine: small requests are timed in groups (count and sum exact), a large one alone", () => {
  // Small requests take 2 ms each, a request above TIMING_GROUP_BYTES 20 ms; one batch of three small, one large,
  // three small. Had the large one been grouped with small ones, no observation would reach 10 ms.
  const inner = new (class extends ScriptedEngine {
    override submit(op: CryptoOp): number {
      spin(op.src.total > TIMING_GROUP_BYTES ? 20 : 2);
      return super.submit(op);
    }
  })();
  const meter = new MeteredEngine(inner);
  const session = meter.createSession(AES_CBC);
  const small = sizedOp(session, 64);
  const large = sizedOp(session, TIMING_GROUP_BYTES + 1);
  meter.beginBatch();
  for (const op of [small, small, small, large, small, small, small]) meter.submit(op);
  assert.ok(observed(meter) < 7, "the open group is observed at endBatch()");
  meter.endBatch();
  const { sum, counts, bounds } = meter.snapshot().latency;
  assert.equal(observed(meter), 7);
  assert.ok(sum >= 0.032 && sum < 0.08, `latency sum ${sum} s`);
  const above10ms = counts.filter((_, i) => i > 0 && bounds[i - 1]! >= 0.01).reduce((a, b) => a + b, 0);
  assert.equal(above10ms, 1);
  assert.equal(meter.snapshot().requests[0]!.requests, 7, "rows are counted at once, grouped or not");
});

Deno.test("MeteredEngine: outside a batch every request is timed on its own", () => {
  const meter = new MeteredEngine(new ScriptedEngine());
  const op = opFor(meter.createSession(AES_CBC));
  for (let i = 0; i < 3; i++) {
    meter.submit(op);
    assert.equal(observed(meter), i + 1);
  }
});
