/**
 * Test fixture: the daemon with the QAT gen4 VF model (tests/_fixtures/fake_qat_vf.ts, a test double: no host
 * here has a QAT) as its accelerator, as `serve --device` serves a QAT VF: the VF on the main thread (`QatHost`),
 * each VM on its own thread driving a ring pair of its own (`QatClient`); its control socket and metrics
 * endpoint, and the project's own vhost-user front-end connected over a real unix socket with memfd guest RAM. The
 * model runs its ring arbiter on a 1 ms timer on the main thread (reading the rings from host memory, so the VM
 * thread's rings work with it) and raises its bundle's MSI-X eventfd, so completions reach the VM thread's
 * reactor by interrupt, as on hardware.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ControlClient } from "../../src/control/client.ts";
import type { AcceleratorReport, StatsReport, StatusReport, VmStats } from "../../src/control/mod.ts";
import { type Daemon, runDaemon } from "../../src/daemon/daemon.ts";
import { type HostServices, startHostServices } from "../../src/daemon/host_services.ts";
import { VirtioCryptoDriver } from "../../src/frontend/mod.ts";
import type { RouterStats } from "../../src/engine/router.ts";
import { FakeQatVf } from "../_fixtures/fake_qat_vf.ts";

/** The address the daemon is told its QAT VF has (the model stands behind it). */
export const QAT_BDF = "0000:3d:00.1";

/** A daemon on the QAT model, its control socket, a connected front-end; disposing tears all down. */
export interface QatRig extends AsyncDisposable {
  readonly model: FakeQatVf;
  readonly daemon: Daemon;
  readonly services: HostServices;
  readonly driver: VirtioCryptoDriver;
  readonly client: ControlClient;
  /** `status` over the control socket: the accelerator's report, checked to be there. */
  accelerator(): Promise<AcceleratorReport>;
  /** `stats` over the control socket: the one VM's counters. */
  vmStats(): Promise<VmStats>;
  /** A scrape of the metrics endpoint. */
  scrape(): Promise<string>;
  /** The one VM's router counters (from its thread's snapshot). */
  router(): Promise<RouterStats>;
}

/**
 * Starts the rig.
 *
 * @returns The rig, the front-end connected (features and memory table set).
 */
export async function startQatRig(): Promise<QatRig> {
  const dir = await Deno.makeTempDir({ prefix: "cb-qat-e2e-" });
  const model = new FakeQatVf();
  model.start();
  const daemon = runDaemon({
    vms: [{ name: "vm1", socket: `${dir}/vm1.sock` }],
    device: QAT_BDF,
    openQatPort: () => model,
    logLevel: "warning",
  });
  let services: HostServices | null = null;
  let driver: VirtioCryptoDriver | null = null;
  let client: ControlClient | null = null;
  const close = async (): Promise<void> => {
    client?.close();
    await driver?.close();
    await services?.close("test done");
    await daemon.stop(); // closes the host, which closes the model (it owns the port)
    model.close();
    await Deno.remove(dir, { recursive: true });
  };
  try {
    await daemon.ready;
    services = await startHostServices(daemon, {
      control: `${dir}/control.sock`,
      metrics: "127.0.0.1:0",
      device: QAT_BDF,
      logLevel: "warning",
      configureMainLogging: () => Promise.resolve(),
      notifier: null,
    });
    driver = await VirtioCryptoDriver.open({ path: `${dir}/vm1.sock` });
    client = await ControlClient.connect(`${dir}/control.sock`);
  } catch (e) {
    await close();
    throw e;
  }
  return withQueries({ model, daemon, services, driver, client: client!, close });
}

// The report queries over the control socket and the metrics endpoint.
function withQueries(
  parts: Omit<QatRig, "accelerator" | "vmStats" | "scrape" | "router" | typeof Symbol.asyncDispose> & {
    readonly close: () => Promise<void>;
  },
): QatRig {
  const c = parts.client;
  return {
    ...parts,
    accelerator: async () => {
      const status = await c.call<StatusReport>("status");
      assert.notEqual(status.accelerator, null, "status names no accelerator");
      return status.accelerator!;
    },
    vmStats: async () => (await c.call<StatsReport>("stats")).vms[0]!,
    scrape: async () => await (await fetch(`http://${parts.services.metrics}/metrics`)).text(),
    router: async () => {
      const router = (await parts.daemon.snapshot()).vms[0]!.router;
      assert.notEqual(router, null, "the VM has no router");
      return router!;
    },
    [Symbol.asyncDispose]: parts.close,
  };
}
