// SplitQueue reads avail.idx only when the chains its last read saw are all popped (Linux vhost's cached
// avail_idx), and availAhead() reads it afresh for the signal decision.
import assert from "node:assert/strict";
import { VirtqueueError } from "../../src/virtio/mod.ts";
import { DATA_GPA, guestRam, RawRing } from "../_fixtures/guest_ram.ts";

function ringWithOneBufferHeads(size: number): RawRing {
  const r = new RawRing(guestRam(), size);
  for (let i = 0; i < size; i++) r.desc(i, { addr: DATA_GPA + 16 * i, len: 16 });
  return r;
}

Deno.test("SplitQueue.popChain() pops the chains seen at the last avail.idx read without reading it again", () => {
  const r = ringWithOneBufferHeads(8);
  r.offer(0);
  r.offer(1);
  r.offer(2);
  const { queue, chain } = r.device();
  assert.ok(queue.popChain(r.mem, chain));
  assert.equal(queue.availPending, 2);
  // A bogus index now (9 ahead of next_avail 3 on a ring of 8) is not seen until the three chains read at first
  // are popped.
  r.setAvailIdx(12);
  assert.ok(queue.popChain(r.mem, chain));
  assert.equal(chain.head, 1);
  assert.ok(queue.popChain(r.mem, chain));
  assert.equal(chain.head, 2);
  assert.equal(queue.availPending, 0);
  assert.throws(
    () => queue.popChain(r.mem, chain),
    (e) => e instanceof VirtqueueError && e.kind === "invalid-avail-index",
  );
});

Deno.test("SplitQueue.popChain() reads avail.idx again once the cached chains are popped", () => {
  const r = ringWithOneBufferHeads(8);
  r.offer(4);
  const { queue, chain } = r.device();
  assert.ok(queue.popChain(r.mem, chain));
  r.offer(5); // added while the device worked: found at the next read
  r.offer(6);
  assert.equal(queue.availPending, 0, "not read yet");
  assert.ok(queue.popChain(r.mem, chain));
  assert.equal(chain.head, 5);
  assert.equal(queue.availPending, 1);
  assert.ok(queue.popChain(r.mem, chain));
  assert.equal(chain.head, 6);
  assert.equal(queue.popChain(r.mem, chain), false);
  assert.equal(r.availEvent(), 3, "avail_event = next_avail before the empty ring was believed");
});

Deno.test("SplitQueue forgets the cached count when next_avail or readiness is set", () => {
  const r = ringWithOneBufferHeads(8);
  for (let i = 0; i < 4; i++) r.offer(i);
  const { queue, chain } = r.device();
  assert.ok(queue.popChain(r.mem, chain));
  assert.equal(queue.availPending, 3);
  // VHOST_USER_SET_VRING_BASE back to 3 (a front-end restoring a ring): one chain left, not three.
  queue.setReady(false);
  queue.setNextAvail(3);
  queue.setReady(true);
  assert.equal(queue.availPending, 0);
  assert.ok(queue.popChain(r.mem, chain));
  assert.equal(chain.head, 3);
  assert.equal(queue.popChain(r.mem, chain), false);
});

Deno.test("SplitQueue.availAhead() reads avail.idx now, where availPending keeps the last read", () => {
  const r = ringWithOneBufferHeads(8);
  r.offer(0);
  r.offer(1);
  const { queue, chain } = r.device();
  assert.equal(queue.availAhead(r.mem), 0, "before the first pop the rings are not mapped: availPending");
  assert.ok(queue.popChain(r.mem, chain));
  r.offer(2);
  r.offer(3);
  assert.equal(queue.availPending, 1);
  assert.equal(queue.availAhead(r.mem), 3);
  r.setAvailIdx(20); // more than size ahead: no work to count on (the next read breaks the queue)
  assert.equal(queue.availAhead(r.mem), 0);
});
