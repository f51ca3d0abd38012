/**
 * `serve --route` through the daemon, with the virtio-crypto PCI model as the accelerator (tests/_fixtures, a test
 * double: no host here has the device) and the VM on its Worker: `software` routes every session to software and
 * counts it; `fastest` calibrates in the VM's thread at start, publishes its thresholds in the VM's stats, and
 * then routes each request by them (the assertion follows the published threshold, whatever the machine measured:
 * no timing is asserted).
 *
 * @module
 */

import assert from "node:assert/strict";
import { runDaemon } from "../../src/daemon/daemon.ts";
import type { RoutePolicy } from "../../src/engine/mod.ts";
import type { RouterStats } from "../../src/engine/router.ts";
import { cipherRequest, VirtioCryptoDriver } from "../../src/frontend/mod.ts";
import { CipherAlgo, Status } from "../../src/spec/virtio_crypto.ts";
import { FakeVirtioCrypto } from "../_fixtures/fake_virtio_crypto.ts";
import { send } from "../integration/_daemon.ts";

const KEY = new Uint8Array(16).fill(7);
const CBC = `cipher/${CipherAlgo.AES_CBC}`;

async function withDaemon(
  route: RoutePolicy,
  body: (driver: VirtioCryptoDriver, router: () => Promise<RouterStats>) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "cb-route-" });
  const fake = new FakeVirtioCrypto({ dataQueues: 2 });
  const daemon = runDaemon({
    vms: [{ name: "vm1", socket: `${dir}/vm1.sock` }],
    device: "fake",
    openPort: () => fake,
    route,
    logLevel: "warning",
  });
  await daemon.ready;
  const driver = await VirtioCryptoDriver.open({ path: `${dir}/vm1.sock`, qemuFeatures: true });
  const router = async () => (await daemon.snapshot()).vms[0]!.router!;
  try {
    await body(driver, router);
  } finally {
    await driver.close();
    await daemon.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

async function encrypt(d: VirtioCryptoDriver, n: number): Promise<void> {
  const id = await d.createSessionVhost(
    { service: "cipher", algo: CipherAlgo.AES_CBC, key: KEY, op: 1 },
    "B",
  );
  const iv = new Uint8Array(16);
  for (let i = 0; i < n; i++) {
    const r = await send(d, cipherRequest(id, true, iv, 64), { iv, src_data: new Uint8Array(64) });
    assert.equal(r.status, Status.OK);
  }
}

Deno.test("serve --route software: the accelerator is open but every session is in software, counted", async () => {
  await withDaemon("software", async (driver, router) => {
    await encrypt(driver, 3);
    const r = await router();
    assert.equal(r.policy, "software");
    assert.equal(r.fallbacks["policy-software"], 1);
    assert.equal(r.accelSessions, 0);
    assert.equal(r.accelRequests, 0);
    assert.equal(r.softwareRequests, 3);
  });
});

Deno.test("serve --route fastest: calibrated at start, thresholds in the stats, requests routed by them", async () => {
  await withDaemon("fastest", async (driver, router) => {
    const deadline = Date.now() + 20_000;
    let r = await router();
    while (!(CBC in r.thresholds)) {
      if (Date.now() > deadline) throw new Error("the calibration did not finish within 20 s");
      await new Promise((resolve) => setTimeout(resolve, 50));
      r = await router();
    }
    assert.equal(r.policy, "fastest");
    // The model advertises SHA-1 but refuses its sessions (as QEMU's built-in back-end): not measured.
    assert.deepEqual(Object.keys(r.thresholds), [CBC]);
    await encrypt(driver, 4);
    r = await router();
    const threshold = r.thresholds[CBC];
    const toSoftware = threshold === null || threshold! > 64;
    assert.equal(r.fallbacks["software-faster"], toSoftware ? 4 : 0);
    assert.equal(r.accelRequests, toSoftware ? 0 : 4);
    assert.equal(r.accelSessions, 1);
  });
});
