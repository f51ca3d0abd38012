/**
 * The departure lines under `bench`'s table and the summary of its JSON report.
 *
 * @module
 */

import assert from "node:assert/strict";
import { formatDepartures, formatTable, summarizeDepartures } from "../../src/cli/bench_output.ts";
import type { BenchCaseResult } from "../../src/cli/bench_run.ts";

const figures = {
  requests: 10,
  seconds: 1,
  opsPerSec: 10,
  bytesPerSec: 640,
  latencyUs: { minUs: 1, meanUs: 2, p50Us: 2, p90Us: 3, p99Us: 4, p999Us: 5, maxUs: 6 },
  verified: 4,
};

const clean: BenchCaseResult = {
  algorithm: "aes-128-cbc",
  size: 64,
  status: "ok",
  ...figures,
  departures: [],
};

const stalled: BenchCaseResult = {
  algorithm: "aes-128-cbc",
  size: 4096,
  status: "stalled",
  ...figures,
  neverCompleted: 8,
  departures: [
    {
      kind: "used-len",
      count: 2,
      rule: "r",
      first: { request: 1, head: 1, usedIndex: 1, expected: 4097, seen: 0 },
    },
    {
      kind: "never-completed",
      count: 8,
      rule: "r",
      first: { expected: "every request completed", seen: "8 in flight" },
    },
  ],
};

Deno.test("formatDepartures() says there were none when every case ran clean", () => {
  assert.equal(formatDepartures([clean]), "no departures from the virtio and vhost-user specs seen");
  assert.equal(
    formatDepartures([{ algorithm: "aes-256-gcm", size: 64, status: "skipped", reason: "x" }]),
    "",
  );
});

Deno.test("formatDepartures() lists a stalled case and each case's departures", () => {
  const lines = formatDepartures([clean, stalled]).split("\n");
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /^stalled aes-128-cbc 4096 B: 8 requests never completed/);
  assert.equal(
    lines[1],
    "departures in aes-128-cbc 4096 B: used-len ×2 (first: request 1, head 1, used index 1: expected 4097, seen 0); never-completed ×8 (first: expected every request completed, seen 8 in flight)",
  );
});

Deno.test("summarizeDepartures() sums per kind and names the stalled cases", () => {
  const s = summarizeDepartures([clean, stalled, stalled]);
  assert.equal(s.total, 20);
  assert.deepEqual(s.byKind, { "used-len": 4, "never-completed": 16 });
  assert.deepEqual(s.stalled, ["aes-128-cbc 4096", "aes-128-cbc 4096"]);
});

Deno.test("formatTable() keeps a stalled case's row and names the sizes skipped when others ran", () => {
  const lines = formatTable([
    clean,
    stalled,
    { algorithm: "aes-128-cbc", size: 16384, status: "skipped", reason: "over the 2176 B" },
  ]).split("\n");
  assert.equal(lines.length, 4);
  assert.match(lines[2]!, /^aes-128-cbc\s+4096 B/);
  assert.equal(lines[3], "skipped aes-128-cbc 16384 B: over the 2176 B");
});
