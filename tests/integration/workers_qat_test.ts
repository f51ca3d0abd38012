/**
 * QAT VMs each on their own thread: the daemon with the QAT gen4 VF model (`tests/_fixtures/fake_qat_vf.ts`, a
 * test double: no host here has a QAT) as its accelerator, the VF on the main thread (`QatHost`) and each VM on
 * its own Worker driving a ring pair of its own (`QatClient`), through the project's own vhost-user front-end.
 * The model's default PF gives the VF two symmetric bundles: two ring pairs. The model runs its arbiter on a 1 ms
 * timer on the main thread, reading the rings from host memory, so the VM threads' rings work with it.
 *
 * Every output is checked against OpenSSL (node:crypto); the model's own request count says what the device
 * executed. The cases: two VMs on two ring pairs; a third VM past them, served in software and saying so; the
 * function vanishing under load from two VMs and coming back (none lost or wrong, the device restarted, both
 * on it again); a session id of one VM refused on the other while it still holds on its own.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Status } from "../../src/spec/virtio_crypto.ts";
import type { VirtioCryptoDriver } from "../../src/frontend/mod.ts";
import type { QatClientStats } from "../../src/accel/qat/mod.ts";
import { acceleratorReport } from "../../src/daemon/accel_report.ts";
import { client, encrypt, encryptMany, host, session, withQatVms } from "./_qat_vms.ts";

Deno.test("two QAT VMs on two threads: a ring pair each, every output OpenSSL's, both served by the device", async () => {
  await withQatVms(["a", "b"], async (daemon, drivers, model) => {
    const before = model.counts.requests;
    assert.deepEqual(await Promise.all(drivers.map((d, i) => encryptMany(d, 64, i * 100))), [64, 64]);
    const snap = await daemon.snapshot();
    const [a, b] = snap.vms.map(client) as [QatClientStats, QatClientStats];
    assert.equal(model.counts.requests - before, 128, "the model executed all 128 requests itself");
    assert.deepEqual([a.completed, b.completed], [64, 64], "each VM's own ring pair answered its 64");
    assert.notEqual(a.ringPair, null);
    assert.notEqual(b.ringPair, null);
    assert.notEqual(a.ringPair, b.ringPair, "a ring pair (bundle) each");
    assert.ok(
      a.interrupts > 0 && b.interrupts > 0,
      "completions by each bundle's MSI-X in each VM's reactor",
    );
    for (const vm of snap.vms) {
      assert.equal(vm.router!.accelRequests, 64, `${vm.name}: ${JSON.stringify(vm.router)}`);
      assert.equal(vm.router!.softwareRequests, 0);
    }
    const tids = daemon.vms.map((v) => v.thread!.tid);
    assert.equal(new Set(tids).size, 2, `a thread each: ${tids}`);
    assert.ok(!tids.includes(Deno.pid), "neither VM runs on the main thread");
    const h = host(snap);
    assert.deepEqual([h.state, h.queues, h.ringPairs, h.softwareVms], ["ready", 2, 2, 0]);
    assert.deepEqual(h.vms.map((v) => v.sessions), [1, 1]);
  });
});

Deno.test("a QAT VM past the VF's ring pairs is served in software and its counters say so", async () => {
  await withQatVms(["a", "b", "c"], async (daemon, drivers, model) => {
    const before = model.counts.requests;
    assert.deepEqual(await Promise.all(drivers.map((d, i) => encryptMany(d, 16, i * 50))), [16, 16, 16]);
    assert.equal(model.counts.requests - before, 32, "only the two VMs with a ring pair reached the device");
    const snap = await daemon.snapshot();
    const c = snap.vms[2]!;
    assert.equal(client(c).software, true);
    assert.equal(client(c).ringPair, null);
    assert.equal(client(c).completed, 0);
    assert.equal(c.router!.accelRequests, 0);
    assert.equal(c.router!.softwareRequests, 16);
    assert.equal(c.router!.fallbacks.unavailable, 1, "its session went to software: no ring pair");
    for (const vm of snap.vms.slice(0, 2)) assert.equal(vm.router!.accelRequests, 16);
    const h = host(snap);
    assert.equal(h.softwareVms, 1);
    const report = acceleratorReport(daemon, null, snap.vms)!; // what `status` reports
    assert.deepEqual([report.kind, report.qat!.ringPairs, report.qat!.softwareVms], ["qat-gen4-vf", 2, 1]);
    assert.deepEqual(h.vms.map((v) => v.queue === null), [false, false, true]);
  });
});

Deno.test("the QAT VF vanishes under load from two VMs and comes back: none lost or wrong, restarted, both on it again", async () => {
  await withQatVms(["x", "y"], async (daemon, drivers, model) => {
    const load = drivers.map((d, i) => encryptMany(d, 256, i * 31));
    await new Promise((r) => setTimeout(r, 5));
    model.vanish();
    assert.deepEqual(await Promise.all(load), [256, 256]);
    let snap = await daemon.snapshot();
    assert.equal(host(snap).state, "failed");
    assert.equal(host(snap).failures, 1);
    assert.match(host(snap).lastFailure ?? "", /vanished|stopped answering/);
    const failed = snap.vms.reduce((n, v) => n + v.router!.fallbacks.failed, 0);
    const software = snap.vms.reduce((n, v) => n + v.router!.softwareRequests, 0);
    assert.ok(
      failed > 0 || software > 0,
      `requests after the vanish went to software: ${JSON.stringify(snap.vms)}`,
    );

    model.comeBack();
    await new Promise((r) => setTimeout(r, 1100)); // the host's retryMs (default 1000 ms)
    const executed = model.counts.requests;
    // A new session on each VM: the first restarts the device, the other gets its ring pair of the new epoch.
    assert.deepEqual(await Promise.all(drivers.map((d, i) => encryptMany(d, 16, 1000 + i))), [16, 16]);
    snap = await daemon.snapshot();
    const h = host(snap);
    assert.deepEqual([h.state, h.epoch, h.ringPairs], ["ready", 2, 2]);
    assert.equal(model.counts.requests - executed, 32, "both VMs' new requests ran on the restarted device");
    for (const vm of snap.vms) assert.equal(client(vm).epoch, 2, `${vm.name} drives the new epoch`);
  });
});

Deno.test("a session id of one QAT VM is refused (INVSESS) on the other; on its own VM it still holds", async () => {
  await withQatVms(["p", "q"], async (_daemon, drivers) => {
    const [p, q] = drivers as [VirtioCryptoDriver, VirtioCryptoDriver];
    await session(p);
    await session(p);
    const mine = await session(p); // id 3 on p; q has only id 1
    const theirs = await session(q);
    assert.notEqual(mine, theirs);
    assert.deepEqual(await encrypt(q, mine, 7), [Status.INVSESS, false]);
    assert.deepEqual(await encrypt(p, mine, 7), [Status.OK, true]);
    assert.deepEqual(await encrypt(q, theirs, 8), [Status.OK, true]);
  });
});
