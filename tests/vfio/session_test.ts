/**
 * What can be checked of the VFIO fd classes without /dev/vfio: path choice, the errors for a missing VFIO, an
 * unbound function, a no-IOMMU group, the iommufd argument encoding. VFIO itself runs in the tier-4 guest test.
 *
 * @module
 */

import assert from "node:assert/strict";
import { IommuIoasIovaRanges, IommuIoasMap } from "../../ffi/vfio_structs.ts";
import { encodeIommuIoasMap } from "../../ffi/vfio_structs.ts";
import { Sysfs } from "../../src/os/mod.ts";
import {
  chooseVfioPath,
  decodeIoasRanges,
  Iommufd,
  VfioContainer,
  VfioError,
  VfioGroup,
  VfioSession,
} from "../../src/vfio/mod.ts";
import { buildFakeSysfs, TEST_MACHINE } from "../pci/_fake_sysfs.ts";

Deno.test("chooseVfioPath() takes iommufd only when /dev/iommu and the function's cdev both exist", () => {
  assert.equal(chooseVfioPath({ iommufd: true, cdev: "vfio0", forceLegacy: false }), "iommufd");
  assert.equal(
    chooseVfioPath({ iommufd: true, cdev: null, forceLegacy: false }),
    "legacy",
    "Linux 6.1: no cdev",
  );
  assert.equal(chooseVfioPath({ iommufd: false, cdev: "vfio0", forceLegacy: false }), "legacy");
  assert.equal(chooseVfioPath({ iommufd: true, cdev: "vfio0", forceLegacy: true }), "legacy");
});

Deno.test("encodeIommuIoasMap() fills a 40-byte iommu_ioas_map with a fixed, readable, writable IOVA", () => {
  const v = new DataView(new ArrayBuffer(IommuIoasMap.SIZE));
  encodeIommuIoasMap(v, 7, { ioasId: 3, userVa: 0x7f12_3456_7000, length: 0x20_0000, iova: 0x1_0000_0000 });
  assert.equal(v.getUint32(0, true), 40);
  assert.equal(v.getUint32(4, true), 7);
  assert.equal(v.getUint32(8, true), 3);
  assert.equal(v.getBigUint64(16, true), 0x7f12_3456_7000n);
  assert.equal(v.getBigUint64(24, true), 0x20_0000n);
  assert.equal(v.getBigUint64(32, true), 0x1_0000_0000n);
});

Deno.test("decodeIoasRanges() reads the ranges the kernel filled and the IOVA alignment", () => {
  const arg = new DataView(new ArrayBuffer(IommuIoasIovaRanges.SIZE));
  arg.setUint32(IommuIoasIovaRanges.NUM_IOVAS, 2, true);
  arg.setBigUint64(IommuIoasIovaRanges.OUT_IOVA_ALIGNMENT, 4096n, true);
  const ranges = new Uint8Array(4 * 16);
  const r = new DataView(ranges.buffer);
  r.setBigUint64(0, 0n, true);
  r.setBigUint64(8, 0xfedf_ffffn, true);
  r.setBigUint64(16, 0xfef0_0000n, true);
  r.setBigUint64(24, 0xff_ffff_ffffn, true);
  assert.deepEqual(decodeIoasRanges(arg, ranges), {
    ranges: [{ start: 0, end: 0xfedf_ffff }, { start: 0xfef0_0000, end: 0xff_ffff_ffff }],
    alignment: 4096,
  });
});

Deno.test("VfioContainer, VfioGroup and Iommufd say what is missing when their device file does not exist", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const unavailable = (e: unknown): boolean => e instanceof VfioError && e.kind === "unavailable";
    assert.throws(
      () => VfioContainer.open(`${dir}/vfio`),
      (e: unknown) => unavailable(e) && /load the vfio-pci module/.test((e as Error).message),
    );
    assert.throws(
      () => VfioGroup.open(`${dir}/4`),
      (e: unknown) => unavailable(e) && /bind the function to vfio-pci/.test((e as Error).message),
    );
    assert.throws(() => Iommufd.open(`${dir}/iommu`), unavailable);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("VfioSession.open() refuses a function that is not on vfio-pci, naming the bind command", () => {
  const root = buildFakeSysfs(TEST_MACHINE);
  try {
    assert.throws(
      () => VfioSession.open("0000:00:04.0", { sysfs: new Sysfs(root), dev: `${root}/dev` }),
      (e: unknown) =>
        e instanceof VfioError && e.kind === "unavailable" &&
        e.message.includes("it is on virtio-pci: run `cryptobridge bind 0000:00:04.0` first"),
    );
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("VfioSession.open() refuses a no-IOMMU group (DMA would need physical addresses)", () => {
  const root = buildFakeSysfs(TEST_MACHINE);
  try {
    const dev = `${root}/bus/pci/devices/0000:00:04.0`;
    Deno.removeSync(`${dev}/driver`);
    Deno.symlinkSync("../../../../bus/pci/drivers/vfio-pci", `${dev}/driver`);
    Deno.mkdirSync(`${root}/dev/vfio`, { recursive: true });
    Deno.writeTextFileSync(`${root}/dev/vfio/noiommu-4`, "");
    assert.throws(
      () => VfioSession.open("0000:00:04.0", { sysfs: new Sysfs(root), dev: `${root}/dev` }),
      (e: unknown) => e instanceof VfioError && e.kind === "unsupported" && /no-IOMMU mode/.test(e.message),
    );
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
