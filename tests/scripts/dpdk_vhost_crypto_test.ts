/**
 * The pure parts of the DPDK harness (`scripts/dpdk_vhost_crypto.ts`, `scripts/bench_dpdk.ts`): the example's
 * command line, the version and the runtime directory, the medians and the generator's command. Needs no DPDK.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  DpdkError,
  parseVersion,
  prefixOf,
  runtimeDir,
  vhostCryptoArgs,
} from "../../scripts/dpdk_vhost_crypto.ts";
import { dpdkBenchCommand } from "../../scripts/bench_dpdk.ts";
import { median } from "../../scripts/bench_rows.ts";
import type { MeasureSettings } from "../../scripts/bench_measure.ts";

Deno.test("vhostCryptoArgs: both lcores on the back-end CPU, the worker (lcore 1) serves the socket on cdev 0", () => {
  const args = vhostCryptoArgs({ binary: "/x", socket: "/tmp/a.sock", cpu: 3, prefix: "p" });
  const after = (flag: string): string | undefined => args[args.indexOf(flag) + 1];
  assert.equal(after("--lcores"), "0@3,1@3");
  assert.equal(after("--vdev"), "crypto_openssl0");
  assert.equal(after("--file-prefix"), "p");
  assert.ok(args.includes("--no-huge"));
  const appStart = args.indexOf("--");
  assert.ok(appStart > args.indexOf("--vdev"), "EAL options come before the application's");
  assert.equal(after("--config"), "(1,0,0)");
  assert.equal(after("--socket-file"), "1,/tmp/a.sock");
  assert.ok(args.indexOf("--socket-file") > appStart);
});

Deno.test("parseVersion: pkg-config's version, or a DpdkError", () => {
  assert.equal(parseVersion("22.11.11\n"), "22.11.11");
  assert.throws(() => parseVersion("Package libdpdk was not found"), DpdkError);
});

Deno.test("prefixOf and runtimeDir: one prefix per socket, EAL's directory for root and for users", () => {
  assert.equal(prefixOf("/tmp/x y/vc.sock"), "cryptobridge-tmp-x-y-vc-sock");
  assert.notEqual(prefixOf("/tmp/a.sock"), prefixOf("/tmp/b.sock"));
  assert.equal(runtimeDir("p", { uid: 0 }), "/var/run/dpdk/p");
  assert.equal(runtimeDir("p", { uid: 1000, xdg: "/run/user/1000" }), "/run/user/1000/dpdk/p");
  assert.equal(runtimeDir("p", { uid: 1000 }), "/tmp/dpdk/p");
});

Deno.test("median: the middle figure, or the mean of the middle two", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([7]), 7);
});

Deno.test("dpdkBenchCommand: the DPDK peer on its socket, pinned generator, no serve of its own", () => {
  const s: MeasureSettings = {
    repeat: 1,
    pinServe: "1",
    pinBench: "0",
    duration: "1",
    warmup: "0.2",
    depth: "32",
    opensslSeconds: "1",
    waitIdle: false,
    mod: "/m/mod.ts",
  };
  const cmd = dpdkBenchCommand("poll", 256, "/tmp/vc.sock", s);
  const after = (flag: string): string | undefined => cmd[cmd.indexOf(flag) + 1];
  assert.equal(after("--socket"), "/tmp/vc.sock");
  assert.equal(after("--peer"), "dpdk");
  assert.equal(after("--completion"), "poll");
  assert.equal(after("--size"), "256");
  assert.equal(after("--pin-bench"), "0");
  assert.equal(cmd.includes("--pin-serve"), false, "--pin-serve is for bench's own serve");
  assert.equal(cmd.includes("--poll"), false);
  assert.equal(dpdkBenchCommand("event", 64, "/s", s).at(-1), "event");
});
