/**
 * `cryptobridge status` and `cryptobridge vm …` through `main()`, against a control server on a fake daemon: the
 * text and JSON output, and the exit codes scripts test.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runCli as run } from "./_run_cli.ts";
import { ExitCode } from "../../src/cli/control_args.ts";
import { startServer } from "../control/_line_client.ts";

Deno.test("cryptobridge status prints the daemon's state; --json its report", async () => {
  await using rig = startServer();
  const text = await run(["status", "--control", rig.path]);
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /^cryptobridge 0\.1\.0, pid \d+, up 12s \(since 2026-01-01T00:00:00\.000Z\)$/m);
  assert.match(
    text.out,
    /^accelerator: virtio-crypto 0000:00:04\.0: ready, epoch 1, 0 failures, 0 resets, 3 sessions, 0 in flight; requests: 40 completed, 2 failed \(re-run in software\), 1 declined, 5 bounced; refused when probed: SHA1$/m,
  );
  assert.doesNotMatch(text.out, /QAT:/);
  assert.match(text.out, /^VMs: 1 \(0 connected\)$/m);
  const json = await run(["status", "--json", "--control", rig.path]);
  assert.equal(JSON.parse(json.out).engines[0].name, "openssl");
  assert.equal(JSON.parse(json.out).accelerator.qat, null);
});

Deno.test("cryptobridge status shows a QAT VF: its kind, failure, counters, ring pairs and services; --json carries them", async () => {
  await using rig = startServer();
  rig.control.acceleratorKind = "qat-gen4-vf";
  const text = await run(["status", "--control", rig.path]);
  assert.equal(text.code, 0, text.err);
  assert.match(
    text.out,
    /^accelerator: qat-gen4-vf 0000:3d:00\.1: failed, epoch 1, 1 failures \(last: ring 0 stopped answering\), 0 resets, 3 sessions, 0 in flight; requests: 40 completed, 2 failed \(re-run in software\), 1 declined, 5 bounced$/m,
  );
  assert.match(
    text.out,
    /^ {2}QAT: 0 ring pairs in use \(1 VM past them in software\); bundle services: sym, asym, sym, dc; 17 doorbells, 12 interrupts$/m,
  );
  const json = JSON.parse((await run(["status", "--json", "--control", rig.path])).out);
  assert.equal(json.accelerator.kind, "qat-gen4-vf");
  assert.equal(json.accelerator.bounced, 5);
  assert.deepEqual(json.accelerator.qat, {
    ringPairs: 0,
    softwareVms: 1,
    services: ["sym", "asym", "sym", "dc"],
    doorbells: 17,
    interrupts: 12,
  });
});

Deno.test("cryptobridge vm list, add, remove and stats; exit codes for taken and unknown VMs", async () => {
  await using rig = startServer();
  const c = ["--control", rig.path];
  const list = await run(["vm", "list", ...c]);
  assert.deepEqual(list.out.split("\n"), [
    "NAME  SOCKET                      CONNECTED  QUEUES  SESSIONS  INFLIGHT  THREAD",
    "vm1   /run/cryptobridge/vm1.sock  no         1       0/1024    0/256     main",
  ]);
  const add = await run(["vm", "add", "vm2", "--socket", "/run/cryptobridge/vm2.sock", "--cpu", "2,3", ...c]);
  assert.equal(add.code, 0, add.err);
  assert.equal(add.out, "vm2: serving on /run/cryptobridge/vm2.sock (1 queue)");
  assert.ok(rig.control.vms.has("vm2"));
  const taken = await run(["vm", "add", "vm2", "--socket", "/x.sock", ...c]);
  assert.deepEqual([taken.code, taken.err], [
    ExitCode.EXISTS,
    'cryptobridge: A VM named "vm2" is served already',
  ]);
  const badValue = await run(["vm", "add", "vm3", "--socket", "/x.sock", "--queues", "x", ...c]);
  assert.equal(badValue.code, ExitCode.USAGE);
  const removed = await run(["vm", "remove", "vm2", "--json", ...c]);
  assert.equal(JSON.parse(removed.out).last.requests, 10);
  const unknown = await run(["vm", "remove", "vm2", ...c]);
  assert.equal(unknown.code, ExitCode.NOT_FOUND);
  const stats = await run(["vm", "stats", ...c]);
  assert.match(stats.out, /^vm1: 10 requests \(ok 9, err 1\), 160 bytes out$/m);
  assert.match(stats.out, /to software: not-advertised 1, nospc 1/);
});

Deno.test("no daemon: exit 3 and a line that says how to start one or where else to look", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "cb-cli-" });
  try {
    for (const args of [["status"], ["vm", "list"]]) {
      const r = await run([...args, "--control", `${dir}/none.sock`]);
      assert.equal(r.code, ExitCode.NO_DAEMON);
      assert.equal(
        r.err,
        `cryptobridge: no daemon answers on ${dir}/none.sock: start it with \`cryptobridge serve\` (as a ` +
          "service: `systemctl start cryptobridge`), or give --control PATH: the socket of `serve --control PATH`, " +
          "by default cryptobridge-control.sock beside its first VM's socket",
      );
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("usage mistakes of status and vm exit 2 with one line", async () => {
  assert.equal((await run(["vm"])).code, 2);
  const unknown = await run(["vm", "frobnicate"]);
  assert.deepEqual([unknown.code, unknown.err], [
    2,
    'cryptobridge: Unknown vm command "frobnicate": use list, add, remove or stats',
  ]);
  const noSocket = await run(["vm", "add", "vm9"]);
  assert.deepEqual([noSocket.code, noSocket.err], [
    2,
    "cryptobridge: vm add needs --socket PATH: the VM's vhost-user socket",
  ]);
  assert.equal((await run(["vm", "remove"])).code, 2);
  assert.equal((await run(["status", "extra"])).code, 2);
  assert.equal((await run(["status", "--bogus"])).code, 2);
  assert.match((await run(["help", "vm"])).out, /Exit codes: 0 done/);
});
