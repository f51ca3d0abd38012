import assert from "node:assert/strict";
import {
  availEventOffset,
  availRingSize,
  descTableSize,
  indirectAreaSize,
  isValidQueueSize,
  ringIndexView,
  ringPart,
  splitRingLayout,
  usedEventOffset,
  usedRingSize,
  virtqNeedEvent,
} from "../../src/virtio/mod.ts";
import { guestRam, RAM_GPA } from "../_fixtures/guest_ram.ts";

Deno.test("isValidQueueSize() accepts powers of 2 in 1..32768 only", () => {
  for (const ok of [1, 2, 256, 1024, 32768]) assert.ok(isValidQueueSize(ok), `${ok}`);
  for (const bad of [0, 3, 1000, 65536, -2, 2.5, NaN]) assert.ok(!isValidQueueSize(bad), `${bad}`);
});

Deno.test("ring part sizes and event offsets follow the spec table (2.7)", () => {
  assert.equal(descTableSize(256), 4096);
  assert.equal(availRingSize(256), 6 + 512);
  assert.equal(usedRingSize(256), 6 + 2048);
  assert.equal(usedEventOffset(256), 4 + 512);
  assert.equal(availEventOffset(256), 4 + 2048);
  assert.equal(indirectAreaSize(256, 16), 256 * 16 * 16);
});

Deno.test("splitRingLayout() aligns each part and does not overlap them", () => {
  const l = splitRingLayout(0x1003, 8);
  assert.equal(l.desc, 0x1010);
  assert.equal(l.avail, 0x1010 + 128);
  assert.equal(l.used % 4, 0);
  assert.ok(l.used >= l.avail + availRingSize(8));
  assert.equal(l.end, l.used + usedRingSize(8));
  const legacy = splitRingLayout(0, 256, 4096);
  assert.equal(legacy.used, 8192);
  assert.throws(() => splitRingLayout(0, 3), RangeError);
  assert.throws(() => splitRingLayout(0, 8, 2), RangeError);
});

Deno.test("virtqNeedEvent() matches virtq_need_event, across the u16 wrap", () => {
  assert.ok(virtqNeedEvent(0, 1, 0));
  assert.ok(!virtqNeedEvent(1, 1, 0), "event 1 needs idx to reach 2");
  assert.ok(virtqNeedEvent(3, 7, 2));
  assert.ok(!virtqNeedEvent(9, 7, 2));
  assert.ok(virtqNeedEvent(65535, 2, 65534), "crosses 65535 -> 0");
  assert.ok(!virtqNeedEvent(5, 5, 5), "nothing new");
});

Deno.test("ringPart() and ringIndexView() need one region and 2-byte alignment", () => {
  const mem = guestRam({ splitAt: 0x1000 });
  const part = ringPart(mem, RAM_GPA + 0x10, 0x20);
  assert.ok(part !== undefined);
  assert.equal(part.base, 0x10);
  assert.equal(ringPart(mem, RAM_GPA + 0xff0, 0x20), undefined, "crosses into the next region");
  assert.equal(ringPart(mem, 2 ** 60, 2), undefined);
  const view = ringIndexView(part, 2)!;
  Atomics.store(view, 0, 0x1234);
  assert.deepEqual([...mem.regions[0]!.bytes.subarray(0x12, 0x14)], [0x34, 0x12], "little-endian");
  assert.equal(ringIndexView(part, 1), undefined);
});
