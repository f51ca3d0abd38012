/**
 * Tier 4: VFIO for real, in a QEMU (TCG) guest with a virtual Intel IOMMU and QEMU's emulated virtio-crypto-pci
 * (built-in back-end, MSI-X on, `iommu_platform=on` so its DMA is translated by the IOMMU).
 *
 * One boot runs `_vfio_guest.ts` as root in the guest: `cryptobridge list`, `bind`, `info`, a VFIO session that maps
 * DMA, reads the device features through the mapped BAR, enables MSI-X and gets a control-queue answer signalled on
 * an MSI-X eventfd, then `cryptobridge unbind`. The guest writes each step's outcome to the results share; the steps
 * below assert on it.
 *
 * The guest runs the CLI with `--cached-only`: it has no network, so the host's npm cache (the one package the CLI
 * imports, @logtape/logtape) is copied into the guest's DENO_DIR first.
 *
 * Run: deno task test:guest (about 60 s; the guest part is budgeted at 90 s)
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  bootGuest,
  ensureGuestImage,
  type GuestImage,
  type GuestRun,
  qemuArgs,
} from "../../scripts/guest_lab.ts";
import { copyNpmCache, GUEST_DENO_FLAGS, hostNpmCache, readGuestResult } from "./_guest_deno.ts";
import type { GuestStep, VfioGuestResult } from "./_vfio_guest.ts";
import type { SessionReport } from "./_vfio_session.ts";

const RESULT_FILE = "vfio.json";
const GUEST_SCRIPT = "tests/guest/_vfio_guest.ts";

function guestCommand(npm: string): string {
  return [
    copyNpmCache(npm),
    `"$DENO" run ${GUEST_DENO_FLAGS} ${GUEST_SCRIPT} "$GUEST_RESULTS/${RESULT_FILE}"`,
  ].join("\n");
}

function stepOf(result: VfioGuestResult, name: string, run: GuestRun): GuestStep {
  const s = result.steps.find((x) => x.name === name);
  assert.ok(s !== undefined, `the guest did not run step ${name}; its output:\n${run.output}`);
  assert.ok(s.ok, `step ${name} failed in the guest: ${s.error}\n--- guest output ---\n${run.output}`);
  if (s.output !== undefined) console.log(s.output.trimEnd());
  return s;
}

Deno.test("qemuArgs() with iommu: intel-iommu with interrupt remapping before the devices, iommu_platform on the crypto device", () => {
  const image: GuestImage = { kernelVersion: "6.1", kernel: "/k", initrd: "/i", modules: [], cached: true };
  const args = qemuArgs({ command: "true", iommu: true, memoryMiB: 2048 }, image, "/r").join(" ");
  assert.match(args, /-append console=ttyS0 quiet panic=-1 intel_iommu=on /);
  assert.match(args, /-device intel-iommu,intremap=on -virtfs /, "the IOMMU comes before every PCI device");
  assert.match(args, /virtio-crypto-pci,id=crypto0,cryptodev=cd0,iommu_platform=on/);
  assert.ok(!/vectors=0/.test(args), "MSI-X stays on");
  const plain = qemuArgs({ command: "true" }, image, "/r").join(" ");
  assert.ok(!/iommu/.test(plain), "other guest tests boot as before");
});

Deno.test("guest: cryptobridge list, bind, info, a VFIO session with DMA and MSI-X, and unbind, on virtio-crypto-pci behind an IOMMU", async (t) => {
  const image = await ensureGuestImage();
  await using run = await bootGuest({
    image,
    iommu: true,
    memoryMiB: 2048,
    extraArgs: ["-smp", "2"],
    command: guestCommand(await hostNpmCache()),
    timeoutMs: 150_000,
  });
  console.log(`guest (tier 4): exit ${run.exitCode} after ${run.durationMs} ms`);
  const result = readGuestResult<VfioGuestResult>(run, RESULT_FILE);
  const bdf = result.bdf ?? "";

  await t.step("list --json finds the virtio-crypto function (1af4:1054) on virtio-pci", () => {
    const s = stepOf(result, "list", run);
    assert.match(bdf, /^0000:00:0[0-9a-f]\.0$/);
    assert.equal(s.details?.["driverBefore"], "virtio-pci");
  });

  await t.step("bind moves it to vfio-pci and /dev/vfio/<group> appears", () => {
    const s = stepOf(result, "bind", run);
    assert.equal(s.details?.["driverAfter"], "vfio-pci");
    assert.ok(
      (s.details?.["devVfio"] as string[]).some((n) => /^\d+$/.test(n)),
      "no group node in /dev/vfio",
    );
  });

  await t.step("info shows the BARs and the virtio-pci capabilities", () => {
    const s = stepOf(result, "info", run);
    const info = s.details?.["info"] as {
      regions: { name: string; size: number }[];
      virtio: { caps: { typeName: string; notifyOffMultiplier?: number }[]; featureNames: string[] };
    };
    assert.ok(info.regions.some((r) => r.name === "BAR4" && r.size > 0), "no BAR4");
    const types = info.virtio.caps.map((c) => c.typeName);
    for (const t of ["common", "notify", "isr", "device"]) assert.ok(types.includes(t), `no ${t} capability`);
    assert.ok(info.virtio.caps.find((c) => c.typeName === "notify")!.notifyOffMultiplier! > 0);
    assert.ok(info.virtio.featureNames.includes("VERSION_1"));
  });

  await t.step(
    "VFIO session: DMA map/unmap, VERSION_1 through the BAR, MSI-X fires for a control request",
    () => {
      const s = stepOf(result, "vfio-session", run);
      const r = s.details as unknown as SessionReport;
      console.log(JSON.stringify(r, null, 2));
      assert.equal(r.path, "legacy");
      assert.ok(r.probeIova > 0 && r.probeUnmapped, "the probe buffer was not mapped and unmapped");
      assert.ok(r.version1, "device_feature lacks VERSION_1");
      assert.equal(r.statusAfterDriverOk, 0xf, "ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK");
      assert.ok(BigInt(r.msixQueueCount) > 0n, "MSI-X vector 1 did not fire");
      assert.equal(r.usedLen, 16, "the used ring does not hold the 16-byte session input");
      assert.equal(r.sessionStatus, 0, "CREATE_SESSION status is not OK");
    },
  );

  await t.step("unbind gives it back to virtio-pci", () => {
    const s = stepOf(result, "unbind", run);
    assert.equal(s.details?.["driverAfter"], "virtio-pci");
    assert.equal(run.exitCode, 0, run.output);
  });
});
