import assert from "node:assert/strict";
import {
  VFIO_IOMMU_INFO_CAPS,
  VFIO_IOMMU_INFO_PGSIZES,
  VFIO_REGION_INFO_FLAG_CAPS,
  VFIO_REGION_INFO_FLAG_MMAP,
  VFIO_REGION_INFO_FLAG_READ,
  VFIO_REGION_INFO_FLAG_WRITE,
} from "../../ffi/constants.ts";
import {
  argszNeeded,
  capabilityChain,
  decodeIommuInfo,
  decodeRegionInfo,
  lowestBit,
  VfioError,
} from "../../src/vfio/mod.ts";

const RW_MMAP_CAPS = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE | VFIO_REGION_INFO_FLAG_MMAP |
  VFIO_REGION_INFO_FLAG_CAPS;

/** A vfio_region_info for BAR1 of 16 KiB with a sparse-mmap cap (2 areas) then an MSIX_MAPPABLE cap, as vfio-pci builds it. */
function regionWithCaps(): DataView {
  const v = new DataView(new ArrayBuffer(32 + 16 + 32 + 8));
  v.setUint32(0, v.byteLength, true); // argsz
  v.setUint32(4, RW_MMAP_CAPS, true);
  v.setUint32(8, 1, true); // index
  v.setUint32(12, 32, true); // cap_offset
  v.setBigUint64(16, 0x4000n, true); // size
  v.setBigUint64(24, 0x100_0000_0000n, true); // offset = 1 << 40
  v.setUint16(32, 1, true); // SPARSE_MMAP
  v.setUint16(34, 1, true);
  v.setUint32(36, 80, true); // next
  v.setUint32(40, 2, true); // nr_areas
  v.setBigUint64(48, 0n, true);
  v.setBigUint64(56, 0x1000n, true);
  v.setBigUint64(64, 0x3000n, true);
  v.setBigUint64(72, 0x1000n, true);
  v.setUint16(80, 3, true); // MSIX_MAPPABLE
  v.setUint16(82, 1, true);
  v.setUint32(84, 0, true);
  return v;
}

Deno.test("decodeRegionInfo() reads size, fd offset, flags and the sparse-mmap and MSIX_MAPPABLE capabilities", () => {
  const r = decodeRegionInfo(regionWithCaps());
  assert.equal(r.index, 1);
  assert.equal(r.size, 0x4000);
  assert.equal(r.offset, 0x100_0000_0000);
  assert.ok(r.readable && r.writable && r.mappable);
  assert.deepEqual(r.sparseAreas, [{ offset: 0, size: 0x1000 }, { offset: 0x3000, size: 0x1000 }]);
  assert.equal(r.msixMappable, true);
  assert.equal(r.type, null);
});

Deno.test("argszNeeded() asks for a second call when the capabilities did not fit", () => {
  const v = new DataView(new ArrayBuffer(32));
  v.setUint32(0, 88, true); // the kernel's answer: 88 bytes needed
  v.setUint32(4, RW_MMAP_CAPS, true);
  v.setUint32(12, 0, true); // cap_offset 0: nothing copied
  assert.equal(argszNeeded(v, VFIO_REGION_INFO_FLAG_CAPS, 12), 88);
  assert.equal(argszNeeded(regionWithCaps(), VFIO_REGION_INFO_FLAG_CAPS, 12), 0);
});

Deno.test("capabilityChain() refuses a loop and an offset past the buffer", () => {
  const loop = regionWithCaps();
  loop.setUint32(84, 32, true); // the last cap points back to the first
  assert.throws(
    () => decodeRegionInfo(loop),
    (e: unknown) => e instanceof VfioError && e.kind === "bad-info",
  );
  assert.throws(() => capabilityChain(new DataView(new ArrayBuffer(16)), 12), VfioError);
  const tooMany = regionWithCaps();
  tooMany.setUint32(40, 99, true); // nr_areas beyond the buffer
  assert.throws(() => decodeRegionInfo(tooMany), /99 areas do not fit/);
});

Deno.test("decodeIommuInfo() reads the page sizes and the IOVA ranges (inclusive, x86 MSI hole excluded)", () => {
  const v = new DataView(new ArrayBuffer(24 + 16 + 32));
  v.setUint32(0, v.byteLength, true);
  v.setUint32(4, VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS, true);
  v.setBigUint64(8, 0x4020_1000n, true); // 4 KiB, 2 MiB, 1 GiB
  v.setUint32(16, 24, true);
  v.setUint16(24, 1, true); // IOVA_RANGE
  v.setUint32(32, 2, true);
  v.setBigUint64(40, 0n, true);
  v.setBigUint64(48, 0xfedf_ffffn, true);
  v.setBigUint64(56, 0xfef0_0000n, true);
  v.setBigUint64(64, 0xffff_ffff_ffff_ffffn, true);
  const info = decodeIommuInfo(v);
  assert.equal(info.pageSizes, 0x4020_1000n);
  assert.equal(info.minPageSize, 4096);
  assert.deepEqual(info.iovaRanges, [
    { start: 0, end: 0xfedf_ffff },
    { start: 0xfef0_0000, end: Number.MAX_SAFE_INTEGER },
  ]);
  assert.equal(lowestBit(0n), 4096);
  assert.equal(lowestBit(0x20_0000n | 0x4000_0000n), 0x20_0000);
});
