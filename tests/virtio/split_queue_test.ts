import assert from "node:assert/strict";
import { RegionGuestMemory } from "../../src/memory/mod.ts";
import {
  ChainWriter,
  DescriptorChain,
  DriverQueue,
  SplitQueue,
  splitRingLayout,
  UsedBuffer,
  VirtqueueError,
  VRING_AVAIL_F_NO_INTERRUPT,
} from "../../src/virtio/mod.ts";
import { DATA_GPA, guestRam, RAM_GPA, RawRing } from "../_fixtures/guest_ram.ts";

const INDIRECT_AREA = RAM_GPA + 0x2_0000;

interface Pair {
  mem: RegionGuestMemory;
  driver: DriverQueue<string>;
  queue: SplitQueue;
  chain: DescriptorChain;
  raw: RawRing;
}

function pair(size = 8, options: { eventIdx?: boolean; start?: number } = {}): Pair {
  const { eventIdx = false, start = 0 } = options;
  const mem = guestRam();
  const layout = splitRingLayout(RAM_GPA, size);
  const driver = new DriverQueue<string>(mem, {
    size,
    ...layout,
    indirectArea: INDIRECT_AREA,
    indirectEntries: 8,
    eventIdx,
    startIndex: start,
  });
  const queue = new SplitQueue(size);
  queue.setAddresses(layout);
  queue.setNextAvail(start);
  queue.setNextUsed(start);
  queue.eventIdx = eventIdx;
  queue.setReady(true);
  return { mem, driver, queue, chain: new DescriptorChain(size), raw: new RawRing(mem, size) };
}

/** Adds, publishes, pops, completes and publishes `n` one-buffer requests. */
function roundTrips(p: Pair, n: number): void {
  for (let i = 0; i < n; i++) p.driver.add({ out: [], in: [{ gpa: DATA_GPA, len: 4 }] }, {}, `r${i}`);
  p.driver.publish();
  for (let i = 0; i < n; i++) {
    assert.ok(p.queue.popChain(p.mem, p.chain));
    p.queue.addUsed(p.mem, p.chain.head, 4);
  }
  p.queue.publishUsed(p.mem);
}

function drainDriver(p: Pair): string[] {
  const out = new UsedBuffer<string>();
  const tokens: string[] = [];
  while (p.driver.popUsed(out)) tokens.push(`${out.token}:${out.len}`);
  return tokens;
}

const REQUEST = {
  out: [{ gpa: DATA_GPA, len: 72 }, { gpa: DATA_GPA + 0x100, len: 16 }],
  in: [{ gpa: DATA_GPA + 0x200, len: 16 }, { gpa: DATA_GPA + 0x300, len: 1 }],
};

for (const indirect of [false, true]) {
  Deno.test(`SplitQueue round trip of ${indirect ? "an indirect" : "a direct"} chain returns token, len and data`, () => {
    const p = pair();
    const head = p.driver.add(REQUEST, { indirect }, "req");
    assert.equal(p.driver.numFree, indirect ? 7 : 4);
    p.driver.publish();
    assert.ok(p.queue.popChain(p.mem, p.chain));
    const c = p.chain;
    assert.equal(c.error, null);
    assert.equal(c.head, head);
    assert.equal(c.indirect, indirect);
    assert.deepEqual([c.count, c.readableCount, c.readableBytes, c.writableBytes], [4, 2, 88, 17]);
    assert.deepEqual([...c.addr.subarray(0, 4)], [
      DATA_GPA,
      DATA_GPA + 0x100,
      DATA_GPA + 0x200,
      DATA_GPA + 0x300,
    ]);
    const payload = Uint8Array.from({ length: 17 }, (_, i) => i + 1);
    assert.equal(new ChainWriter().writeFrom(p.mem, c, 0, payload), 17);
    p.queue.addUsed(p.mem, c.head, 17);
    p.queue.publishUsed(p.mem);
    assert.deepEqual(drainDriver(p), ["req:17"]);
    assert.equal(p.driver.numFree, 8, "descriptors return to the free list");
    const back = new Uint8Array(16);
    p.mem.read(DATA_GPA + 0x200, back);
    assert.deepEqual([...back], [...payload.subarray(0, 16)]);
    assert.equal(p.mem.regions[0]!.bytes[DATA_GPA + 0x300 - RAM_GPA], 17);
  });
}

