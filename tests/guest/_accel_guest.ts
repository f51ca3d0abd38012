/**
 * Runs inside the tier-4 guest (booted by `accel_test.ts`), as root: the bridge with QEMU's emulated
 * virtio-crypto-pci as its accelerator, for real.
 *
 * 1. Finds the function (1af4:1054) on virtio-pci.
 * 2. `runDaemon({ device, engine: "auto" })`: the daemon binds it to vfio-pci itself, opens it through VFIO
 *    (virtual Intel IOMMU), starts it with MSI-X in its reactor, and serves vhost-user on a socket in the guest.
 * 3. A `VirtioCryptoDriver` (what QEMU and a guest driver do) connects and runs the accelerator scenario
 *    (`_accel_scenario.ts`): known answers on both paths, 300 sessions, a device reset under load.
 * 4. The daemon stops; the function stays on vfio-pci for the conformance run that follows (`tests/hw/`).
 *
 * Writes its report to the JSON file named by the first argument, and the function's address next to it
 * (`accel.bdf`, for the shell that starts the conformance run).
 *
 * Usage (in the guest): deno run --no-check --no-lock --cached-only -A tests/guest/_accel_guest.ts RESULT.json
 *
 * @module
 */

import { runDaemon } from "../../src/daemon/daemon.ts";
import { configureLogging } from "../../src/logging/logging.ts";
import { VirtioCryptoDriver } from "../../src/frontend/mod.ts";
import { Sysfs } from "../../src/os/mod.ts";
import { currentDriver, listPciFunctions } from "../../src/pci/mod.ts";
import { runAccelScenario, type ScenarioReport } from "./_accel_scenario.ts";

/** The result file. */
export interface AccelGuestResult {
  readonly bdf: string | null;
  readonly driverBefore: string | null;
  /** The function's driver while the daemon ran (the daemon bound it). */
  readonly driverServing: string | null;
  readonly engine: string | null;
  readonly report: ScenarioReport | null;
  /** What `cryptobridge serve` prints when it stops. */
  readonly stopped: unknown;
  readonly error: string | null;
  readonly ms: number;
}

async function main(resultPath: string): Promise<number> {
  const t0 = performance.now();
  await configureLogging("info");
  const sysfs = new Sysfs();
  const fn = listPciFunctions(sysfs).find((f) => f.vendor === 0x1af4 && f.device === 0x1054);
  let result: AccelGuestResult = {
    bdf: fn?.bdf ?? null,
    driverBefore: fn === undefined ? null : currentDriver(sysfs, fn.bdf),
    driverServing: null,
    engine: null,
    report: null,
    stopped: null,
    error: fn === undefined ? "no virtio-crypto function (1af4:1054) in the guest" : null,
    ms: 0,
  };
  if (fn !== undefined) {
    Deno.writeTextFileSync(resultPath.replace(/[^/]*$/, "accel.bdf"), fn.bdf);
    result = { ...result, ...await serveAndRun(fn.bdf, sysfs) };
  }
  Deno.writeTextFileSync(
    resultPath,
    JSON.stringify({ ...result, ms: Math.round(performance.now() - t0) }, null, 2),
  );
  return result.error === null ? 0 : 1;
}

async function serveAndRun(bdf: string, sysfs: Sysfs): Promise<Partial<AccelGuestResult>> {
  const daemon = runDaemon({ socket: "/run/cryptobridge-accel.sock", device: bdf, engine: "auto" });
  const out: { -readonly [K in keyof AccelGuestResult]?: AccelGuestResult[K] } = {
    driverServing: currentDriver(sysfs, bdf),
    engine: daemon.accelerator?.name ?? null,
  };
  try {
    await daemon.ready;
    const driver = await VirtioCryptoDriver.open({ path: daemon.socket });
    try {
      out.report = await runAccelScenario(daemon, driver);
    } finally {
      await driver.close();
    }
  } catch (e) {
    out.error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  } finally {
    out.stopped = await daemon.stats().catch(() => null);
    await daemon.stop();
  }
  return out;
}

if (import.meta.main) Deno.exit(await main(Deno.args[0] ?? "/run/results/accel.json"));
