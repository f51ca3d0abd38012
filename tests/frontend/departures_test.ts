/**
 * `DepartureLog` and `describeDeparture`: counts per kind, the first example kept, the report in kind order.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DEPARTURE_KINDS, DEPARTURE_RULES, DepartureLog, describeDeparture } from "../../src/frontend/mod.ts";

Deno.test("DepartureLog counts each kind and keeps its first example", () => {
  const log = new DepartureLog();
  assert.equal(log.total, 0);
  assert.deepEqual(log.list(), []);
  log.record("used-len", { request: 3, head: 3, usedIndex: 3, expected: 65, seen: 0 });
  log.record("used-len", { request: 4, head: 4, usedIndex: 4, expected: 65, seen: 1 });
  log.record("never-completed", { expected: "every request completed", seen: "8 in flight" }, 8);
  assert.equal(log.count("used-len"), 2);
  assert.equal(log.count("never-completed"), 8);
  assert.equal(log.count("used-entry-stale"), 0);
  assert.equal(log.total, 10);
  const [len, never] = log.list();
  assert.equal(len!.kind, "used-len");
  assert.deepEqual(len!.first, { request: 3, head: 3, usedIndex: 3, expected: 65, seen: 0 });
  assert.equal(len!.rule, DEPARTURE_RULES["used-len"]);
  assert.equal(never!.kind, "never-completed");
  assert.equal(never!.count, 8);
});

Deno.test("DepartureLog.list() follows DEPARTURE_KINDS order, whatever the order of recording", () => {
  const log = new DepartureLog();
  for (const kind of [...DEPARTURE_KINDS].reverse()) log.record(kind, { expected: 1, seen: 2 });
  assert.deepEqual(log.list().map((d) => d.kind), [...DEPARTURE_KINDS]);
  for (const kind of DEPARTURE_KINDS) assert.match(DEPARTURE_RULES[kind], /^virtio 1\.2 \d/);
});

Deno.test("describeDeparture() names the kind, the count and where the first one was", () => {
  const log = new DepartureLog();
  log.record("used-len", { request: 7, head: 5, usedIndex: 7, expected: 65, seen: 0 });
  log.record("used-len", { request: 8, head: 6, usedIndex: 8, expected: 65, seen: 0 });
  log.record("notified-while-suppressed", { expected: "none", seen: "3 call signals" }, 3);
  const [len, calls] = log.list().map(describeDeparture);
  assert.equal(len, "used-len ×2 (first: request 7, head 5, used index 7: expected 65, seen 0)");
  assert.equal(calls, "notified-while-suppressed ×3 (first: expected none, seen 3 call signals)");
});