Deno.test("SplitQueue completes in-flight chains out of order and the driver gets each token back", () => {
  const p = pair(8);
  for (let i = 0; i < 5; i++) {
    p.driver.add({ out: [{ gpa: DATA_GPA, len: 8 }], in: [] }, { indirect: i % 2 === 1 }, `t${i}`);
  }
  p.driver.publish();
  const heads: number[] = [];
  while (p.queue.popChain(p.mem, p.chain)) heads.push(p.chain.head);
  assert.equal(heads.length, 5);
  assert.equal(p.queue.inflight, 5);
  for (let i = heads.length - 1; i >= 0; i--) p.queue.addUsed(p.mem, heads[i]!, 100 + i);
  p.queue.publishUsed(p.mem);
  assert.deepEqual(drainDriver(p), ["t4:104", "t3:103", "t2:102", "t1:101", "t0:100"]);
  assert.equal(p.queue.inflight, 0);
});

Deno.test("SplitQueue wraps its u16 indices past 65535", () => {
  const p = pair(4, { start: 65533 });
  for (let round = 0; round < 10; round++) {
    roundTrips(p, 2);
    assert.equal(drainDriver(p).length, 2);
  }
  assert.equal(p.queue.nextAvail, (65533 + 20) & 0xffff);
  assert.equal(p.queue.nextUsed, 17);
  assert.equal(p.raw.usedIdx(), 17);
  assert.equal(p.queue.popChain(p.mem, p.chain), false); // the empty check writes avail_event
  assert.equal(p.raw.availEvent(), 17);
});

Deno.test("SplitQueue.publishUsed() stores used.idx once per batch, not per addUsed()", () => {
  const p = pair(8, { start: 40 });
  for (let i = 0; i < 3; i++) p.driver.add({ out: [], in: [{ gpa: DATA_GPA, len: 1 }] }, {}, `b${i}`);
  p.driver.publish();
  while (p.queue.popChain(p.mem, p.chain)) p.queue.addUsed(p.mem, p.chain.head, 1);
  assert.equal(p.queue.nextUsed, 43);
  assert.equal(p.raw.usedIdx(), 40, "used.idx unchanged before publishUsed()");
  assert.deepEqual(drainDriver(p), []);
  p.queue.publishUsed(p.mem);
  assert.equal(p.raw.usedIdx(), 43);
  assert.equal(drainDriver(p).length, 3);
});

Deno.test("SplitQueue writes avail_event when it finds the ring empty, without EVENT_IDX too; not per pop", () => {
  const p = pair(8, { start: 1000 });
  p.raw.setAvailEvent(0xbeef);
  assert.equal(p.queue.popChain(p.mem, p.chain), false);
  assert.equal(p.raw.availEvent(), 1000, "written on the first (empty) poll after setup");
  roundTrips(p, 2);
  assert.equal(p.raw.availEvent(), 1000, "left behind while the device pops: the driver need not kick");
  assert.equal(p.queue.popChain(p.mem, p.chain), false);
  assert.equal(p.raw.availEvent(), 1002, "written when the ring is empty, before the device would sleep");
  p.raw.setAvailEvent(0xbeef);
  roundTrips(p, 1);
  assert.equal(p.queue.popChain(p.mem, p.chain), false);
  assert.equal(p.raw.availEvent(), 1003);
});

