/**
 * The cross-thread pieces on their own: the shared-memory mailbox (wrapping, a full mailbox), the single-producer
 * ring, and synchronous calls (a fault crosses back with its kind, a call nobody answers times out, keys are zeroed
 * in shared memory) with a real Worker as the caller.
 */

import assert from "node:assert/strict";
import {
  createCallBuffer,
  Mailbox,
  SpscRing,
  SyncCallee,
  SyncCaller,
  SyncCallError,
} from "../../src/threads/mod.ts";

Deno.test("Mailbox keeps JSON messages in order across the ring's end, and refuses one that cannot fit now", () => {
  const box = Mailbox.create(64);
  const other = Mailbox.attach(box.buffer);
  for (let round = 0; round < 20; round++) {
    assert.ok(box.post({ round, text: "x".repeat(round % 7) }));
    assert.deepEqual(other.take(), { round, text: "x".repeat(round % 7) });
  }
  assert.equal(other.take(), undefined);
  assert.ok(box.post("a".repeat(30)));
  assert.equal(box.post("b".repeat(30)), false, "no room until the consumer takes the first");
  assert.equal(other.take(), "a".repeat(30));
  assert.throws(() => box.post("c".repeat(100)), /holds 64/);
});

Deno.test("SpscRing is first in, first out, says full and empty, and wraps", () => {
  const buffer = SpscRing.create(4);
  const p = SpscRing.attach(buffer);
  const c = SpscRing.attach(buffer);
  assert.equal(c.pop(), -1);
  for (let i = 0; i < 1000; i += 4) {
    for (let k = 0; k < 4; k++) assert.ok(p.push(i + k));
    assert.equal(p.push(99), false);
    assert.equal(c.size, 4);
    for (let k = 0; k < 4; k++) assert.equal(c.pop(), i + k);
  }
  assert.equal(c.pop(), -1);
});

Deno.test("SyncCaller blocks a Worker until the main thread answers; faults keep their kind; silence times out", async () => {
  const buffer = createCallBuffer(4096);
  const callee = new SyncCallee(buffer);
  const keys: Uint8Array[] = [];
  const worker = new Worker(new URL("../_fixtures/sync_caller_worker.ts", import.meta.url).href, {
    type: "module",
  });
  const result = new Promise<{ ok?: unknown; error?: string; kind?: string | null }[]>((resolve) => {
    worker.onmessage = (e) => {
      if (e.data.out !== undefined) return resolve(e.data.out);
      callee.serve((call) => {
        keys.push(call.blobs[0]!.slice());
        if (call.method === "double") return (call.params as { n: number }).n * 2;
        if (call.method === "refuse") {
          throw Object.assign(new Error("full"), { name: "EngineError", kind: "nospc" });
        }
        return undefined;
      });
    };
  });
  worker.postMessage({ buffer, calls: [["double", 2000], ["refuse", 2000]] });
  const out = await result;
  worker.terminate();
  assert.deepEqual(out, [{ ok: 4 }, { error: "refuse failed: full", kind: "nospc" }]);
  assert.deepEqual(keys.map((k) => [...k]), [[7, 7, 7], [7, 7, 7]]);
  assert.ok(
    new Uint8Array(buffer).every((b, i) => i < 16 || i >= 16 + 2048 || b === 0),
    "request area zeroed",
  );
});

Deno.test("SyncCaller gives up when nobody answers", () => {
  const caller = new SyncCaller(createCallBuffer(1024), () => {});
  assert.throws(
    () => caller.call("x", null, [], 20),
    (e: unknown) => e instanceof SyncCallError && e.fault === null,
  );
  assert.throws(
    () => caller.call("y", null, [], 20),
    /no answer/,
    "the channel is usable again after a timeout",
  );
});
