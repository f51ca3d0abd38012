/**
 * The host services over a daemon with an accelerator (the virtio-crypto PCI model of tests/_fixtures, a test
 * double: no host here has the device) and its VM on a Worker: the control socket's status and stats, and the
 * metrics, name the accelerator path; `accelerator.reset` over the real socket resets it (requests go on in
 * software), and the scrape then shows the failure and the reset, and still passes promtool.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ControlClient } from "../../src/control/client.ts";
import type { AcceleratorReport, StatsReport, StatusReport } from "../../src/control/mod.ts";
import { runDaemon } from "../../src/daemon/daemon.ts";
import { startHostServices } from "../../src/daemon/host_services.ts";
import { cipherRequest, VirtioCryptoDriver } from "../../src/frontend/mod.ts";
import { CipherAlgo, Status } from "../../src/spec/virtio_crypto.ts";
import { FakeVirtioCrypto } from "../_fixtures/fake_virtio_crypto.ts";
import { send, waitFor } from "../integration/_daemon.ts";
import { hasPromtool, parseExposition, promtoolCheck, valueOf } from "../metrics/_parse.ts";

const KEY = new Uint8Array(16).fill(7);

async function encrypt(d: VirtioCryptoDriver, id: bigint, n: number): Promise<void> {
  const iv = new Uint8Array(16);
  for (let i = 0; i < n; i++) {
    assert.equal(
      (await send(d, cipherRequest(id, true, iv, 64), { iv, src_data: new Uint8Array(64) })).status,
      Status.OK,
    );
  }
}

async function scrape(address: string): Promise<string> {
  return await (await fetch(`http://${address}/metrics`)).text();
}

Deno.test("with an accelerator: status, stats and metrics name its path; accelerator.reset shows in the scrape", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cb-host-accel-" });
  const fake = new FakeVirtioCrypto({ dataQueues: 2 });
  const daemon = runDaemon({
    vms: [{ name: "vm1", socket: `${dir}/vm1.sock` }],
    device: "fake",
    openPort: () => fake,
    logLevel: "warning",
  });
  await daemon.ready;
  const services = await startHostServices(daemon, {
    control: `${dir}/control.sock`,
    metrics: "127.0.0.1:0",
    device: "0000:00:04.0",
    logLevel: "warning",
    configureMainLogging: () => Promise.resolve(),
    notifier: null,
  });
  const driver = await VirtioCryptoDriver.open({ path: `${dir}/vm1.sock`, qemuFeatures: true });
  using client = await ControlClient.connect(`${dir}/control.sock`);
  try {
    const id = await driver.createSessionVhost({
      service: "cipher",
      algo: CipherAlgo.AES_CBC,
      key: KEY,
      op: 1,
    }, "B");
    await encrypt(driver, id, 10);
    const status = await client.call<StatusReport>("status");
    assert.equal(status.accelerator?.state, "ready");
    assert.equal(status.engines[0]?.role, "accelerator");
    const stats = await client.call<StatsReport>("stats");
    assert.deepEqual(stats.vms[0]?.byPath.accelerator, { requests: 10, sessions: 1 });
    const before = parseExposition(await scrape(services.metrics!));
    const ok = { vm: "vm1", service: "cipher", algorithm: "AES-CBC", path: "accelerator", status: "ok" };
    assert.equal(valueOf(before, "cryptobridge_requests_total", "cryptobridge_requests_total", ok), 10);
    assert.equal(
      valueOf(before, "cryptobridge_accelerator_up", "cryptobridge_accelerator_up", {
        device: "0000:00:04.0",
      }),
      1,
    );

    const reset = await client.call<AcceleratorReport>("accelerator.reset");
    assert.equal(reset.device, "0000:00:04.0");
    await encrypt(driver, id, 4); // re-run in software if the accelerator is down: every request still OK
    await waitFor(() => daemon.accelerator!.stats().failures >= 1, "the reset seen as a failure", 5000);
    const after = await scrape(services.metrics!);
    const p = parseExposition(after);
    assert.ok(
      valueOf(p, "cryptobridge_accelerator_failures_total", "cryptobridge_accelerator_failures_total", {
        device: "0000:00:04.0",
      })! >= 1,
    );
    const total = ["accelerator", "software"].reduce(
      (a, path) =>
        a + (valueOf(p, "cryptobridge_requests_total", "cryptobridge_requests_total", { ...ok, path }) ?? 0),
      0,
    );
    assert.equal(total, 14, "every request counted once, on one path or the other");
    if (hasPromtool()) assert.equal(await promtoolCheck(after), "");
  } finally {
    client.close();
    await driver.close();
    await services.close("test done");
    await daemon.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
