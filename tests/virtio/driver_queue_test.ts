import assert from "node:assert/strict";
import {
  DescriptorChain,
  DriverBufferList,
  DriverQueue,
  indirectAreaSize,
  readU16,
  readU32,
  readU64Number,
  SplitQueue,
  splitRingLayout,
  UsedBuffer,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  VirtqueueError,
  VRING_USED_F_NO_NOTIFY,
  writeU16,
  writeU32,
} from "../../src/virtio/mod.ts";
import { DATA_GPA, guestRam, RAM_GPA, RawRing } from "../_fixtures/guest_ram.ts";

const INDIRECT_AREA = RAM_GPA + 0x2_0000;

function setup(size = 4, eventIdx = false): { raw: RawRing; driver: DriverQueue<number> } {
  const mem = guestRam();
  const raw = new RawRing(mem, size);
  const driver = new DriverQueue<number>(mem, {
    size,
    ...raw.layout,
    indirectArea: INDIRECT_AREA,
    indirectEntries: 4,
    eventIdx,
  });
  return { raw, driver };
}

function readDesc(raw: RawRing, gpa: number): number[] {
  const b = new Uint8Array(16);
  raw.mem.read(gpa, b);
  return [readU64Number(b, 0), readU32(b, 8), readU16(b, 12), readU16(b, 14)];
}

/** Plays the device: writes a used element for `head` and bumps used.idx. */
function deviceUses(raw: RawRing, head: number, len: number): void {
  const idx = raw.usedIdx();
  const b = new Uint8Array(8);
  writeU32(b, 0, head);
  writeU32(b, 4, len);
  raw.mem.write(raw.layout.used + 4 + 8 * (idx % raw.size), b);
  raw.setUsedIdx((idx + 1) & 0xffff);
}

Deno.test("DriverQueue.add() writes a direct chain with NEXT links and WRITE flags", () => {
  const { raw, driver } = setup();
  const head = driver.add(
    { out: [{ gpa: DATA_GPA, len: 72 }], in: [{ gpa: DATA_GPA + 0x100, len: 1 }] },
    {},
    7,
  );
  assert.equal(head, 0);
  const d0 = readDesc(raw, raw.layout.desc);
  assert.deepEqual(d0, [DATA_GPA, 72, VIRTQ_DESC_F_NEXT, 1]);
  assert.deepEqual(readDesc(raw, raw.layout.desc + 16), [DATA_GPA + 0x100, 1, VIRTQ_DESC_F_WRITE, 0]);
  assert.equal(raw.availIdx(), 0, "invisible until publish()");
  driver.publish();
  assert.equal(raw.availIdx(), 1);
});

Deno.test("DriverQueue.add() writes an indirect chain as one INDIRECT descriptor and a table in the head's slot", () => {
  const { raw, driver } = setup();
  driver.add({ out: [], in: [{ gpa: DATA_GPA, len: 8 }] }, {}, 0); // head 0
  const head = driver.add({ out: [{ gpa: DATA_GPA, len: 4 }], in: [{ gpa: DATA_GPA + 8, len: 2 }] }, {
    indirect: true,
  }, 1);
  assert.equal(head, 1);
  assert.equal(driver.numFree, 2);
  const slot = INDIRECT_AREA + head * 4 * 16;
  assert.deepEqual(readDesc(raw, raw.layout.desc + 16 * head), [slot, 32, VIRTQ_DESC_F_INDIRECT, 0]);
  assert.deepEqual(readDesc(raw, slot), [DATA_GPA, 4, VIRTQ_DESC_F_NEXT, 1]);
  assert.deepEqual(readDesc(raw, slot + 16), [DATA_GPA + 8, 2, VIRTQ_DESC_F_WRITE, 0]);
});

Deno.test("DriverQueue.add() returns -1 when descriptors run out, and reuses them after completion", () => {
  const { raw, driver } = setup(4);
  const three = {
    out: [{ gpa: DATA_GPA, len: 1 }, { gpa: DATA_GPA, len: 1 }, { gpa: DATA_GPA, len: 1 }],
    in: [],
  };
  const h = driver.add(three, {}, 1);
  assert.equal(driver.add(three, {}, 2), -1);
  assert.equal(driver.inflight, 1);
  driver.publish();
  deviceUses(raw, h, 0);
  const out = new UsedBuffer<number>();
  assert.ok(driver.popUsed(out));
  assert.deepEqual([out.head, out.len, out.token], [h, 0, 1]);
  assert.equal(driver.numFree, 4);
  assert.notEqual(driver.add(three, {}, 3), -1);
});

Deno.test("DriverQueue.addList() refuses empty, oversized or impossible chains", () => {
  const { driver } = setup(4);
  const list = new DriverBufferList(8);
  assert.throws(() => driver.addList(list, false, 0), RangeError);
  for (let i = 0; i < 5; i++) list.push(DATA_GPA, 1, false);
  assert.throws(() => driver.addList(list, false, 0), RangeError, "longer than the queue");
  assert.throws(() => driver.addList(list, true, 0), RangeError, "longer than the indirect slot");
  const mem = guestRam();
  const plain = new DriverQueue(mem, { size: 4, ...splitRingLayout(RAM_GPA, 4) });
  list.clear();
  list.push(DATA_GPA, 1, false);
  assert.throws(() => plain.addList(list, true, 0), /no indirect area/);
});

