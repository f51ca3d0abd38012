/**
 * The departure report of `cryptobridge bench`: against the project's own daemon (spawned by bench) it finds
 * nothing, with the DPDK preset and with the defaults; against a back-end that breaks one virtio rule on purpose
 * (`tests/_fixtures/misbehaving_backend.ts`, served in this process over a real socket, memfd guest RAM and
 * eventfds) it reports that rule's departure, and a back-end that never completes a request ends the case as
 * stalled instead of hanging. Exit codes stay 0: departures are a report.
 *
 * @module
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { type Misbehaviour, startMisbehavingServer } from "../_fixtures/misbehaving_backend.ts";

const MOD = fileURLToPath(new URL("../../mod.ts", import.meta.url));

interface Departure {
  kind: string;
  count: number;
  rule: string;
  first: {
    request?: number;
    head?: number;
    usedIndex?: number;
    expected: number | string;
    seen: number | string;
  };
}

interface CaseJson {
  algorithm: string;
  size: number;
  status: string;
  requests?: number;
  departures?: Departure[];
  neverCompleted?: number;
  reason?: string;
}

interface Report {
  results: CaseJson[];
  departures: { total: number; byKind: Record<string, number>; stalled: string[] };
  settings: Record<string, unknown>;
}

/** Runs bench in its own process (the fixture's reactor runs in this one meanwhile). */
async function bench(args: string[]): Promise<{ code: number; report: Report; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MOD, "bench", "--json", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  return { code: out.code, report: JSON.parse(new TextDecoder().decode(out.stdout)), stderr };
}

