import assert from "node:assert/strict";
import { type DmaMapper, DmaSpace, IovaAllocator, VfioError } from "../../src/vfio/mod.ts";

const X86_RANGES = [{ start: 0, end: 0xfedf_ffff }, { start: 0xfef0_0000, end: 0x7f_ffff_ffff }];

Deno.test("IovaAllocator never hands out IOVA 0 and keeps allocations page-aligned", () => {
  const iovas = new IovaAllocator(X86_RANGES, 4096);
  assert.equal(iovas.allocate(1), 0x1000);
  assert.equal(iovas.allocate(4097), 0x2000);
  assert.equal(iovas.allocate(4096), 0x4000);
});

Deno.test("IovaAllocator stays inside the allowed ranges, skipping the MSI hole", () => {
  const iovas = new IovaAllocator(X86_RANGES, 4096);
  const below = 0xfee0_0000 - 0x1000;
  assert.equal(iovas.allocate(below), 0x1000, "fills the low range up to the hole");
  assert.equal(iovas.allocate(0x10_0000), 0xfef0_0000, "the next one starts after the hole");
  const tiny = new IovaAllocator([{ start: 0, end: 0x2fff }], 4096);
  tiny.allocate(0x2000);
  assert.throws(
    () => tiny.allocate(1),
    (e: unknown) => e instanceof VfioError && e.kind === "iova-exhausted",
  );
});

Deno.test("IovaAllocator.free() merges neighbours so a large range is whole again", () => {
  const iovas = new IovaAllocator([{ start: 0, end: 0x4fff }], 4096);
  const a = iovas.allocate(0x1000);
  const b = iovas.allocate(0x1000);
  const c = iovas.allocate(0x1000);
  assert.equal(iovas.freeBytes, 0x1000);
  iovas.free(b, 0x1000);
  iovas.free(a, 0x1000);
  iovas.free(c, 0x1000);
  assert.equal(iovas.freeBytes, 0x4000);
  assert.equal(iovas.allocate(0x4000), 0x1000);
});

Deno.test("IovaAllocator.reserve() takes a fixed range (IOVA = GPA) only when it is free and allowed", () => {
  const iovas = new IovaAllocator(X86_RANGES, 4096);
  iovas.reserve(0x10_0000, 0x10_0000);
  assert.throws(() => iovas.reserve(0x10_0000, 0x1000), VfioError);
  assert.throws(() => iovas.reserve(0xfee0_0000, 0x1000), /not free, allowed and page-aligned/);
  assert.throws(() => iovas.reserve(0x123, 0x1000), VfioError);
});

/** Records what would be mapped; fails on request. */
class RecordingMapper implements DmaMapper {
  readonly calls: string[] = [];
  failNextMap = false;
  unmapShort = false;

  mapDma(vaddr: number, iova: number, size: number): void {
    if (this.failNextMap) {
      this.failNextMap = false;
      throw new VfioError("dma", "scripted failure");
    }
    assert.equal(vaddr % 4096, 0, "page-aligned host address");
    this.calls.push(`map 0x${iova.toString(16)}+0x${size.toString(16)}`);
  }

  unmapDma(iova: number, size: number): number {
    this.calls.push(`unmap 0x${iova.toString(16)}+0x${size.toString(16)}`);
    return this.unmapShort ? size - 4096 : size;
  }
}

Deno.test("DmaSpace maps zeroed page-aligned buffers and unmaps them newest first on close", () => {
  const mapper = new RecordingMapper();
  const space = new DmaSpace(mapper, new IovaAllocator(X86_RANGES));
  const a = space.allocate(100);
  const b = space.allocate(8192);
  assert.equal(a.size, 4096);
  assert.ok(a.bytes.every((x) => x === 0));
  b.bytes[8191] = 7; // writable, whole
  space.close();
  assert.deepEqual(mapper.calls, [
    "map 0x1000+0x1000",
    "map 0x2000+0x2000",
    "unmap 0x2000+0x2000",
    "unmap 0x1000+0x1000",
  ]);
  assert.ok(!a.isMapped && !b.isMapped);
  assert.throws(() => space.allocate(1), (e: unknown) => e instanceof VfioError && e.kind === "closed");
});

Deno.test("DmaSpace gives the IOVA back when mapping fails, and checks the unmapped size", () => {
  const mapper = new RecordingMapper();
  const space = new DmaSpace(mapper, new IovaAllocator(X86_RANGES));
  mapper.failNextMap = true;
  assert.throws(() => space.allocate(4096), /scripted failure/);
  assert.equal(space.allocate(4096).iova, 0x1000, "the failed allocation's IOVA is free again");
  mapper.unmapShort = true;
  const b = space.allocate(8192);
  assert.throws(() => space.free(b), /Unmapped 4096 bytes .* expected 8192/);
  assert.ok(!b.isMapped, "the host pages go anyway");
});

Deno.test("IovaAllocator.allocate(size, 'high') takes the top of the allowed ranges, away from guest RAM", () => {
  const iovas = new IovaAllocator(X86_RANGES, 4096);
  assert.equal(iovas.allocate(0x2000, "high"), 0x80_0000_0000 - 0x2000);
  assert.equal(iovas.allocate(0x1000, "high"), 0x80_0000_0000 - 0x3000);
  const low = new IovaAllocator([{ start: 0, end: 0xfedf_ffff }], 4096);
  assert.equal(
    low.allocate(0x1000, "high"),
    0xfee0_0000 - 0x1000,
    "below the MSI hole when that is all there is",
  );
});

Deno.test("IovaAllocator.reserve() can take page 0 (guest RAM starts at GPA 0), allocate() never hands it out", () => {
  const iovas = new IovaAllocator([{ start: 0, end: 0xffff }], 4096);
  assert.equal(iovas.freeBytes, 0xf000, "page 0 is not counted as allocatable");
  iovas.reserve(0, 0x2000);
  assert.equal(iovas.allocate(0x1000), 0x2000);
  iovas.free(0, 0x2000);
  assert.equal(iovas.allocate(0x1000), 0x1000);
});

Deno.test("DmaSpace.mapFixed() maps caller memory at a fixed IOVA, refuses collisions, and close() unmaps it", () => {
  const mapper = new RecordingMapper();
  const space = new DmaSpace(mapper, new IovaAllocator(X86_RANGES));
  space.mapFixed(0x7f00_0000_0000n, 0x4000_0000, 0x10_0000);
  assert.throws(
    () => space.mapFixed(0x7f00_1000_0000n, 0x4008_0000, 0x1000),
    VfioError,
    "overlaps the first",
  );
  assert.throws(() => space.mapFixed(0x7f00_1000_0000n, 0xfee0_0000, 0x1000), /not free, allowed/);
  assert.throws(() => space.mapFixed(0x7f00_1000_0123n, 0x5000_0000, 0x1000), /multiples of 4096/);
  mapper.failNextMap = true;
  assert.throws(() => space.mapFixed(0x7f00_2000_0000n, 0x5000_0000, 0x1000), /scripted failure/);
  space.mapFixed(0x7f00_2000_0000n, 0x5000_0000, 0x1000); // the failed attempt gave the range back
  space.unmapFixed(0x5000_0000);
  space.unmapFixed(0x5000_0000); // idempotent
  space.close();
  assert.deepEqual(mapper.calls, [
    "map 0x40000000+0x100000",
    "map 0x50000000+0x1000",
    "unmap 0x50000000+0x1000",
    "unmap 0x40000000+0x100000",
  ]);
});
