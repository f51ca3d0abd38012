/**
 * The accelerator's full path on the host: `runDaemon({ engine: "auto", device })` with the host model of a
 * virtio-crypto PCI function (`tests/_fixtures/fake_virtio_crypto.ts`, shaped like QEMU's built-in back-end) in
 * place of VFIO, and a `VirtioCryptoDriver` over the socket. The scenario is the tier-4 guest's
 * (`tests/guest/_accel_scenario.ts`): known answers per path, 300 sessions against a table of 256, a device reset
 * under load. Here it also checks that guest buffers reach the device without copies, through IOVAs of the VM's own.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runDaemon } from "../../src/daemon/daemon.ts";
import { VirtioCryptoDriver } from "../../src/frontend/mod.ts";
import { FakeVirtioCrypto } from "../_fixtures/fake_virtio_crypto.ts";
import { runAccelScenario, scenarioProblems } from "../guest/_accel_scenario.ts";
import { waitFor } from "./_daemon.ts";

Deno.test("daemon with an accelerator: device and software paths, 300 sessions, reset under load, zero copy", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cryptobridge-accel-" });
  const fake = new FakeVirtioCrypto();
  let ramSize = 0;
  const daemon = runDaemon({ socket: `${dir}/vhost.sock`, device: "fake", openPort: () => fake });
  try {
    await daemon.ready;
    assert.ok(daemon.accelerator !== null, "auto with a device: the VM's thread shares the accelerator");
    const driver = await VirtioCryptoDriver.open({ path: daemon.socket });
    ramSize = driver.ram.size;
    try {
      const guestRam = driver.ram;
      const ramMapping = fake.mappings.find(([, size]) => size === guestRam.size);
      assert.ok(ramMapping !== undefined, `guest RAM mapped for DMA: ${JSON.stringify(fake.mappings)}`);
      const report = await runAccelScenario(daemon, driver);
      assert.deepEqual(scenarioProblems(report), [], JSON.stringify(report, null, 2));
      assert.equal(
        (await daemon.stats()).accelerator!.bounced,
        0,
        "every request went to guest RAM directly",
      );
    } finally {
      await driver.close();
    }
    // The daemon sees the disconnect on its own turn of the event loop.
    await waitFor(
      () => !fake.mappings.some(([, size]) => size === ramSize),
      "guest RAM unmapped on disconnect",
    );
  } finally {
    await daemon.stop();
    await Deno.remove(dir, { recursive: true });
  }
  assert.ok(fake.closed, "the daemon closed the accelerator");
});
