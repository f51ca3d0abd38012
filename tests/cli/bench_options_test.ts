import assert from "node:assert/strict";
import { parseBenchOptions, sessionLayout, sizes } from "../../src/cli/bench.ts";
import { formatProgress, formatTable } from "../../src/cli/bench_output.ts";
import { UsageError } from "../../src/cli/errors.ts";
import { BENCH_ALGORITHMS, BENCH_SIZES } from "../../src/frontend/mod.ts";

Deno.test("parseBenchOptions() fills the defaults: whole matrix, depth 32, 2 s per case after a 0.5 s warm-up", () => {
  const o = parseBenchOptions([]);
  assert.deepEqual(o.algorithms, [...BENCH_ALGORITHMS]);
  assert.deepEqual(o.sizes, [...BENCH_SIZES]);
  assert.equal(o.depth, 32);
  assert.equal(o.durationMs, 2000);
  assert.equal(o.count, undefined);
  assert.equal(o.warmupMs, 500);
  assert.equal(o.sessionLayout, "B");
  assert.equal(o.completion, "event");
  assert.equal(o.controlQueue, true);
  assert.equal(o.indirect, false);
  assert.equal(o.verifyEvery, 1024);
  assert.equal(o.queueSize, 1024);
  assert.deepEqual(o.sockets, []);
  assert.equal(o.vms, 1);
});

Deno.test("parseBenchOptions() with --count has no duration and no warm-up unless asked", () => {
  const o = parseBenchOptions(["--count", "2000", "--algo", "aes-256-gcm,hmac-sha256", "--size", "64,4k"]);
  assert.equal(o.count, 2000);
  assert.equal(o.durationMs, undefined);
  assert.equal(o.warmupMs, 0);
  assert.deepEqual(o.algorithms, ["aes-256-gcm", "hmac-sha256"]);
  assert.deepEqual(o.sizes, [64, 4096]);
  const both = parseBenchOptions(["--count", "10", "--duration", "1.5", "--warmup", "0.25"]);
  assert.equal(both.durationMs, 1500);
  assert.equal(both.warmupMs, 250);
});

Deno.test("parseBenchOptions() takes every switch", () => {
  const o = parseBenchOptions([
    "--poll",
    "--pin-serve",
    "1",
    "--pin-bench",
    "0",
    "--session-layout",
    "8.2",
    "--no-control-queue",
    "--indirect",
    "--completion",
    "poll",
    "--depth",
    "128",
    "--queue-size",
    "512",
    "--verify-every",
    "1",
    "--json",
  ]);
  assert.equal(o.poll, true);
  assert.equal(o.pinServe, 1);
  assert.equal(o.pinBench, 0);
  assert.equal(o.sessionLayout, "C");
  assert.equal(o.controlQueue, false);
  assert.equal(o.indirect, true);
  assert.equal(o.completion, "poll");
  assert.equal(o.depth, 128);
  assert.equal(o.queueSize, 512);
  assert.equal(o.verifyEvery, 1);
  assert.equal(o.json, true);
});

Deno.test("parseBenchOptions() refuses mistakes with a UsageError saying what to do", () => {
  const bad: string[][] = [
    ["--depth", "0"],
    ["--depth", "2000"],
    ["--algo", "aes-512"],
    ["--size", "100"],
    ["--size", "8"],
    ["--duration", "-1"],
    ["--completion", "sometimes"],
    ["--queue-size", "1000"],
    ["--verify-every", "0"],
    ["--session-layout", "D"],
    ["--socket", "/tmp/x.sock", "--poll"],
    ["--socket", "/tmp/x.sock", "--pin-serve", "1"],
    ["--socket", "/tmp/x.sock", "--vms", "2"],
    ["--vms", "0"],
    ["--vms", "17"],
    ["--neighbour", "flood"],
    ["--vms", "2", "--neighbour", "nap"],
    ["--vms", "2", "--neighbour", "flood", "--count", "100"],
    ["--frobnicate"],
    ["extra"],
  ];
  for (const args of bad) assert.throws(() => parseBenchOptions(args), UsageError, args.join(" "));
});

Deno.test("parseBenchOptions() takes --socket more than once, or --vms for its own serve", () => {
  assert.deepEqual(parseBenchOptions(["--socket", "/a.sock", "--socket", "/b.sock"]).sockets, [
    "/a.sock",
    "/b.sock",
  ]);
  assert.equal(parseBenchOptions(["--vms", "3"]).vms, 3);
  assert.equal(parseBenchOptions(["--vms", "2", "--neighbour", "restart"]).neighbour, "restart");
  assert.equal(
    parseBenchOptions(["--socket", "/a", "--socket", "/b", "--neighbour", "flood"]).neighbour,
    "flood",
  );
});

Deno.test("sessionLayout() maps QEMU versions to the payload layout of interop.md §1.3", () => {
  assert.equal(sessionLayout("a"), "A");
  assert.equal(sessionLayout("6.2"), "A");
  assert.equal(sessionLayout("7.0"), "A");
  assert.equal(sessionLayout("7.1"), "B");
  assert.equal(sessionLayout("qemu-7.2"), "B");
  assert.equal(sessionLayout("8.0.5"), "B");
  assert.equal(sessionLayout("8.1"), "C");
  assert.equal(sessionLayout("9.2"), "C");
});

