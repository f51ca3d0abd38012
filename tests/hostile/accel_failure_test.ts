// The accelerator failing under load (issue 14, item 7): DEVICE_NEEDS_RESET raised by the device, and a device
// that vanishes (status reads all-ones), while two VMs keep requests in flight. Every request completes with the
// right output: what the accelerator held is given back and served in software. (A reset behind the daemon's
// back is tests/integration/workers_accel_test.ts.) The accelerator is the device model of
// tests/_fixtures/fake_virtio_crypto.ts; QEMU's real device is in the guest tests.

import assert from "node:assert/strict";
import { createCipheriv } from "node:crypto";
import { CipherAlgo, Status } from "../../src/spec/virtio_crypto.ts";
import { runDaemon } from "../../src/daemon/daemon.ts";
import { buildRequest, cipherRequest, VirtioCryptoDriver } from "../../src/frontend/mod.ts";
import { FakeVirtioCrypto } from "../_fixtures/fake_virtio_crypto.ts";

const KEY = new Uint8Array(16).map((_, i) => 0x41 + i);

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function expected(iv: Uint8Array, pt: Uint8Array): string {
  const c = createCipheriv("aes-128-cbc", KEY, iv).setAutoPadding(false);
  return Buffer.concat([c.update(pt), c.final()]).toString("hex");
}

/** `count` requests, 8 in flight at a time; returns how many came back OK and right. */
async function encryptMany(driver: VirtioCryptoDriver, count: number, seed: number): Promise<number> {
  const id = await driver.createSessionVhost(
    { service: "cipher", algo: CipherAlgo.AES_CBC, key: KEY, op: 1 },
    "B",
  );
  let right = 0;
  for (let i = 0; i < count; i += 8) {
    await Promise.all(Array.from({ length: 8 }, async (_, k) => {
      const n = 16 * (1 + ((i + k) % 16));
      const iv = new Uint8Array(16).map((_, j) => (seed + i + k + j) & 0xff);
      const pt = new Uint8Array(n).map((_, j) => (seed * 3 + i + k + j) & 0xff);
      const parts = buildRequest(cipherRequest(id, true, iv, n), driver.layout, { iv, src_data: pt });
      const c = await driver.submit(0, parts.out, parts.in, { indirect: true });
      if (c.status === Status.OK && hex(c.in[0]!) === expected(iv, pt)) right++;
    }));
  }
  return right;
}

for (
  const [what, fail] of [
    ["raises DEVICE_NEEDS_RESET", (f: FakeVirtioCrypto) => f.needsReset()],
    ["vanishes (surprise removal)", (f: FakeVirtioCrypto) => f.vanish()],
  ] as const
) {
  Deno.test(`faults: an accelerator that ${what} under load from two VMs loses no request`, async () => {
    const fake = new FakeVirtioCrypto({ dataQueues: 2 });
    const dir = await Deno.makeTempDir({ prefix: "cryptobridge-accel-fail-" });
    const sockets = [`${dir}/x.sock`, `${dir}/y.sock`];
    const daemon = runDaemon({
      vms: [{ name: "x", socket: sockets[0] }, { name: "y", socket: sockets[1] }],
      device: "fake",
      openPort: () => fake,
    });
    try {
      await daemon.ready;
      const ds = await Promise.all(
        sockets.map((path) => VirtioCryptoDriver.open({ path, qemuFeatures: true })),
      );
      try {
        const load = ds.map((d, i) => encryptMany(d, 192, 17 * i));
        await new Promise((r) => setTimeout(r, 5));
        fail(fake);
        assert.deepEqual(await Promise.all(load), [192, 192], "every request came back right");
        const snap = await daemon.snapshot();
        const software = snap.vms.reduce((n, v) => n + v.router!.softwareRequests, 0);
        assert.ok(software > 0, `requests after the failure went to software: ${JSON.stringify(snap.vms)}`);
      } finally {
        for (const d of ds) await d.close();
      }
    } finally {
      await daemon.stop();
      await Deno.remove(dir, { recursive: true });
    }
  });
}