/** Runs bench against a misbehaving back-end on a fresh socket. */
async function benchAgainst(mode: Misbehaviour, args: string[]): Promise<Report> {
  const dir = await Deno.makeTempDir({ prefix: "cryptobridge-departures-" });
  try {
    await using _server = startMisbehavingServer(`${dir}/vm.sock`, mode);
    return (await bench(["--socket", `${dir}/vm.sock`, ...args])).report;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function kinds(r: CaseJson): string[] {
  return (r.departures ?? []).map((d) => d.kind);
}

function assertClean(report: Report, what: string): void {
  assert.equal(report.departures.total, 0, `${what}: ${JSON.stringify(report.departures)}`);
  assert.deepEqual(report.departures.stalled, [], what);
  for (const r of report.results.filter((r) => r.status !== "skipped")) {
    assert.equal(r.status, "ok", `${what}: ${r.algorithm} ${r.size}`);
    assert.deepEqual(r.departures, [], `${what}: ${r.algorithm} ${r.size}`);
  }
}

Deno.test("bench finds no departure in this project's serve: DPDK presets, defaults, poll and avail-order heads", async () => {
  const common = ["--count", "3000", "--depth", "16", "--size", "64,1024"];
  for (
    const args of [
      ["--peer", "dpdk", "--algo", "aes-128-cbc,aes-128-cbc-hmac-sha256"],
      ["--peer", "dpdk-26.07", "--completion", "poll", "--algo", "aes-128-cbc"],
      ["--algo", "aes-128-cbc,aes-256-gcm"],
      ["--algo", "aes-128-cbc,hmac-sha256", "--completion", "poll"],
      ["--algo", "aes-128-cbc", "--indirect", "--heads", "avail-order", "--queue-size", "16"],
    ]
  ) {
    const { report } = await bench([...common, ...args]);
    assertClean(report, args.join(" "));
    assert.ok(report.results.some((r) => r.status === "ok"), args.join(" "));
  }
});

Deno.test("bench --peer dpdk skips sizes over 2176 bytes with a message instead of sending them", async () => {
  const { report } = await bench([
    "--peer",
    "dpdk",
    "--algo",
    "aes-128-cbc",
    "--size",
    "2176,4096",
    "--count",
    "500",
  ]);
  const [small, large] = report.results;
  assert.equal(small!.status, "ok");
  assert.equal(large!.status, "skipped");
  assert.match(large!.reason ?? "", /over the 2176 B.*--peer dpdk-22\.11.*not sent/);
  assert.equal(report.settings["heads"], "avail-order");
  assert.equal(report.settings["vringEnable"], true);
  assert.equal(report.settings["sessionLayout"], "A");
});

Deno.test("bench reports used elements written at slot = head id, and finds none with avail-order heads", async () => {
  const args = ["--algo", "aes-128-cbc", "--size", "64", "--count", "3000", "--depth", "16", "--indirect"];
  const report = await benchAgainst("used-at-head", args);
  const seen = kinds(report.results[0]!);
  assert.ok(
    seen.includes("used-entry-stale") || seen.includes("used-id-not-in-flight"),
    `free-list heads: ${JSON.stringify(report.results[0])}`,
  );
  const fixed = await benchAgainst("used-at-head", [...args, "--heads", "avail-order"]);
  assertClean(fixed, "avail-order heads");
});

Deno.test("bench reports a used len of 0 with the length the request layout asks for", async () => {
  const report = await benchAgainst("used-len-zero", [
    "--algo",
    "aes-128-cbc",
    "--size",
    "64",
    "--count",
    "500",
  ]);
  const r = report.results[0]!;
  assert.equal(r.status, "ok");
  const d = r.departures!.find((d) => d.kind === "used-len");
  assert.ok(d !== undefined, JSON.stringify(r));
  assert.equal(d.count, 500);
  assert.equal(d.first.expected, 64 + 1, "AES-CBC 64 B: the destination and the status byte");
  assert.equal(d.first.seen, 0);
  assert.equal(report.departures.byKind["used-len"], 500);
});

Deno.test("bench ends a case whose requests are never completed as stalled, and goes on with the next", async () => {
  const report = await benchAgainst("drop-large", [
    "--algo",
    "aes-128-cbc",
    "--size",
    "4096,64",
    "--count",
    "500",
    "--depth",
    "8",
  ]);
  const [large, small] = report.results;
  assert.equal(large!.status, "stalled");
  assert.equal(large!.neverCompleted, 8);
  assert.deepEqual(kinds(large!), ["never-completed"]);
  assert.deepEqual(report.departures.stalled, ["aes-128-cbc 4096"]);
  // A new connection for the next case: served as usual.
  assert.equal(small!.status, "ok");
  assert.equal(small!.requests, 500);
  assert.deepEqual(small!.departures, []);
});

Deno.test("bench reports call signals while notifications are suppressed (poll completion)", async () => {
  const args = ["--algo", "aes-128-cbc", "--size", "64", "--count", "3000", "--completion", "poll"];
  const report = await benchAgainst("spurious-call", args);
  const d = report.results[0]!.departures!.find((d) => d.kind === "notified-while-suppressed");
  assert.ok(d !== undefined && d.count > 0, JSON.stringify(report.results[0]));
  assert.match(d.rule, /2\.7\.7\.2/);
});

Deno.test("bench reports completions published without the call signal it asked for (event completion)", async () => {
  const args = ["--algo", "aes-128-cbc", "--size", "64", "--count", "4", "--depth", "4"];
  const report = await benchAgainst("no-call", args);
  const r = report.results[0]!;
  assert.equal(r.status, "ok", JSON.stringify(r));
  assert.equal(r.requests, 4);
  assert.deepEqual(kinds(r), ["notification-missing"]);
});

Deno.test("bench reports a device that suppressed kicks and then served only when kicked", async () => {
  const args = ["--algo", "aes-128-cbc", "--size", "64", "--count", "8", "--depth", "4"];
  const report = await benchAgainst("suppress-kicks", args);
  const r = report.results[0]!;
  assert.equal(r.status, "ok", JSON.stringify(r));
  assert.equal(r.requests, 8);
  assert.deepEqual(kinds(r), ["kick-needed-while-suppressed"]);
});
