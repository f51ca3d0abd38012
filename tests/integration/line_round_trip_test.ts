// scripts/line_round_trip.ts, which bench_report.ts runs before and after its cases: a peer thread on the other CPU
// answers every value stored in a shared word. No speed is asserted, only that every round trip was answered (the
// peer's own count), that the figure is a real duration, and that the caller's CPUs are given back.

import assert from "node:assert/strict";
import { formatLineRoundTrip, measureLineRoundTrip } from "../../scripts/line_round_trip.ts";
import { threadAffinity } from "../../src/os/thread.ts";

Deno.test({
  name: "line_round_trip: the peer answers every round trip; the caller's affinity is restored",
  ignore: navigator.hardwareConcurrency < 2,
  fn: async () => {
    const before = threadAffinity();
    const r = await measureLineRoundTrip({ cpuSelf: 1, cpuPeer: 0, rounds: 5000 });
    assert.deepEqual(threadAffinity(), before);
    assert.deepEqual([r.cpuSelf, r.cpuPeer, r.rounds, r.answered], [1, 0, 5000, 5000]);
    assert.ok(Number.isFinite(r.ns) && r.ns > 0, JSON.stringify(r));
    assert.match(formatLineRoundTrip("now", r), /^cache-line round trip CPU 1 <-> CPU 0 now: [\d.]+ ns/);
  },
});
