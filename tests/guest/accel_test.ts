/**
 * Tier 4, the accelerator for real: one boot of the QEMU (TCG) guest with a virtual Intel IOMMU and QEMU's
 * emulated virtio-crypto-pci (built-in back-end, MSI-X, `iommu_platform=on`). Inside the guest, as root:
 *
 * 1. `_accel_guest.ts`: the daemon binds the function to vfio-pci, drives it as its accelerator and serves
 *    vhost-user in the guest; a `VirtioCryptoDriver` runs the accelerator scenario over it (`_accel_scenario.ts`):
 *    AES-CBC served by the device, SHA-256, HMAC-SHA256, AES-GCM and a chain served in software (the router's
 *    counters prove both), 300 sessions against the device's 256, a device reset under load.
 * 2. `deno test tests/hw/virtio_pci_engine_test.ts` with `CRYPTOBRIDGE_TEST_BDF`: the engine conformance suite
 *    on the device, plus the MSI-X path; its JUnit report comes back through the results share.
 * 3. `_accel_two_vms.ts`: two VMs on one daemon share the device (its one data queue, driven round-robin by the
 *    daemon's main thread), each VM on its own Worker.
 *
 * The guest has no network: Deno runs with `--cached-only` on a copy of the host's npm cache (as vfio_test.ts).
 *
 * Run: deno task test:guest (this boot: about 2 minutes under TCG)
 *
 * @module
 */

import assert from "node:assert/strict";
import { bootGuest, ensureGuestImage } from "../../scripts/guest_lab.ts";
import { copyNpmCache, GUEST_DENO_FLAGS, hostNpmCache, readGuestResult } from "./_guest_deno.ts";
import { summarize } from "../../scripts/ci_summary.ts";
import type { AccelGuestResult } from "./_accel_guest.ts";
import type { TwoVmsResult } from "./_accel_two_vms.ts";
import { scenarioProblems } from "./_accel_scenario.ts";

const RESULT_FILE = "accel.json";
const HW_REPORT = "hw.xml";
const TWO_VMS_FILE = "two_vms.json";

function guestCommand(npm: string): string {
  const run = `"$DENO" run ${GUEST_DENO_FLAGS}`;
  const test = `"$DENO" test ${GUEST_DENO_FLAGS} --junit-path="$GUEST_RESULTS/${HW_REPORT}"`;
  return [
    copyNpmCache(npm),
    `${run} tests/guest/_accel_guest.ts "$GUEST_RESULTS/${RESULT_FILE}"; scenario=$?`,
    `bdf=$(cat "$GUEST_RESULTS/accel.bdf" 2>/dev/null) || exit 91`,
    `CRYPTOBRIDGE_TEST_BDF=$bdf ${test} tests/hw/virtio_pci_engine_test.ts; hw=$?`,
    `${run} tests/guest/_accel_two_vms.ts "$bdf" "$GUEST_RESULTS/${TWO_VMS_FILE}"; two=$?`,
    `echo "scenario exit $scenario, conformance exit $hw, two VMs exit $two"`,
    `exit $((scenario | hw | two))`,
  ].join("\n");
}

Deno.test("guest: the bridge drives QEMU's virtio-crypto-pci through VFIO as its accelerator", async (t) => {
  const image = await ensureGuestImage();
  await using run = await bootGuest({
    image,
    iommu: true,
    memoryMiB: 2048,
    extraArgs: ["-smp", "2"],
    command: guestCommand(await hostNpmCache()),
    timeoutMs: 240_000,
  });
  console.log(`guest (tier 4, accelerator): exit ${run.exitCode} after ${run.durationMs} ms`);
  const result = readGuestResult<AccelGuestResult>(run, RESULT_FILE);

  await t.step("the daemon bound the function to vfio-pci and started it as its accelerator", () => {
    assert.equal(result.error, null, `${result.error}\n--- guest output ---\n${run.output}`);
    assert.equal(result.driverBefore, "virtio-pci");
    assert.equal(result.driverServing, "vfio-pci");
    assert.match(result.engine ?? "", /^virtio-crypto 0000:/);
  });

  await t.step("scenario: device and software paths by counters, 300 sessions, reset under load", () => {
    const report = result.report!;
    for (const c of report.checks) console.log(`${c.ok ? "ok  " : "FAIL"} ${c.name} ${c.detail}`);
    console.log(`ms: ${JSON.stringify(report.ms)}\ncounters: ${JSON.stringify(result.stopped)}`);
    assert.deepEqual(scenarioProblems(report, 256), [], `\n--- guest output ---\n${run.output}`);
  });

  await t.step("the engine conformance suite passes on the device for everything it claims", () => {
    const summary = summarize([`${run.resultsDir}/${HW_REPORT}`]);
    console.log(`conformance on the device: ${summary.line}`);
    assert.ok(summary.passed >= 20, `too few conformance tests ran: ${summary.line}\n${run.output}`);
    assert.equal(summary.failed, 0, `${summary.line}\n--- guest output ---\n${run.output}`);
    assert.equal(run.exitCode, 0, run.output);
  });

  await t.step(
    "two VMs share the device: both served by it, concurrently, each VM's sessions its own",
    () => {
      const two = readGuestResult<TwoVmsResult>(run, TWO_VMS_FILE);
      for (const c of two.checks) console.log(`${c.ok ? "ok  " : "FAIL"} ${c.name} ${c.detail}`);
      assert.equal(two.error, null, `${two.error}\n--- guest output ---\n${run.output}`);
      assert.ok(two.checks.length >= 4 && two.checks.every((c) => c.ok), run.output);
    },
  );
});
