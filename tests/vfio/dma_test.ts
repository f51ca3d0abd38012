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
