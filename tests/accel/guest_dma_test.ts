/**
 * Each VM's guest RAM at IOVAs of its own (design.md decision 4): IOVA = host address where the IOMMU allows it,
 * else allocated; two VMs with the same guest-physical addresses never share an IOVA, and a VM's table cannot
 * translate an address that is only in another VM's table.
 */

import assert from "node:assert/strict";
import { GuestIovaMap, VmDmaMap } from "../../src/accel/virtio_pci/mod.ts";
import { type DmaMapper, DmaSpace, IovaAllocator } from "../../src/vfio/mod.ts";

class Recorder implements DmaMapper {
  readonly mapped = new Map<number, number>();
  mapDma(_vaddr: number, iova: number, size: number): void {
    this.mapped.set(iova, size);
  }
  unmapDma(iova: number, size: number): number {
    this.mapped.delete(iova);
    return size;
  }
}

const MSI = { below: 0xfedf_ffff, above: 0xfef0_0000 };
const BITS_48 = [{ start: 0, end: MSI.below }, { start: MSI.above, end: 2 ** 48 - 1 }];
const BITS_39 = [{ start: 0, end: MSI.below }, { start: MSI.above, end: 2 ** 39 - 1 }]; // QEMU intel-iommu default

function space(ranges: typeof BITS_48): { recorder: Recorder; port: DmaSpace } {
  const recorder = new Recorder();
  return { recorder, port: new DmaSpace(recorder, new IovaAllocator(ranges)) };
}

const GUEST = [
  { gpa: 0, size: 0xa_0000, address: 0x7f10_0000_0000n }, // QEMU's low RAM starts at GPA 0
  { gpa: 0x1_0000_0000, size: 0x100_0000, address: 0x7f00_0000_0000n },
];

Deno.test("VmDmaMap maps a region at IOVA = its host address where the IOMMU allows it", () => {
  const { recorder, port } = space(BITS_48);
  const map = new VmDmaMap(port, "vm1");
  const entries = map.set(GUEST);
  assert.deepEqual(entries, [
    { gpa: 0, size: 0xa_0000, iova: 0x7f10_0000_0000 },
    { gpa: 0x1_0000_0000, size: 0x100_0000, iova: 0x7f00_0000_0000 },
  ]);
  assert.deepEqual([...recorder.mapped.keys()].sort(), [0x7f00_0000_0000, 0x7f10_0000_0000]);
  const t = new GuestIovaMap(entries);
  assert.equal(t.iova(0x1000, 64), 0x7f10_0000_1000);
  assert.equal(t.iova(0x1_0000_0050, 0x1000), 0x7f00_0000_0050);
  assert.equal(t.iova(0x9_ff00, 0x200), -1, "runs past the end of the region");
  assert.equal(t.iova(0x2000_0000, 16), -1, "not this VM's mapped RAM");
  map.set([]);
  assert.equal(recorder.mapped.size, 0, "a new (empty) table unmaps the old one");
});

Deno.test("with a 39-bit IOMMU the host address does not fit: IOVAs are allocated, two VMs never collide", () => {
  const { recorder, port } = space(BITS_39);
  const a = new VmDmaMap(port, "a").set(GUEST);
  const b = new VmDmaMap(port, "b").set(GUEST.map((r) => ({ ...r, address: r.address + 0x1_0000_0000n })));
  assert.equal(recorder.mapped.size, 4);
  const ranges = [...a, ...b].map((e) => [e.iova, e.iova + e.size] as const).sort((x, y) => x[0] - y[0]);
  for (let i = 1; i < ranges.length; i++) {
    assert.ok(ranges[i]![0] >= ranges[i - 1]![1], "disjoint IOVA ranges");
  }
  assert.ok(ranges.every(([, end]) => end <= 2 ** 39), "inside the IOMMU's 39 bits");
  const ta = new GuestIovaMap(a);
  const tb = new GuestIovaMap(b);
  assert.notEqual(ta.iova(0x1000, 16), tb.iova(0x1000, 16), "the same GPA is another IOVA in each VM");
});

Deno.test("a VM's table cannot translate what only another VM's table holds", () => {
  const { port } = space(BITS_48);
  const small = new GuestIovaMap(
    new VmDmaMap(port, "small").set([{ gpa: 0x4000_0000, size: 0x10_0000, address: 0x7e00_0000_0000n }]),
  );
  const large = new GuestIovaMap(
    new VmDmaMap(port, "large").set([{ gpa: 0x4000_0000, size: 0x100_0000, address: 0x7d00_0000_0000n }]),
  );
  const beyondSmall = 0x4000_0000 + 0x20_0000;
  assert.ok(large.iova(beyondSmall, 4096) > 0);
  assert.equal(small.iova(beyondSmall, 4096), -1, "a GPA of the large VM only: no IOVA for the small one");
});

Deno.test("VmDmaMap leaves out what it cannot map, and maps again at the same IOVAs after a device restart", () => {
  const { recorder, port } = space(BITS_48);
  const map = new VmDmaMap(port, "vm");
  const entries = map.set([
    { gpa: 0x1000, size: 0x1800, address: 0x7f00_0000_0000n }, // size not page-aligned
    { gpa: 0x9000_0000, size: 0x1000, address: 0x7f40_0000_0000n },
  ]);
  assert.deepEqual(entries, [{ gpa: 0x9000_0000, size: 0x1000, iova: 0x7f40_0000_0000 }]);
  map.suspend();
  assert.equal(recorder.mapped.size, 0, "the device went down: nothing of the VM is reachable");
  map.resume();
  assert.deepEqual([...recorder.mapped], [[0x7f40_0000_0000, 0x1000]]);
  assert.deepEqual(map.entries, entries);
  map.clear();
  assert.equal(recorder.mapped.size, 0);
});
