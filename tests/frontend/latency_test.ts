import assert from "node:assert/strict";
import { LatencyHistogram } from "../../src/frontend/latency.ts";

Deno.test("LatencyHistogram.percentile() is exact for small values", () => {
  const h = new LatencyHistogram();
  for (let v = 1; v <= 100; v++) h.record(v);
  assert.equal(h.count, 100);
  assert.equal(h.percentile(50), 50);
  assert.equal(h.percentile(99), 99);
  assert.equal(h.percentile(100), 100);
  assert.equal(h.percentile(0), 1);
});

Deno.test("LatencyHistogram.percentile() is within 1/64 of the true value for large values", () => {
  const h = new LatencyHistogram();
  // 1 µs .. 10 ms, uniformly
  for (let i = 1; i <= 10_000; i++) h.record(i * 1000);
  for (const [p, truth] of [[50, 5_000_000], [90, 9_000_000], [99, 9_900_000], [99.9, 9_990_000]]) {
    const got = h.percentile(p!);
    assert.ok(Math.abs(got - truth!) <= truth! / 64, `p${p}: ${got} vs ${truth}`);
  }
  assert.equal(h.max, 10_000_000);
  assert.equal(h.min, 1000);
});

Deno.test("LatencyHistogram.percentile() follows a skewed distribution (p99 in the tail)", () => {
  const h = new LatencyHistogram();
  for (let i = 0; i < 990; i++) h.record(50_000); // 50 µs
  for (let i = 0; i < 10; i++) h.record(5_000_000); // 5 ms
  assert.ok(Math.abs(h.percentile(50) - 50_000) <= 50_000 / 64);
  assert.ok(Math.abs(h.percentile(99) - 50_000) <= 50_000 / 64);
  assert.ok(Math.abs(h.percentile(99.5) - 5_000_000) <= 5_000_000 / 64);
});

Deno.test("LatencyHistogram.record() clamps negative values and keeps max exact beyond 2^31 ns", () => {
  const h = new LatencyHistogram();
  h.record(-5);
  h.record(3e9);
  assert.equal(h.min, 0);
  assert.equal(h.max, 3e9);
  assert.equal(h.percentile(100), 3e9);
});

Deno.test("LatencyHistogram.summary() reports microseconds, NaN when empty", () => {
  const h = new LatencyHistogram();
  assert.ok(Number.isNaN(h.summary().p50Us));
  for (let i = 0; i < 4; i++) h.record(2000);
  const s = h.summary();
  assert.equal(s.count, 4);
  assert.equal(s.meanUs, 2);
  assert.ok(Math.abs(s.p99Us - 2) <= 2 / 64);
});

Deno.test("LatencyHistogram.merge() and reset()", () => {
  const a = new LatencyHistogram();
  const b = new LatencyHistogram();
  a.record(10);
  b.record(1_000_000);
  a.merge(b);
  assert.equal(a.count, 2);
  assert.equal(a.max, 1_000_000);
  a.reset();
  assert.equal(a.count, 0);
  assert.ok(Number.isNaN(a.percentile(50)));
});

Deno.test("LatencyHistogram.percentile() rejects p outside 0..100", () => {
  assert.throws(() => new LatencyHistogram().percentile(101), RangeError);
});