Deno.test("sizes() reads k suffixes and drops duplicates", () => {
  assert.deepEqual(sizes("64, 1k,1024,16KiB"), [64, 1024, 16384]);
});

Deno.test("formatTable() aligns results and lists skipped algorithms once", () => {
  const text = formatTable([
    {
      algorithm: "aes-128-cbc",
      size: 64,
      status: "ok",
      requests: 1000,
      seconds: 0.002,
      opsPerSec: 500_000,
      bytesPerSec: 32_000_000,
      latencyUs: { minUs: 1, meanUs: 2, p50Us: 2.5, p90Us: 3, p99Us: 12.25, p999Us: 20, maxUs: 150 },
      verified: 40,
    },
    { algorithm: "aes-256-gcm", size: 64, status: "skipped", reason: "no control queue" },
    { algorithm: "aes-256-gcm", size: 4096, status: "skipped", reason: "no control queue" },
  ]);
  const lines = text.split("\n");
  assert.equal(lines.length, 3);
  assert.match(lines[0]!, /^algorithm\s+size\s+ops\/s\s+MB\/s\s+p50 µs\s+p99 µs\s+max µs\s+verified$/);
  assert.match(lines[1]!, /^aes-128-cbc\s+64 B\s+500,000\s+32\.0\s+2\.50\s+12\.3\s+150\s+40$/);
  assert.equal(lines[2], "skipped aes-256-gcm: no control queue");
});

Deno.test("formatProgress() names the case, the phase and the rate", () => {
  const line = formatProgress({
    algorithm: "hmac-sha256",
    size: 1024,
    index: 3,
    cases: 20,
    completed: 50_000,
    elapsedMs: 500,
    warmup: true,
  });
  assert.equal(line, "[3/20] hmac-sha256 1024 B (warm-up): 0.5 s, 100,000 ops/s");
});

Deno.test("parseBenchOptions() keeps today's ring behaviour by default: free-list heads, no SET_VRING_ENABLE", () => {
  const o = parseBenchOptions([]);
  assert.equal(o.heads, "free-list");
  assert.equal(o.vringEnable, false);
  assert.equal(o.maxSize, undefined);
  assert.equal(o.peer, undefined);
});

Deno.test("parseBenchOptions() --peer dpdk is Debian 12's DPDK 22.11: every flag it implies, layout A", () => {
  for (const peer of ["dpdk", "dpdk-22.11", "DPDK-22.11"]) {
    const o = parseBenchOptions(["--peer", peer]);
    assert.equal(o.peer, "dpdk-22.11", peer);
    assert.equal(o.indirect, true);
    assert.equal(o.heads, "avail-order");
    assert.equal(o.vringEnable, true);
    assert.equal(o.controlQueue, false);
    assert.equal(o.sessionLayout, "A");
    assert.equal(o.maxSize, 2176);
  }
  const newer = parseBenchOptions(["--peer", "dpdk-26.07"]);
  assert.equal(newer.peer, "dpdk-26.07");
  assert.equal(newer.sessionLayout, "C");
  assert.equal(newer.heads, "avail-order");
});

Deno.test("parseBenchOptions() lets a flag beside --peer override its part of the preset", () => {
  const o = parseBenchOptions([
    "--peer",
    "dpdk",
    "--session-layout",
    "C",
    "--control-queue",
    "--no-vring-enable",
    "--heads",
    "free-list",
    "--max-size",
    "4096",
  ]);
  assert.equal(o.sessionLayout, "C");
  assert.equal(o.controlQueue, true);
  assert.equal(o.vringEnable, false);
  assert.equal(o.heads, "free-list");
  assert.equal(o.maxSize, 4096);
  assert.equal(o.indirect, true);
  // Direct chains asked for explicitly: the preset's avail-order heads give way (they need indirect chains).
  const direct = parseBenchOptions(["--peer", "dpdk-26.07", "--direct"]);
  assert.equal(direct.indirect, false);
  assert.equal(direct.heads, "free-list");
});

Deno.test("parseBenchOptions() takes the ring flags without a preset", () => {
  const o = parseBenchOptions([
    "--indirect",
    "--heads",
    "avail-order",
    "--vring-enable",
    "--max-size",
    "2048",
  ]);
  assert.equal(o.heads, "avail-order");
  assert.equal(o.vringEnable, true);
  assert.equal(o.maxSize, 2048);
});

Deno.test("parseBenchOptions() refuses bad --peer, --heads and --max-size values and contradictions", () => {
  const cases: [string[], RegExp][] = [
    [["--peer", "spdk"], /--peer must be dpdk, dpdk-22\.11, dpdk-26\.07/],
    [["--heads", "random"], /--heads must be free-list or avail-order/],
    [["--heads", "avail-order"], /needs indirect chains.*add --indirect/],
    [["--peer", "dpdk", "--direct", "--heads", "avail-order"], /needs indirect chains/],
    [["--indirect", "--direct"], /--indirect and --direct contradict/],
    [["--vring-enable", "--no-vring-enable"], /contradict/],
    [["--control-queue", "--no-control-queue"], /contradict/],
    [["--max-size", "8"], /--max-size must be an integer from 16/],
  ];
  for (const [args, message] of cases) {
    assert.throws(
      () => parseBenchOptions(args),
      (e: unknown) => e instanceof UsageError && message.test(e.message),
    );
  }
});
