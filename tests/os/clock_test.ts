// monotonicMs (src/os/clock.ts) reads CLOCK_MONOTONIC through glibc for the data path's per-request timing: it must
// never go backwards and must measure an interval as performance.now() does (its origin differs).

import assert from "node:assert/strict";
import { monotonicMs } from "../../src/os/mod.ts";

Deno.test("monotonicMs never goes backwards and measures a wait as performance.now() does", async () => {
  let last = monotonicMs();
  for (let i = 0; i < 10_000; i++) {
    const now = monotonicMs();
    assert.ok(now >= last, `went back from ${last} to ${now}`);
    last = now;
  }
  const m0 = monotonicMs();
  const p0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 30));
  const waited = monotonicMs() - m0;
  const seen = performance.now() - p0;
  assert.ok(waited >= 25, `a 30 ms timer measured ${waited} ms`);
  // The two pairs of reads are not simultaneous: only a gross mismatch (a wrong unit or field) is an error.
  assert.ok(Math.abs(waited - seen) < 20, `monotonicMs ${waited} ms against performance.now ${seen} ms`);
});
