import assert from "node:assert/strict";
import { GuestDmaMap } from "../../src/accel/virtio_pci/mod.ts";
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

function space(): { recorder: Recorder; dma: DmaSpace } {
  const recorder = new Recorder();
  const ranges = [{ start: 0, end: 0xfedf_ffff }, { start: 0xfef0_0000, end: 0x7f_ffff_ffff }];
  return { recorder, dma: new DmaSpace(recorder, new IovaAllocator(ranges)) };
}

const port = (dma: DmaSpace) => ({
  allocate: () => {
    throw new Error("unused");
  },
  free: () => {},
  mapFixed: (address: bigint, iova: number, size: number) => dma.mapFixed(address, iova, size),
  unmapFixed: (iova: number) => dma.unmapFixed(iova),
});

Deno.test("GuestDmaMap maps each region at its GPA and answers covers() across the table", () => {
  const { recorder, dma } = space();
  const map = new GuestDmaMap(port(dma));
  map.set([
    { gpa: 0x1_0000_0000, size: 0x100_0000, address: 0x7f00_0000_0000n },
    { gpa: 0, size: 0xa_0000, address: 0x7f10_0000_0000n }, // QEMU's low RAM starts at GPA 0
  ]);
  assert.deepEqual([...recorder.mapped], [[0, 0xa_0000], [0x1_0000_0000, 0x100_0000]], "sorted by GPA");
  assert.ok(map.covers(0x1000, 64));
  assert.ok(map.covers(0x1_0000_0000 + 0x50, 0x1000));
  assert.ok(!map.covers(0x9_ff00, 0x200), "runs past the end of the region");
  assert.ok(!map.covers(0x2000_0000, 16), "not guest RAM that is mapped");
  map.set([]);
  assert.equal(recorder.mapped.size, 0, "a new (empty) table unmaps the old one");
  assert.ok(!map.covers(0x1000, 64));
});

Deno.test("GuestDmaMap leaves out what it cannot map (unaligned, MSI hole, collision) instead of throwing", () => {
  const { recorder, dma } = space();
  dma.mapFixed(0x7f20_0000_0000n, 0x8000_0000, 0x1000); // something else already at 0x8000_0000
  const map = new GuestDmaMap(port(dma));
  map.set([
    { gpa: 0x1000, size: 0x1800, address: 0x7f00_0000_0000n }, // size not page-aligned
    { gpa: 0xfe00_0000, size: 0x100_0000, address: 0x7f10_0000_0000n }, // over the MSI window
    { gpa: 0x8000_0000, size: 0x1000, address: 0x7f30_0000_0000n }, // collides
    { gpa: 0x9000_0000, size: 0x1000, address: 0x7f40_0000_0000n },
  ]);
  assert.deepEqual(map.mapped, [[0x9000_0000, 0x9000_1000]]);
  assert.ok(recorder.mapped.has(0x9000_0000));
});