Deno.test("SplitQueue: a driver that skipped its kick because avail_event was behind is still served", () => {
  // The device pops one chain and stays busy (avail_event left at 1000); the driver publishes two more and, by
  // virtq_need_event(1000, 1003, 1001), does not kick. The device's next pops find them anyway.
  const p = pair(8, { start: 1000, eventIdx: true });
  assert.equal(p.queue.popChain(p.mem, p.chain), false);
  p.driver.add({ out: [], in: [{ gpa: DATA_GPA, len: 4 }] }, {}, "a");
  p.driver.publish();
  assert.equal(p.driver.needsKick(), true, "the first chain after an empty ring is kicked");
  assert.ok(p.queue.popChain(p.mem, p.chain));
  p.queue.addUsed(p.mem, p.chain.head, 4);
  for (const t of ["b", "c"]) p.driver.add({ out: [], in: [{ gpa: DATA_GPA, len: 4 }] }, {}, t);
  p.driver.publish();
  assert.equal(p.driver.needsKick(), false, "the device is busy: no kick");
  assert.ok(p.queue.popChain(p.mem, p.chain));
  p.queue.addUsed(p.mem, p.chain.head, 4);
  assert.ok(p.queue.popChain(p.mem, p.chain));
  p.queue.addUsed(p.mem, p.chain.head, 4);
  assert.equal(p.queue.popChain(p.mem, p.chain), false);
  p.queue.publishUsed(p.mem);
  assert.deepEqual(drainDriver(p).map((t) => t.split(":")[0]), ["a", "b", "c"]);
  // Idle again: the next chain is kicked.
  p.driver.add({ out: [], in: [{ gpa: DATA_GPA, len: 4 }] }, {}, "d");
  p.driver.publish();
  assert.equal(p.driver.needsKick(), true);
});

Deno.test("SplitQueue.needsNotification() without EVENT_IDX: once per published batch, even with NO_INTERRUPT", () => {
  const p = pair(8);
  assert.equal(p.queue.needsNotification(p.mem), false, "nothing published");
  roundTrips(p, 2);
  assert.equal(p.queue.needsNotification(p.mem), true);
  assert.equal(p.queue.needsNotification(p.mem), false, "already notified for this batch");
  p.raw.setAvailFlags(VRING_AVAIL_F_NO_INTERRUPT);
  roundTrips(p, 1);
  assert.equal(
    p.queue.needsNotification(p.mem),
    true,
    "EVENT_IDX may be on unknown to us: the flag is no reason",
  );
});

Deno.test("SplitQueue.needsNotification() with EVENT_IDX follows used_event (virtq_need_event)", () => {
  const p = pair(8, { eventIdx: true });
  roundTrips(p, 1); // used idx 1
  assert.equal(p.queue.needsNotification(p.mem), true, "first decision always notifies");
  drainDriver(p);
  p.driver.setUsedEvent(3); // notify once the element at index 3 is used, i.e. used.idx reaches 4
  roundTrips(p, 1); // 2
  assert.equal(p.queue.needsNotification(p.mem), false);
  roundTrips(p, 1); // 3
  assert.equal(p.queue.needsNotification(p.mem), false);
  roundTrips(p, 1); // 4
  assert.equal(p.queue.needsNotification(p.mem), true);
  p.driver.setUsedEvent(5);
  roundTrips(p, 3); // 4 -> 7 jumps over 5
  assert.equal(p.queue.needsNotification(p.mem), true);
  p.raw.setAvailFlags(VRING_AVAIL_F_NO_INTERRUPT); // ignored with EVENT_IDX (2.7.7.2)
  p.driver.setUsedEvent(7);
  roundTrips(p, 1);
  assert.equal(p.queue.needsNotification(p.mem), true);
});