Deno.test("DriverQueue.needsKick() honours VRING_USED_F_NO_NOTIFY without event indices", () => {
  const { raw, driver } = setup();
  assert.equal(driver.needsKick(), false, "nothing published");
  driver.add({ out: [{ gpa: DATA_GPA, len: 1 }], in: [] }, {}, 0);
  driver.publish();
  assert.equal(driver.needsKick(), true);
  const flags = new Uint8Array(2);
  writeU16(flags, 0, VRING_USED_F_NO_NOTIFY);
  raw.mem.write(raw.layout.used, flags);
  driver.add({ out: [{ gpa: DATA_GPA, len: 1 }], in: [] }, {}, 1);
  driver.publish();
  assert.equal(driver.needsKick(), false);
});

Deno.test("DriverQueue.needsKick() follows avail_event with event indices", () => {
  const { raw, driver } = setup(8, true);
  raw.setAvailEvent(2); // kick when the entry at index 2 is made available
  for (let i = 0; i < 2; i++) driver.add({ out: [{ gpa: DATA_GPA, len: 1 }], in: [] }, {}, i);
  driver.publish(); // 0 -> 2
  assert.equal(driver.needsKick(), false);
  driver.add({ out: [{ gpa: DATA_GPA, len: 1 }], in: [] }, {}, 2);
  driver.publish(); // 2 -> 3
  assert.equal(driver.needsKick(), true);
});

Deno.test("DriverQueue.popUsed() sets used_event to the next used index with event indices", () => {
  const { raw, driver } = setup(4, true);
  const h = driver.add({ out: [{ gpa: DATA_GPA, len: 1 }], in: [] }, {}, 9);
  driver.publish();
  deviceUses(raw, h, 5);
  assert.deepEqual(driver.pollUsed(), { head: h, len: 5, token: 9 });
  const b = new Uint8Array(2);
  raw.mem.read(raw.layout.avail + 4 + 2 * 4, b);
  assert.equal(b[0]! | (b[1]! << 8), 1);
  assert.equal(driver.pollUsed(), null);
});

Deno.test("DriverQueue.popUsed() rejects a used id that is not in flight and a used idx jump", () => {
  const { raw, driver } = setup(4);
  driver.add({ out: [{ gpa: DATA_GPA, len: 1 }], in: [] }, {}, 0);
  driver.publish();
  deviceUses(raw, 3, 0);
  assert.throws(() => driver.pollUsed(), (e) => e instanceof VirtqueueError && e.kind === "invalid-used-id");
  const other = setup(4);
  other.raw.setUsedIdx(5);
  assert.throws(
    () => other.driver.pollUsed(),
    (e) => e instanceof VirtqueueError && e.kind === "invalid-used-index",
  );
});

Deno.test("DriverQueue() rejects misaligned rings and rings outside guest memory", () => {
  const mem = guestRam();
  const l = splitRingLayout(RAM_GPA, 4);
  assert.throws(() => new DriverQueue(mem, { size: 4, ...l, desc: l.desc + 8 }), RangeError);
  assert.throws(() => new DriverQueue(mem, { size: 4, ...l, used: 0x10 }), RangeError);
  assert.throws(() => new DriverQueue(mem, { size: 3, ...l }), RangeError);
  const area = indirectAreaSize(4, 16);
  assert.throws(
    () => new DriverQueue(mem, { size: 4, ...l, indirectArea: RAM_GPA + 0x10_0000 - area + 16 }),
    RangeError,
  );
});

Deno.test("DriverQueue with a reused DriverBufferList and UsedBuffer drives a device queue through many requests", () => {
  const mem = guestRam();
  const layout = splitRingLayout(RAM_GPA, 16);
  const driver = new DriverQueue<number>(mem, {
    size: 16,
    ...layout,
    indirectArea: INDIRECT_AREA,
    eventIdx: true,
  });
  const queue = new SplitQueue(16);
  queue.setAddresses(layout);
  queue.eventIdx = true;
  queue.setReady(true);
  const chain = new DescriptorChain(16);
  const list = new DriverBufferList(4);
  const done = new UsedBuffer<number>();
  let sum = 0;
  for (let i = 0; i < 5000; i++) {
    list.clear();
    list.push(DATA_GPA, 16, false);
    list.push(DATA_GPA + 16, 1, true);
    assert.notEqual(driver.addList(list, i % 3 === 0, i), -1);
    driver.publish();
    assert.ok(queue.popChain(mem, chain));
    queue.addUsed(mem, chain.head, 1);
    queue.publishUsed(mem);
    assert.ok(driver.popUsed(done));
    sum += done.token!;
  }
  assert.equal(sum, (4999 * 5000) / 2);
  assert.equal(driver.numFree, 16);
});
