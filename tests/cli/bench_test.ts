/**
 * `cryptobridge bench` end to end: the command starts `cryptobridge serve` in a separate process, drives it over
 * vhost-user, and prints a JSON report. Only the report's shape and verification are checked, never timings.
 *
 * @module
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const MOD = fileURLToPath(new URL("../../mod.ts", import.meta.url));

async function bench(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MOD, "bench", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array): string => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

interface CaseJson {
  algorithm: string;
  size: number;
  status: string;
  session: string;
  requests: number;
  seconds: number;
  opsPerSec: number;
  bytesPerSec: number;
  latencyUs: { minUs: number; p50Us: number; p99Us: number; maxUs: number };
  verified: number;
}

function checkCase(r: CaseJson, count: number, depth: number): void {
  const what = `${r.algorithm} ${r.size} B`;
  assert.equal(r.status, "ok", what);
  assert.equal(r.requests, count, what);
  assert.ok(r.seconds > 0 && r.opsPerSec > 0, what);
  assert.ok(Math.abs(r.bytesPerSec - r.opsPerSec * r.size) < 1e-6 * r.bytesPerSec, what);
  const l = r.latencyUs;
  assert.ok(l.minUs <= l.p50Us && l.p50Us <= l.p99Us && l.p99Us <= l.maxUs, `${what}: ${JSON.stringify(l)}`);
  assert.ok(r.verified >= depth, `${what}: every slot's first output is verified`);
}

Deno.test("cryptobridge bench --count 2000 --json: every algorithm against a spawned serve, verified", async () => {
  const { code, stdout, stderr } = await bench([
    "--count",
    "2000",
    "--size",
    "64,1024",
    "--depth",
    "16",
    "--json",
  ]);
  assert.equal(code, 0, stderr);
  const report = JSON.parse(stdout);
  assert.equal(report.tool, "cryptobridge bench");
  assert.equal(report.backend.spawned, true);
  assert.equal(report.backend.poll, false);
  assert.equal(report.settings.count, 2000);
  assert.equal(report.verification.passed, true);
  assert.equal(report.results.length, 8);
  const algorithms = report.results.map((r: CaseJson) => r.algorithm);
  assert.deepEqual([...new Set(algorithms)], [
    "aes-128-cbc",
    "aes-256-gcm",
    "hmac-sha256",
    "aes-128-cbc-hmac-sha256",
  ]);
  for (const r of report.results as CaseJson[]) {
    checkCase(r, 2000, 16);
    const ctrl = r.algorithm === "aes-256-gcm" || r.algorithm === "hmac-sha256";
    assert.equal(r.session, ctrl ? "control-queue" : "message-26");
  }
  assert.equal(
    report.verification.verified,
    report.results.reduce((n: number, r: CaseJson) => n + r.verified, 0),
  );
});

Deno.test("cryptobridge bench against serve --poll: polled completions, indirect chains, QEMU 7.0 session layout", async () => {
  const { code, stdout, stderr } = await bench([
    "--poll",
    "--completion",
    "poll",
    "--indirect",
    "--session-layout",
    "7.0",
    "--algo",
    "aes-128-cbc-hmac-sha256",
    "--size",
    "4k",
    "--count",
    "500",
    "--verify-every",
    "1",
    "--json",
  ]);
  assert.equal(code, 0, stderr);
  const report = JSON.parse(stdout);
  assert.equal(report.backend.poll, true);
  assert.equal(report.settings.sessionLayout, "A");
  assert.equal(report.settings.indirect, true);
  assert.equal(report.results.length, 1);
  checkCase(report.results[0], 500, 32);
  assert.equal(report.results[0].verified, 500);
});

Deno.test("cryptobridge bench --no-control-queue skips the AEAD and HMAC sessions with a message", async () => {
  const { code, stdout, stderr } = await bench([
    "--no-control-queue",
    "--algo",
    "aes-128-cbc,aes-256-gcm",
    "--size",
    "64",
    "--count",
    "100",
  ]);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^aes-128-cbc\s+64 B/m);
  assert.match(
    stdout,
    /^skipped aes-256-gcm: needs a control-queue session \(message 26 cannot express it\)/m,
  );
});

Deno.test("cryptobridge bench: a usage mistake is one line and exit code 2", async () => {
  const { code, stderr } = await bench(["--depth", "0"]);
  assert.equal(code, 2);
  assert.equal(stderr.trim(), "cryptobridge: --depth must be an integer from 1 to 1024: current value is 0");
});

Deno.test("cryptobridge bench --neighbour restart: the other VM is served without an error while its neighbour is killed", async () => {
  const { code, stdout, stderr } = await bench([
    ...["--vms", "2", "--neighbour", "restart", "--algo", "aes-128-cbc", "--size", "256"],
    ...["--duration", "4", "--warmup", "0", "--depth", "8", "--verify-every", "1", "--json"],
  ]);
  assert.equal(code, 0, stderr);
  const report = JSON.parse(stdout);
  assert.equal(report.neighbour.mode, "restart");
  assert.ok(report.neighbour.kills >= 1, `killed mid-load at least once: ${report.neighbour.kills}`);
  assert.equal(report.neighbour.beside.length, 1, "one measured VM");
  const r = report.neighbour.beside[0].results[0] as CaseJson;
  assert.equal(r.status, "ok");
  // Every output of the measured VM was compared with the software engine's while the neighbour died.
  assert.equal(r.verified, r.requests);
});