Deno.test("SplitQueue.awaitedUsed() counts the elements added at or past used_event, across the wrap", () => {
  const p = pair(8, { eventIdx: true, start: 0xfffe });
  p.driver.setUsedEvent(0xffff); // waits for the element at 0xffff
  roundTrips(p, 1); // next_used 0xffff: not reached yet
  assert.equal(p.queue.awaitedUsed(p.mem), 0);
  roundTrips(p, 3); // next_used 2: elements 0xffff, 0, 1
  assert.equal(p.queue.awaitedUsed(p.mem), 3);
  p.driver.setUsedEvent(0x8000); // a polling driver: out of reach
  assert.equal(p.queue.awaitedUsed(p.mem), 0);
  p.queue.eventIdx = false; // without EVENT_IDX the device cannot know
  p.driver.setUsedEvent(0);
  assert.equal(p.queue.awaitedUsed(p.mem), 0);
});

Deno.test("SplitQueue.popChain() rejects an avail idx more than size ahead", () => {
  const r = new RawRing(guestRam(), 8);
  const { queue, chain } = r.device();
  r.setAvailIdx(9);
  assert.throws(
    () => queue.popChain(r.mem, chain),
    (e) => e instanceof VirtqueueError && e.kind === "invalid-avail-index",
  );
  assert.ok(queue.broken);
  assert.equal(queue.error?.kind, "invalid-avail-index");
  assert.equal(queue.popChain(r.mem, chain), false, "a broken queue stops");
  assert.equal(queue.nextAvail, 0);
});

Deno.test("SplitQueue.popChain() accepts an avail idx exactly size ahead", () => {
  const r = new RawRing(guestRam(), 8);
  r.desc(0, { addr: DATA_GPA, len: 1 });
  const { queue, chain } = r.device();
  r.setAvailIdx(8); // eight entries, all naming head 0
  let n = 0;
  while (queue.popChain(r.mem, chain)) n++;
  assert.equal(n, 8);
  assert.ok(!queue.broken);
});

Deno.test("SplitQueue.popChain() rejects a head index >= size and stops the queue", () => {
  const r = new RawRing(guestRam(), 8);
  const { queue, chain } = r.device();
  r.offer(8);
  assert.throws(
    () => queue.popChain(r.mem, chain),
    (e) => e instanceof VirtqueueError && e.kind === "invalid-head-index",
  );
  assert.ok(queue.broken);
  r.offer(0);
  assert.equal(queue.popChain(r.mem, chain), false);
});

Deno.test("SplitQueue.popChain() goes on with the next chain after a malformed one", () => {
  const r = new RawRing(guestRam(), 8);
  r.desc(0, { addr: DATA_GPA, len: 1, flags: 1, next: 99 }, { addr: DATA_GPA, len: 1 });
  r.offer(0);
  r.offer(1);
  const { queue, chain } = r.device();
  assert.ok(queue.popChain(r.mem, chain));
  assert.equal(chain.error?.kind, "invalid-descriptor-index");
  queue.addUsed(r.mem, chain.head, 0);
  assert.ok(queue.popChain(r.mem, chain));
  assert.equal(chain.error, null);
  assert.equal(chain.head, 1);
});

Deno.test("SplitQueue.setSize() accepts powers of 2 up to maxSize only", () => {
  const q = new SplitQueue(32);
  for (const bad of [0, 3, 24, 64, 1.5]) {
    assert.throws(
      () => q.setSize(bad),
      (e) => e instanceof VirtqueueError && e.kind === "invalid-queue-size",
    );
  }
  q.setSize(16);
  assert.equal(q.size, 16);
  assert.throws(() => new SplitQueue(100), RangeError);
});

Deno.test("SplitQueue.setAddresses() rejects misaligned rings and setReady() needs addresses", () => {
  const q = new SplitQueue(8);
  assert.throws(() => q.setReady(true), VirtqueueError);
  for (
    const a of [{ desc: 8, avail: 0, used: 0 }, { desc: 0, avail: 1, used: 0 }, {
      desc: 0,
      avail: 0,
      used: 2,
    }]
  ) {
    assert.throws(
      () => q.setAddresses(a),
      (e) => e instanceof VirtqueueError && e.kind === "invalid-ring-address",
    );
  }
  assert.equal(q.addresses, null);
});

