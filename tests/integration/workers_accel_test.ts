/**
 * Several VMs sharing one accelerator (issue 10), each VM on its own Worker, the accelerator a model of a
 * virtio-crypto PCI function (`tests/_fixtures/fake_virtio_crypto.ts`, a test double: QEMU's real device runs in
 * the tier-4 guest test) on the main thread: a queue of its own per VM while the device has enough, one shared
 * queue past that, every output checked against OpenSSL, each VM's RAM at IOVAs of its own, a request pointing
 * at another VM's memory refused before it reaches the device, session quotas, and a reset under load with two
 * VMs (no request lost on either).
 */

import assert from "node:assert/strict";
import { createCipheriv } from "node:crypto";
import { CipherAlgo, Status } from "../../src/spec/virtio_crypto.ts";
import { type Daemon, runDaemon } from "../../src/daemon/daemon.ts";
import { buildRequest, cipherRequest, VirtioCryptoDriver } from "../../src/frontend/mod.ts";
import { FakeVirtioCrypto } from "../_fixtures/fake_virtio_crypto.ts";
import { type Buf, cbcBuffers, RawGuest, statusAt } from "../hostile/_raw_guest.ts";
import type { TestDaemon } from "../hostile/_helpers.ts";
import { toHex } from "./_daemon.ts";

const KEY = new Uint8Array(16).map((_, i) => 0x30 + i);

function expected(iv: Uint8Array, pt: Uint8Array): string {
  const c = createCipheriv("aes-128-cbc", KEY, iv).setAutoPadding(false);
  return Buffer.concat([c.update(pt), c.final()]).toString("hex");
}

