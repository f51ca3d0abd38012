/**
 * `DriverQueue` head order (`avail-order`: head = avail position mod size, for a device that writes used
 * elements at slot = head id), `discardUsed()` (stepping over a used element that names no head in flight) and
 * `rearmOnPop` (a polling driver's `used_event` is left alone by `popUsed()`).
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  DriverBufferList,
  DriverQueue,
  type HeadOrder,
  UsedBuffer,
  VirtqueueError,
  writeU32,
} from "../../src/virtio/mod.ts";
import { DATA_GPA, guestRam, RAM_GPA, RawRing } from "../_fixtures/guest_ram.ts";

const INDIRECT_AREA = RAM_GPA + 0x2_0000;

function setup(headOrder: HeadOrder, eventIdx = false): { raw: RawRing; driver: DriverQueue<number> } {
  const mem = guestRam();
  const raw = new RawRing(mem, 4);
  const driver = new DriverQueue<number>(mem, {
    size: 4,
    ...raw.layout,
    indirectArea: INDIRECT_AREA,
    indirectEntries: 4,
    eventIdx,
    headOrder,
  });
  return { raw, driver };
}

function deviceUses(raw: RawRing, head: number, len: number): void {
  const idx = raw.usedIdx();
  const b = new Uint8Array(8);
  writeU32(b, 0, head);
  writeU32(b, 4, len);
  raw.mem.write(raw.layout.used + 4 + 8 * (idx % raw.size), b);
  raw.setUsedIdx((idx + 1) & 0xffff);
}

function oneBuffer(): DriverBufferList {
  const list = new DriverBufferList(2);
  list.push(DATA_GPA, 16, false);
  list.push(DATA_GPA + 0x100, 17, true);
  return list;
}

Deno.test("avail-order heads: each request's head is its avail position mod size, over wrap-around", () => {
  const { raw, driver } = setup("avail-order");
  const used = new UsedBuffer<number>();
  const heads: number[] = [];
  for (let n = 0; n < 10; n++) {
    const head = driver.addList(oneBuffer(), true, n);
    heads.push(head);
    driver.publish();
    deviceUses(raw, head, 17);
    assert.ok(driver.popUsed(used));
    assert.equal(used.token, n);
  }
  assert.deepEqual(heads, [0, 1, 2, 3, 0, 1, 2, 3, 0, 1]);
});

Deno.test("free-list heads (the default) reuse the head freed last, not the avail position", () => {
  const { raw, driver } = setup("free-list");
  const used = new UsedBuffer<number>();
  const a = driver.addList(oneBuffer(), true, 0);
  const b = driver.addList(oneBuffer(), true, 1);
  driver.publish();
  deviceUses(raw, a, 17);
  deviceUses(raw, b, 17);
  assert.ok(driver.popUsed(used) && driver.popUsed(used));
  // Avail position 2; the free list hands out b (freed last).
  assert.equal(driver.addList(oneBuffer(), true, 2), b);
});

Deno.test("avail-order heads: a position whose head is still in flight waits (-1), and direct chains are refused", () => {
  const { raw, driver } = setup("avail-order");
  const used = new UsedBuffer<number>();
  for (let n = 0; n < 4; n++) driver.addList(oneBuffer(), true, n);
  driver.publish();
  deviceUses(raw, 1, 17); // out of order: head 0 stays in flight
  assert.ok(driver.popUsed(used));
  assert.equal(driver.numFree, 1);
  assert.equal(driver.addList(oneBuffer(), true, 4), -1, "position 4 needs head 0");
  deviceUses(raw, 0, 17);
  assert.ok(driver.popUsed(used));
  assert.equal(driver.addList(oneBuffer(), true, 4), 0);
  // Direct chains take several descriptors: no fixed head for them.
  assert.throws(() => setup("avail-order").driver.addList(oneBuffer(), false, 0), RangeError);
});

Deno.test("discardUsed() steps over an element popUsed() refused, so the next one is read", () => {
  const { raw, driver } = setup("free-list");
  const used = new UsedBuffer<number>();
  const head = driver.addList(oneBuffer(), true, 9);
  driver.publish();
  deviceUses(raw, 3, 0); // head 3 was never made available
  deviceUses(raw, head, 17);
  assert.throws(
    () => driver.popUsed(used),
    (e: unknown) => e instanceof VirtqueueError && e.kind === "invalid-used-id",
  );
  assert.ok(driver.discardUsed(used));
  assert.equal(used.head, 3);
  assert.equal(used.token, undefined);
  assert.ok(driver.popUsed(used));
  assert.equal(used.token, 9);
  assert.equal(driver.inflight, 0);
  assert.equal(driver.discardUsed(used), false);
});

Deno.test("rearmOnPop false leaves used_event where a polling driver put it", () => {
  const { raw, driver } = setup("free-list", true);
  const used = new UsedBuffer<number>();
  driver.rearmOnPop = false;
  driver.setUsedEvent(0x8000);
  const head = driver.addList(oneBuffer(), true, 0);
  driver.publish();
  deviceUses(raw, head, 17);
  assert.ok(driver.popUsed(used));
  assert.equal(raw.usedEvent(), 0x8000);
  driver.rearmOnPop = true;
  driver.addList(oneBuffer(), true, 1);
  driver.publish();
  deviceUses(raw, head, 17);
  assert.ok(driver.popUsed(used));
  assert.equal(raw.usedEvent(), 2, "re-armed at the next element");
});