Deno.test("SplitQueue.popChain() breaks the queue when a ring is not guest memory", () => {
  const mem = guestRam();
  const q = new SplitQueue(8);
  q.setAddresses({ desc: RAM_GPA, avail: RAM_GPA + 0x1000, used: 0x1000 });
  q.setReady(true);
  assert.throws(
    () => q.popChain(mem, new DescriptorChain(8)),
    (e) => e instanceof VirtqueueError && e.kind === "invalid-ring-address",
  );
  assert.ok(q.broken);
});

Deno.test("SplitQueue rebuilds its ring views when the memory table changes", () => {
  const p = pair(8);
  roundTrips(p, 1);
  const old = p.mem.regions[0]!;
  const copy = { ...old, bytes: old.bytes.slice() };
  const mem2 = new RegionGuestMemory([copy], p.mem.generation + 1);
  const raw2 = new RawRing(mem2, 8);
  raw2.desc(5, { addr: DATA_GPA, len: 3 });
  raw2.offer(5);
  assert.ok(p.queue.popChain(mem2, p.chain), "reads avail.idx through the new table");
  assert.equal(p.chain.head, 5);
  p.queue.addUsed(mem2, 5, 3);
  p.queue.publishUsed(mem2);
  assert.equal(raw2.usedIdx(), 2);
  assert.equal(p.raw.usedIdx(), 1, "the old table is not written");
});

Deno.test("SplitQueue.inflight and drained follow pops, completions and publishing; setReady(false) stops pops", () => {
  const p = pair(8);
  for (let i = 0; i < 3; i++) p.driver.add({ out: [{ gpa: DATA_GPA, len: 1 }], in: [] }, {}, `d${i}`);
  p.driver.publish();
  assert.ok(p.queue.popChain(p.mem, p.chain));
  const first = p.chain.head;
  assert.ok(p.queue.popChain(p.mem, p.chain));
  p.queue.setReady(false); // GET_VRING_BASE: stop, then drain
  assert.equal(p.queue.popChain(p.mem, p.chain), false, "a stopped queue leaves the third chain in the ring");
  assert.deepEqual([p.queue.inflight, p.queue.drained], [2, false]);
  p.queue.addUsed(p.mem, p.chain.head, 0);
  p.queue.addUsed(p.mem, first, 0);
  assert.deepEqual([p.queue.inflight, p.queue.drained], [0, false], "not published yet");
  p.queue.publishUsed(p.mem);
  assert.equal(p.queue.drained, true);
  assert.equal(p.queue.nextAvail, 2, "the base GET_VRING_BASE returns");
});

Deno.test("SplitQueue.addUsed() rejects device bugs: nothing in flight, head out of range", () => {
  const p = pair(8);
  assert.throws(() => p.queue.addUsed(p.mem, 0, 0), RangeError);
  p.driver.add({ out: [{ gpa: DATA_GPA, len: 1 }], in: [] }, {}, "x");
  p.driver.publish();
  assert.ok(p.queue.popChain(p.mem, p.chain));
  assert.throws(() => p.queue.addUsed(p.mem, 8, 0), RangeError);
  assert.throws(() => p.queue.addUsed(p.mem, 0, 2 ** 32), RangeError);
});

Deno.test("SplitQueue.popChain() refuses a chain with less capacity than the queue size", () => {
  const p = pair(8);
  assert.throws(() => p.queue.popChain(p.mem, new DescriptorChain(4)), RangeError);
});

Deno.test("SplitQueue.reset() returns to the constructed state, broken or not", () => {
  const r = new RawRing(guestRam(), 8);
  const { queue, chain } = r.device();
  queue.setSize(4);
  queue.eventIdx = true;
  r.setAvailIdx(100);
  assert.throws(() => queue.popChain(r.mem, chain), VirtqueueError);
  queue.reset();
  assert.deepEqual(
    [queue.broken, queue.ready, queue.size, queue.addresses, queue.nextAvail, queue.nextUsed, queue.eventIdx],
    [false, false, 8, null, 0, 0, false],
  );
});
