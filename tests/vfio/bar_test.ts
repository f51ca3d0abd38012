import assert from "node:assert/strict";
import { Mapping } from "../../src/os/mod.ts";
import { findMsix } from "../../src/pci/mod.ts";
import { mappableAreas, MmioWindow, type RegionInfo, VfioError } from "../../src/vfio/mod.ts";
import { VIRTIO_CRYPTO_PCI_CONFIG } from "../_fixtures/virtio_crypto_config.ts";

function bar(index: number, size: number, extra: Partial<RegionInfo> = {}): RegionInfo {
  return {
    index,
    flags: 7,
    size,
    offset: index * 2 ** 40,
    readable: true,
    writable: true,
    mappable: true,
    sparseAreas: null,
    msixMappable: false,
    type: null,
    ...extra,
  };
}

Deno.test("mappableAreas() on virtio-crypto-pci: BAR1 holds only the MSI-X table and PBA, BAR4 maps whole", () => {
  const msix = findMsix(VIRTIO_CRYPTO_PCI_CONFIG);
  assert.deepEqual(
    mappableAreas(bar(1, 0x1000, { msixMappable: true }), msix),
    [],
    "even when MSIX_MAPPABLE",
  );
  assert.deepEqual(mappableAreas(bar(4, 0x4000), msix), [{ offset: 0, size: 0x4000 }]);
});

Deno.test("mappableAreas() cuts the page-rounded MSI-X table and PBA out of a BAR", () => {
  const msix = { tableSize: 64, tableBar: 0, tableOffset: 0x2000, pbaBar: 0, pbaOffset: 0x2400 };
  assert.deepEqual(mappableAreas(bar(0, 0x8000), msix), [{ offset: 0, size: 0x2000 }, {
    offset: 0x3000,
    size: 0x5000,
  }]);
  const pbaElsewhere = { tableSize: 300, tableBar: 0, tableOffset: 0x1800, pbaBar: 0, pbaOffset: 0x7000 };
  assert.deepEqual(mappableAreas(bar(0, 0x8000), pbaElsewhere), [
    { offset: 0, size: 0x1000 },
    { offset: 0x3000, size: 0x4000 },
  ]);
});

Deno.test("mappableAreas() keeps only the kernel's sparse areas, and nothing of an unmappable BAR", () => {
  const sparse = bar(2, 0x4000, {
    sparseAreas: [{ offset: 0, size: 0x1000 }, { offset: 0x3000, size: 0x1000 }],
  });
  const msix = { tableSize: 8, tableBar: 2, tableOffset: 0x2000, pbaBar: 2, pbaOffset: 0x2800 };
  assert.deepEqual(mappableAreas(sparse, msix), [{ offset: 0, size: 0x1000 }, {
    offset: 0x3000,
    size: 0x1000,
  }]);
  assert.deepEqual(mappableAreas(bar(3, 0x1000, { mappable: false }), null), []);
});

Deno.test("MmioWindow accesses are single aligned loads and stores of the right width", () => {
  using mem = Mapping.anonymous(4096);
  const w = new MmioWindow(mem.bytes.buffer, mem.bytes.byteOffset + 0x100, 0x40, 0x100);
  w.write32(0, 0x11223344);
  assert.equal(w.read8(0), 0x44);
  assert.equal(w.read16(2), 0x1122);
  w.write16(6, 0xbeef);
  assert.equal(w.read32(4), 0xbeef0000);
  w.write64(8, 0x1_2345_6789);
  assert.deepEqual([w.read32(8), w.read32(12)], [0x2345_6789, 1], "low half, then high half");
  assert.equal(mem.bytes[0x100 + 8], 0x89, "little-endian, at the window's offset in the mapping");
});

Deno.test("MmioWindow refuses unaligned and out-of-range accesses, and every access after invalidate()", () => {
  using mem = Mapping.anonymous(4096);
  const w = new MmioWindow(mem.bytes.buffer, mem.bytes.byteOffset, 16, 0);
  assert.throws(() => w.read32(2), (e: unknown) => e instanceof VfioError && /unaligned/.test(e.message));
  assert.throws(() => w.write16(16, 1), VfioError);
  assert.throws(() => w.read8(-1), VfioError);
  w.invalidate();
  assert.throws(() => w.read8(0), (e: unknown) => e instanceof VfioError && e.kind === "closed");
});