async function withVms(
  vms: readonly Record<string, unknown>[],
  fake: FakeVirtioCrypto,
  body: (daemon: Daemon, sockets: string[]) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "cryptobridge-vms-accel-" });
  const sockets = vms.map((v) => `${dir}/${v["name"]}.sock`);
  const daemon = runDaemon({
    vms: vms.map((v, i) => ({ ...v, socket: sockets[i] })),
    device: "fake",
    openPort: () => fake,
  });
  try {
    await daemon.ready;
    await body(daemon, sockets);
  } finally {
    await daemon.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

async function encryptMany(driver: VirtioCryptoDriver, count: number, seed: number): Promise<number> {
  const id = await driver.createSessionVhost(
    { service: "cipher", algo: CipherAlgo.AES_CBC, key: KEY, op: 1 },
    "B",
  );
  let right = 0;
  for (let i = 0; i < count; i += 8) {
    await Promise.all(Array.from({ length: 8 }, async (_, k) => {
      const n = 16 * (1 + ((i + k) % 32));
      const iv = new Uint8Array(16).map((_, j) => (seed + i + k + j) & 0xff);
      const pt = new Uint8Array(n).map((_, j) => (seed * 7 + i + k + j) & 0xff);
      const parts = buildRequest(cipherRequest(id, true, iv, n), driver.layout, { iv, src_data: pt });
      const c = await driver.submit(0, parts.out, parts.in, { indirect: true });
      if (c.status === Status.OK && toHex(c.in[0]!) === expected(iv, pt)) right++;
    }));
  }
  return right;
}

async function drivers(sockets: readonly string[]): Promise<VirtioCryptoDriver[]> {
  return await Promise.all(sockets.map((path) => VirtioCryptoDriver.open({ path, qemuFeatures: true })));
}

Deno.test("three VMs, two queues: one VM has a queue of its own, two share the other; every output is right", async () => {
  const fake = new FakeVirtioCrypto({ dataQueues: 2 });
  await withVms([{ name: "own" }, { name: "s1" }, { name: "s2" }], fake, async (daemon, sockets) => {
    const ds = await drivers(sockets);
    try {
      const right = await Promise.all(ds.map((d, i) => encryptMany(d, 48, i * 100)));
      assert.deepEqual(right, [48, 48, 48]);
      const snap = await daemon.snapshot();
      for (const vm of snap.vms) {
        assert.ok(vm.router!.accelRequests === 48, `${vm.name}: ${JSON.stringify(vm.router)}`);
      }
      const host = snap.accelerator!;
      const byName = Object.fromEntries(host.vms.map((v) => [v.name, v]));
      assert.deepEqual([byName["own"]!.queue, byName["own"]!.shared], [0, false]);
      assert.deepEqual([byName["s1"]!.queue, byName["s1"]!.shared], [1, true]);
      assert.deepEqual([byName["s2"]!.queue, byName["s2"]!.shared], [1, true]);
    } finally {
      for (const d of ds) await d.close();
    }
  });
});

Deno.test("two VMs with the same guest-physical addresses get IOVAs of their own", async () => {
  const fake = new FakeVirtioCrypto({ dataQueues: 2 });
  await withVms([{ name: "a" }, { name: "b" }], fake, async (_daemon, sockets) => {
    const before = fake.mappings.length;
    const ds = await drivers(sockets);
    try {
      assert.equal(ds[0]!.ram.region.gpa, ds[1]!.ram.region.gpa, "both guests' RAM starts at the same GPA");
      assert.deepEqual(await Promise.all(ds.map((d, i) => encryptMany(d, 8, i))), [8, 8]);
      const ram = fake.mappings.slice(before).filter(([, size]) => size === ds[0]!.ram.size);
      assert.equal(ram.length, 2);
      const [[ia], [ib]] = ram as [[number, number], [number, number]];
      assert.ok(ia + ds[0]!.ram.size <= ib || ib + ds[1]!.ram.size <= ia, `disjoint: ${JSON.stringify(ram)}`);
    } finally {
      for (const d of ds) await d.close();
    }
  });
});

Deno.test("a request pointing at memory only the other VM has never reaches the accelerator", async () => {
  const fake = new FakeVirtioCrypto({ dataQueues: 2 });
  await withVms([{ name: "small" }, { name: "large" }], fake, async (daemon, sockets) => {
    const [large] = await drivers([sockets[1]!]);
    const small = await RawGuest.open({ socket: sockets[0]! } as TestDaemon);
    try {
      await encryptMany(large!, 8, 1);
      const id = await small.createSession();
      const b = cbcBuffers(small, id);
      const outside = small.end(0x1000); // inside the large VM's RAM, outside the small one's
      assert.ok(outside < large!.ram.region.gpa + large!.ram.size);
      const notified = [...fake.notifications];
      const [header, iv, , dst, status] = b.bufs as [Buf, Buf, Buf, Buf, Buf];
      const head = small.chain([header, iv, { gpa: outside, len: 64 }, dst, status], { indirect: true });
      const c = await small.run(head, [dst, status]);
      // The small VM's own memory table has no such address: the chain is refused (used length 0, no status).
      assert.deepEqual({ len: c.len, stray: c.strayWrites }, { len: 0, stray: [] });
      assert.notEqual(statusAt(small, status), Status.OK);
      const snap = await daemon.snapshot();
      assert.equal(snap.vms[0]!.router?.accelRequests ?? 0, 0, "nothing of the small VM went to the device");
      assert.deepEqual(fake.notifications.slice(0, 1), notified.slice(0, 1), "its queue was never rung");
    } finally {
      small.close();
      await large!.close();
    }
  });
});

Deno.test("a VM past its accelerator sessions falls back to software, counted as quota", async () => {
  const fake = new FakeVirtioCrypto({ dataQueues: 2 });
  await withVms([{ name: "capped", accelSessions: 1 }, { name: "free" }], fake, async (daemon, sockets) => {
    const [capped] = await drivers([sockets[0]!]);
    try {
      assert.equal(await encryptMany(capped!, 8, 3), 8);
      assert.equal(await encryptMany(capped!, 8, 4), 8, "the second session is served too, in software");
      const r = (await daemon.snapshot()).vms[0]!.router!;
      assert.equal(r.accelSessions, 1);
      assert.equal(r.fallbacks.quota, 1);
      assert.equal(r.accelRequests, 8);
      assert.equal(r.softwareRequests, 8);
    } finally {
      await capped!.close();
    }
  });
});

Deno.test("a device reset under load with two VMs: no request lost or wrong on either", async () => {
  const fake = new FakeVirtioCrypto({ dataQueues: 2 });
  await withVms([{ name: "x" }, { name: "y" }], fake, async (daemon, sockets) => {
    const ds = await drivers(sockets);
    try {
      const load = ds.map((d, i) => encryptMany(d, 256, i * 31));
      await new Promise((r) => setTimeout(r, 5));
      daemon.accelerator!.injectReset();
      assert.deepEqual(await Promise.all(load), [256, 256]);
      const snap = await daemon.snapshot();
      assert.equal(snap.accelerator!.failures, 1);
      const failed = snap.vms.reduce((n, v) => n + v.router!.fallbacks.failed, 0);
      const software = snap.vms.reduce((n, v) => n + v.router!.softwareRequests, 0);
      assert.ok(
        failed > 0 || software > 0,
        `requests after the reset went to software: ${JSON.stringify(snap.vms)}`,
      );
    } finally {
      for (const d of ds) await d.close();
    }
  });
});
