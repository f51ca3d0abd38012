// scripts/wake_cost.ts, which bench_report.ts runs first: a peer on another CPU answers every signal, asleep in
// epoll_wait or polling, and the figures are the medians of what was timed. No speed is asserted, only that each
// round was answered and measured (the round trip holds the signal), and that the caller's CPUs are given back.

import assert from "node:assert/strict";
import { measureWakeCost } from "../../scripts/wake_cost.ts";
import { threadAffinity } from "../../src/os/thread.ts";

Deno.test({
  name: "wake_cost: both ways of waiting answer every round; the caller's affinity is restored",
  ignore: navigator.hardwareConcurrency < 2,
  fn: async () => {
    const before = threadAffinity();
    const cost = await measureWakeCost({ cpuSelf: 1, cpuPeer: 0, rounds: 50 });
    assert.deepEqual(threadAffinity(), before);
    assert.deepEqual([cost.cpuSelf, cost.cpuPeer, cost.rounds], [1, 0, 50]);
    for (const w of [cost.sleeping, cost.polling]) {
      assert.ok(Number.isFinite(w.signalUs) && w.signalUs > 0, JSON.stringify(cost));
      assert.ok(w.roundTripUs >= w.signalUs, JSON.stringify(cost));
    }
  },
});
