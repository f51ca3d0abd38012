/**
 * QAT VMs on their own threads, over their lifetimes (the QAT gen4 VF model as the accelerator, as in
 * workers_qat_test.ts): a VM that is removed gives its ring pair, reset, to the next VM added; a VM thread that
 * dies with requests on its ring pair makes the host stop the device (nothing may write that VM's memory any
 * more), the other VM carries on in software and later on the restarted device; a VF with fewer MSI-X vectors
 * than bundles has its VM threads poll. Every output is checked against OpenSSL.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Status } from "../../src/spec/virtio_crypto.ts";
import { VirtioCryptoDriver } from "../../src/frontend/mod.ts";
import type { Daemon } from "../../src/daemon/daemon.ts";
import { client, encrypt, encryptMany, host, session, withQatVms } from "./_qat_vms.ts";

async function until(what: string, check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const snapshotOf = (daemon: Daemon) => daemon.snapshot();

Deno.test("a removed QAT VM's ring pair goes, reset, to the next VM added; it runs on the device", async () => {
  await withQatVms(["a", "b", "c"], async (daemon, drivers, model, dir) => {
    assert.deepEqual(await Promise.all(drivers.map((d, i) => encryptMany(d, 8, i))), [8, 8, 8]);
    const before = await snapshotOf(daemon);
    const freed = client(before.vms[0]!).ringPair;
    assert.equal(client(before.vms[2]!).software, true, "c came third: no ring pair");
    await daemon.removeVm("a");
    await daemon.addVm({ name: "d", socket: `${dir}/d.sock` });
    const d = await VirtioCryptoDriver.open({ path: `${dir}/d.sock`, qemuFeatures: true });
    try {
      const executed = model.counts.requests;
      assert.equal(await encryptMany(d, 16, 77), 16);
      assert.equal(model.counts.requests - executed, 16, "d's requests ran on the device");
      const after = await snapshotOf(daemon);
      const vm = after.vms.find((v) => v.name === "d")!;
      assert.equal(client(vm).software, false);
      assert.equal(client(vm).ringPair, freed, "d drives the ring pair a gave back");
      assert.equal(vm.router!.accelRequests, 16);
      assert.deepEqual(host(after).vms.map((v) => v.name), ["b", "c", "d"]);
    } finally {
      await d.close();
    }
  });
});

Deno.test("a QAT VM thread that dies with requests on its ring pair stops the device; the other VM goes on, then on the restarted VF", async () => {
  await withQatVms(["crashy", "calm"], async (daemon, drivers, model) => {
    const [crashy, calm] = drivers as [VirtioCryptoDriver, VirtioCryptoDriver];
    const sc = await session(crashy);
    const sb = await session(calm);
    assert.deepEqual(await encrypt(crashy, sc, 1), [Status.OK, true]);
    assert.deepEqual(await encrypt(calm, sb, 2), [Status.OK, true]);
    model.hung = true; // the crashy VM's next requests stay on its ring pair
    for (let i = 0; i < 8; i++) encrypt(crashy, sc, 10 + i).catch(() => {}); // its thread dies under them
    // The host's own counters: a daemon snapshot asks every VM's thread, and one is about to be dead.
    const hub = daemon.accelerator!;
    const inflight = () => Promise.resolve(hub.stats().vms[0]!.inflight > 0);
    await until("requests on the crashy VM's ring pair", inflight);
    const thread = daemon.vms[0]!.thread!;
    thread.injectCrash();
    await until("the device to stop", () => Promise.resolve(hub.stats().state === "failed"));
    assert.match(hub.stats().lastFailure ?? "", /crashy went away with requests/);
    model.hung = false;

    const right = await encrypt(calm, sb, 3);
    assert.deepEqual(right, [Status.OK, true], "served in software while the VF is down");
    // A new thread serves the crashy VM's socket after 1 s (its snapshot answers again); by then the host's
    // retryMs (1 s) has passed too.
    await until("the crashy VM's new thread", async () => {
      if (thread.restarts === 0) return false;
      return await daemon.snapshot().then(() => true, () => false);
    });
    const executed = model.counts.requests;
    assert.equal(await encryptMany(calm, 16, 40), 16);
    assert.equal(model.counts.requests - executed, 16, "the new session ran on the restarted VF");
    const snap = await snapshotOf(daemon);
    assert.deepEqual([host(snap).state, host(snap).epoch, host(snap).failures], ["ready", 2, 1]);
    assert.equal(client(snap.vms.find((v) => v.name === "calm")!).epoch, 2);
  });
});

Deno.test("a QAT VF with fewer MSI-X vectors than bundles: the VM threads poll their ring pairs", async () => {
  await withQatVms(["a", "b"], async (daemon, drivers, model) => {
    const executed = model.counts.requests;
    assert.deepEqual(await Promise.all(drivers.map((d, i) => encryptMany(d, 32, i * 9))), [32, 32]);
    assert.equal(model.counts.requests - executed, 64);
    const snap = await snapshotOf(daemon);
    for (const vm of snap.vms) {
      assert.equal(client(vm).completed, 32);
      assert.equal(client(vm).interrupts, 0, `${vm.name} polled`);
    }
  }, { vectors: 1 });
});
