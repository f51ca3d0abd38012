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
import { createCipheriv } from "node:crypto";
import { CipherAlgo, Status } from "../../src/spec/virtio_crypto.ts";
import { type Daemon, runDaemon } from "../../src/daemon/daemon.ts";
import { buildRequest, cipherRequest, VirtioCryptoDriver } from "../../src/frontend/mod.ts";
import type { QatClientStats, QatHostStats } from "../../src/accel/qat/mod.ts";
import type { VmSnapshot } from "../../src/vm/vm_service.ts";
import { FakeQatVf } from "../_fixtures/fake_qat_vf.ts";
import { toHex } from "./_daemon.ts";

const KEY = new Uint8Array(16).map((_, i) => 0x50 + i);

function expected(iv: Uint8Array, pt: Uint8Array): string {
  const c = createCipheriv("aes-128-cbc", KEY, iv).setAutoPadding(false);
  return Buffer.concat([c.update(pt), c.final()]).toString("hex");
}

async function withQatVms(
  names: readonly string[],
  body: (daemon: Daemon, drivers: VirtioCryptoDriver[], model: FakeQatVf) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "cryptobridge-vms-qat-" });
  const model = new FakeQatVf();
  model.start();
  const daemon = runDaemon({
    vms: names.map((name) => ({ name, socket: `${dir}/${name}.sock` })),
    device: "0000:3d:00.1",
    openQatPort: () => model,
    logLevel: "error",
  });
  const drivers: VirtioCryptoDriver[] = [];
  try {
    await daemon.ready;
    for (const name of names) {
      drivers.push(await VirtioCryptoDriver.open({ path: `${dir}/${name}.sock`, qemuFeatures: true }));
    }
    await body(daemon, drivers, model);
  } finally {
    for (const d of drivers) await d.close();
    await daemon.stop();
    model.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function session(driver: VirtioCryptoDriver): Promise<bigint> {
  return driver.createSessionVhost({ service: "cipher", algo: CipherAlgo.AES_CBC, key: KEY, op: 1 }, "B");
}

// One CBC encryption of a request-specific IV and plaintext; its status, and whether the output is OpenSSL's.
async function encrypt(driver: VirtioCryptoDriver, id: bigint, i: number): Promise<[number, boolean]> {
  const n = 16 * (1 + (i % 32));
  const iv = new Uint8Array(16).map((_, j) => (i * 3 + j) & 0xff);
  const pt = new Uint8Array(n).map((_, j) => (i * 7 + j) & 0xff);
  const parts = buildRequest(cipherRequest(id, true, iv, n), driver.layout, { iv, src_data: pt });
  const c = await driver.submit(0, parts.out, parts.in, { indirect: true });
  return [c.status, c.status === Status.OK && toHex(c.in[0]!) === expected(iv, pt)];
}

// `count` requests, 8 at a time, on a new session; how many came back right.
async function encryptMany(driver: VirtioCryptoDriver, count: number, seed: number): Promise<number> {
  const id = await session(driver);
  let right = 0;
  for (let i = 0; i < count; i += 8) {
    const done = await Promise.all(Array.from({ length: 8 }, (_, k) => encrypt(driver, id, seed + i + k)));
    right += done.filter(([, ok]) => ok).length;
  }
  return right;
}

function client(vm: VmSnapshot): QatClientStats {
  assert.notEqual(vm.accelerator, null, `${vm.name} has no accelerator counters`);
  return vm.accelerator as unknown as QatClientStats;
}

function host(snapshot: { readonly accelerator: unknown }): QatHostStats {
  const h = snapshot.accelerator as QatHostStats;
  assert.equal(h.kind, "qat-gen4-vf");
  return h;
}

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
