/**
 * Runs inside the tier-4 guest after `_accel_guest.ts`: two VMs on one daemon sharing QEMU's emulated
 * virtio-crypto-pci through VFIO (issue 10). QEMU's built-in back-end has one data queue, so both VMs share it:
 * the daemon's main thread drives it for them round-robin while each VM is served on its own Worker.
 *
 * Checks: both VMs' AES-CBC known answers come back right and are served by the device (each VM's router
 * counters), concurrently; a session id of one VM is refused (INVSESS) on the other; the accelerator's counters
 * show the two VMs on the shared queue.
 *
 * Usage (in the guest): deno run --no-check --no-lock --cached-only -A tests/guest/_accel_two_vms.ts BDF RESULT.json
 *
 * @module
 */

import { runDaemon } from "../../src/daemon/daemon.ts";
import { configureLogging } from "../../src/logging/logging.ts";
import { VirtioCryptoDriver } from "../../src/frontend/mod.ts";
import { CBC, type Check, Io } from "./_accel_scenario.ts";

/** The result file. */
export interface TwoVmsResult {
  readonly checks: Check[];
  readonly accelerator: unknown;
  readonly error: string | null;
}

async function twoVms(bdf: string, checks: Check[]): Promise<unknown> {
  const sockets = ["/run/cryptobridge-vm1.sock", "/run/cryptobridge-vm2.sock"];
  const daemon = runDaemon({
    vms: sockets.map((socket, i) => ({ name: `vm${i + 1}`, socket })),
    device: bdf,
  });
  try {
    await daemon.ready;
    const drivers = await Promise.all(sockets.map((path) => VirtioCryptoDriver.open({ path })));
    try {
      const io = drivers.map((d) => new Io(d));
      const ids = await Promise.all(io.map((x) => x.session(x.cbcSpec(1))));
      const results = await Promise.all(
        io.map((x, v) => Promise.all(Array.from({ length: 16 }, () => x.cbc(ids[v]!, true)))),
      );
      const right = results.map((r) => r.filter((x) => x.status === 0 && x.out === CBC.ciphertext).length);
      checks.push({
        name: "both VMs' AES-CBC known answers, concurrently",
        ok: right.every((n) => n === 16),
        detail: `${right}`,
      });
      const snap = await daemon.snapshot();
      const onDevice = snap.vms.map((v) => v.router?.accelRequests ?? 0);
      checks.push({
        name: "both VMs served by the device",
        ok: onDevice.every((n) => n >= 16),
        detail: `${onDevice}`,
      });
      const shared = snap.accelerator?.vms.filter((v) => v.shared).length ?? 0;
      checks.push({
        name: "the two VMs share the device's one queue",
        ok: shared === 2,
        detail: JSON.stringify(snap.accelerator),
      });
      const extra = await io[0]!.session(io[0]!.cbcSpec(1)); // vm1's second session: vm2 has no such id
      const other = await io[1]!.cbc(extra, true);
      checks.push({
        name: "a session id only vm1 has is INVSESS on vm2",
        ok: other.status === 4 && extra > ids[1]!,
        detail: `id ${extra}, status ${other.status}`,
      });
      return snap.accelerator;
    } finally {
      for (const d of drivers) await d.close();
    }
  } finally {
    await daemon.stop();
  }
}

async function main(bdf: string, resultPath: string): Promise<number> {
  await configureLogging("info");
  const checks: Check[] = [];
  let result: TwoVmsResult;
  try {
    result = { checks, accelerator: await twoVms(bdf, checks), error: null };
  } catch (e) {
    result = { checks, accelerator: null, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
  Deno.writeTextFileSync(resultPath, JSON.stringify(result, null, 2));
  return result.error === null && checks.every((c) => c.ok) ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main(Deno.args[0]!, Deno.args[1] ?? "/run/results/two_vms.json"));
