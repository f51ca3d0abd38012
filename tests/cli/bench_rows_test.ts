/**
 * The report's arithmetic (`scripts/bench_rows.ts`): the chain's ceiling and the per-mode targets.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type BridgeRow, type OpensslRow, ratiosOf, targets } from "../../scripts/bench_rows.ts";

const openssl = (name: string, size: number, bytesPerSec: number): OpensslRow => ({
  name,
  size,
  args: [],
  bytesPerSec,
  idleBefore: 1,
});
const bridge = (mode: BridgeRow["mode"], size: number, opsPerSec: number): BridgeRow => ({
  mode,
  algorithm: "aes-128-cbc",
  size,
  opsPerSec,
  bytesPerSec: opsPerSec * size,
  latencyUs: {},
  verified: 0,
  idleBefore: 1,
});

Deno.test("ratiosOf() sets the chain against 1 / (1/CBC + 1/HMAC)", () => {
  const [r] = ratiosOf(
    [openssl("aes-128-cbc", 4096, 3e9), openssl("hmac-sha256", 4096, 1.5e9)],
    [{ ...bridge("event", 4096, 1e5), algorithm: "aes-128-cbc-hmac-sha256" }],
  );
  assert.ok(Math.abs(r!.opensslMBs - 1000) < 1e-9, `ceiling ${r!.opensslMBs} MB/s`);
});

Deno.test("targets(): poll mode holds 0.9 at 16 KiB and 700 k at 64 B, event mode 0.8 and 500 k", () => {
  const ceiling = [openssl("aes-128-cbc", 16384, 1e9)];
  const rows = [bridge("event", 16384, 0.85e9 / 16384), bridge("poll", 16384, 0.85e9 / 16384)];
  rows.push(bridge("event", 64, 600_000), bridge("poll", 64, 600_000));
  const t = targets(["event", "poll"], rows, ratiosOf(ceiling, rows));
  const pass = (mode: string, what: RegExp): boolean | undefined =>
    t.find((x) => x.mode === mode && what.test(x.name))?.pass;
  assert.equal(pass("event", /16 KiB >= 0.8/), true);
  assert.equal(pass("poll", /16 KiB >= 0.9/), false);
  assert.equal(pass("event", /64 B >= 500 k/), true);
  assert.equal(pass("poll", /64 B >= 700 k/), false);
});
