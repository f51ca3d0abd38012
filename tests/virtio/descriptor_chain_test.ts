import assert from "node:assert/strict";
import {
  DescriptorChain,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  VirtqueueError,
  type VirtqueueErrorKind,
} from "../../src/virtio/mod.ts";
import { DATA_GPA, guestRam, RAM_GPA, RAM_SIZE, RawRing, writeDescs } from "../_fixtures/guest_ram.ts";

const NEXT = VIRTQ_DESC_F_NEXT;
const WRITE = VIRTQ_DESC_F_WRITE;
const INDIRECT = VIRTQ_DESC_F_INDIRECT;
const TABLE_GPA = RAM_GPA + 0x4_0000; // where tests put indirect tables

function ring(size = 8): RawRing {
  return new RawRing(guestRam(), size);
}

function assertChainError(r: RawRing, kind: VirtqueueErrorKind, head = 0): DescriptorChain {
  r.offer(head);
  const { queue, chain } = r.popOne();
  assert.ok(chain.error instanceof VirtqueueError, `expected a ${kind} chain error`);
  assert.equal(chain.error.kind, kind);
  assert.equal(chain.head, head);
  assert.ok(!queue.broken, "a chain error must not stop the queue");
  assert.equal(queue.inflight, 1, "the malformed chain is in flight so the device can complete it");
  return chain;
}

Deno.test("DescriptorChain() rejects capacities outside 1..32768", () => {
  assert.throws(() => new DescriptorChain(0), RangeError);
  assert.throws(() => new DescriptorChain(32769), RangeError);
  assert.equal(new DescriptorChain(32768).capacity, 32768);
});

Deno.test("DescriptorChain.reset() clears counts, totals and error", () => {
  const r = ring();
  r.desc(0, { addr: DATA_GPA, len: 10, flags: NEXT, next: 1 }, { addr: DATA_GPA + 16, len: 3, flags: WRITE });
  r.offer(0);
  const { chain } = r.popOne();
  assert.equal(chain.count, 2);
  chain.reset();
  assert.deepEqual(
    [chain.head, chain.count, chain.readableCount, chain.readableBytes, chain.writableBytes, chain.error],
    [0, 0, 0, 0, 0, null],
  );
});

Deno.test("SplitQueue.popChain() copies a direct chain: readable first, totals, writable flags", () => {
  const r = ring();
  r.desc(
    2,
    { addr: DATA_GPA, len: 72, flags: NEXT, next: 5 },
    { addr: DATA_GPA + 0x100, len: 16, flags: WRITE }, // desc 3: unused by the chain
  );
  r.desc(5, { addr: DATA_GPA + 0x200, len: 32, flags: NEXT, next: 7 });
  r.desc(7, { addr: DATA_GPA + 0x300, len: 1, flags: WRITE });
  const chain = assertNoError(r, 2);
  assert.equal(chain.count, 3);
  assert.equal(chain.readableCount, 2);
  assert.equal(chain.writableCount, 1);
  assert.equal(chain.readableBytes, 104);
  assert.equal(chain.writableBytes, 1);
  assert.deepEqual([...chain.addr.subarray(0, 3)], [DATA_GPA, DATA_GPA + 0x200, DATA_GPA + 0x300]);
  assert.deepEqual([...chain.writable.subarray(0, 3)], [0, 0, 1]);
  assert.equal(chain.indirect, false);
});

function assertNoError(r: RawRing, head: number): DescriptorChain {
  r.offer(head);
  const { chain } = r.popOne();
  assert.equal(chain.error, null, chain.error?.message);
  assert.equal(chain.head, head);
  return chain;
}

Deno.test("SplitQueue.popChain() ignores zero-length descriptors, even a readable one after a writable one", () => {
  const r = ring();
  r.desc(
    0,
    { addr: DATA_GPA, len: 8, flags: NEXT, next: 1 },
    { addr: 0, len: 0, flags: WRITE | NEXT, next: 2 }, // zero length: address not checked
    { addr: DATA_GPA + 8, len: 4, flags: WRITE | NEXT, next: 3 },
    { addr: DATA_GPA + 8, len: 0, flags: 0 },
  );
  const chain = assertNoError(r, 0);
  assert.equal(chain.count, 2);
  assert.equal(chain.readableBytes, 8);
  assert.equal(chain.writableBytes, 4);
});

Deno.test("SplitQueue.popChain() reports a next index outside the table (CVE class: bad next)", () => {
  const r = ring(8);
  r.desc(0, { addr: DATA_GPA, len: 8, flags: NEXT, next: 8 });
  assertChainError(r, "invalid-descriptor-index");
});

Deno.test("SplitQueue.popChain() ends a direct descriptor loop (CVE class: dead loop)", () => {
  const r = ring(8);
  r.desc(0, { addr: DATA_GPA, len: 8, flags: NEXT, next: 1 }, {
    addr: DATA_GPA,
    len: 8,
    flags: NEXT,
    next: 0,
  });
  assertChainError(r, "chain-too-long");
});

Deno.test("SplitQueue.popChain() ends a self loop of zero-length descriptors", () => {
  const r = ring(8);
  r.desc(3, { addr: 0, len: 0, flags: NEXT, next: 3 });
  assertChainError(r, "chain-too-long", 3);
});

Deno.test("SplitQueue.popChain() ends a loop inside an indirect table", () => {
  const r = ring(8);
  writeDescs(r.mem, TABLE_GPA, [
    { addr: DATA_GPA, len: 8, flags: NEXT, next: 1 },
    { addr: DATA_GPA, len: 8, flags: NEXT, next: 2 },
    { addr: DATA_GPA, len: 8, flags: NEXT, next: 1 },
  ]);
  r.desc(0, { addr: TABLE_GPA, len: 48, flags: INDIRECT });
  const chain = assertChainError(r, "chain-too-long");
  assert.ok(chain.indirect);
  assert.match(chain.error!.message, /indirect table of 3/, "bounded by the table, before the queue size");
});

Deno.test("SplitQueue.popChain() rejects an indirect chain longer than the queue size", () => {
  const r = ring(8);
  const table = Array.from({ length: 9 }, (_, i) => ({ addr: DATA_GPA, len: 1, flags: NEXT, next: i + 1 }));
  table[8] = { addr: DATA_GPA, len: 1, flags: 0, next: 0 };
  writeDescs(r.mem, TABLE_GPA, table);
  r.desc(0, { addr: TABLE_GPA, len: 16 * 9, flags: INDIRECT });
  assertChainError(r, "chain-too-long");
});

Deno.test("SplitQueue.popChain() accepts an indirect table of exactly the queue size", () => {
  const r = ring(8);
  const table = Array.from(
    { length: 8 },
    (_, i) => ({ addr: DATA_GPA + i, len: 1, flags: NEXT, next: i + 1 }),
  );
  table[7] = { addr: DATA_GPA + 7, len: 1, flags: WRITE, next: 0 };
  writeDescs(r.mem, TABLE_GPA, table);
  r.desc(0, { addr: TABLE_GPA, len: 16 * 8, flags: INDIRECT | WRITE }); // WRITE on the pointer is ignored
  const chain = assertNoError(r, 0);
  assert.equal(chain.count, 8);
  assert.equal(chain.readableCount, 7);
  assert.ok(chain.indirect);
});

Deno.test("SplitQueue.popChain() accepts direct descriptors followed by one indirect descriptor (2.7.5.3.2)", () => {
  const r = ring(8);
  writeDescs(r.mem, TABLE_GPA, [
    { addr: DATA_GPA + 0x100, len: 16, flags: NEXT, next: 1 },
    { addr: DATA_GPA + 0x200, len: 1, flags: WRITE },
  ]);
  r.desc(0, { addr: DATA_GPA, len: 72, flags: NEXT, next: 4 });
  r.desc(4, { addr: TABLE_GPA, len: 32, flags: INDIRECT });
  const chain = assertNoError(r, 0);
  assert.deepEqual([...chain.len.subarray(0, 3)], [72, 16, 1]);
  assert.equal(chain.readableCount, 2);
});

Deno.test("SplitQueue.popChain() rejects INDIRECT inside an indirect table", () => {
  const r = ring(8);
  writeDescs(r.mem, TABLE_GPA, [{ addr: TABLE_GPA, len: 16, flags: INDIRECT }]);
  r.desc(0, { addr: TABLE_GPA, len: 16, flags: INDIRECT });
  assertChainError(r, "nested-indirect");
});

Deno.test("SplitQueue.popChain() rejects INDIRECT together with NEXT", () => {
  const r = ring(8);
  writeDescs(r.mem, TABLE_GPA, [{ addr: DATA_GPA, len: 16 }]);
  r.desc(0, { addr: TABLE_GPA, len: 16, flags: INDIRECT | NEXT, next: 1 }, { addr: DATA_GPA, len: 1 });
  assertChainError(r, "invalid-indirect-table");
});

Deno.test("SplitQueue.popChain() rejects an indirect table whose length is not a multiple of 16", () => {
  const r = ring(8);
  r.desc(0, { addr: TABLE_GPA, len: 24, flags: INDIRECT });
  assertChainError(r, "invalid-indirect-table");
});

Deno.test("SplitQueue.popChain() rejects an empty indirect table", () => {
  const r = ring(8);
  r.desc(0, { addr: TABLE_GPA, len: 0, flags: INDIRECT });
  assertChainError(r, "invalid-indirect-table");
});

Deno.test("SplitQueue.popChain() rejects an indirect table outside guest memory", () => {
  const r = ring(8);
  r.desc(0, { addr: RAM_GPA + RAM_SIZE - 16, len: 32, flags: INDIRECT });
  assertChainError(r, "invalid-indirect-table");
  const r2 = ring(8);
  r2.desc(0, { addr: 1n << 60n, len: 16, flags: INDIRECT });
  assertChainError(r2, "invalid-indirect-table");
});

Deno.test("SplitQueue.popChain() rejects a buffer running past the end of guest memory", () => {
  const r = ring(8);
  r.desc(0, { addr: DATA_GPA, len: 8, flags: NEXT, next: 1 }, {
    addr: RAM_GPA + RAM_SIZE - 4,
    len: 5,
    flags: WRITE,
  });
  assertChainError(r, "address-out-of-range");
});

Deno.test("SplitQueue.popChain() rejects a buffer address above 2^53 as a chain error, not an exception", () => {
  const r = ring(8);
  r.desc(0, { addr: (1n << 53n) + 0x1000n, len: 8 });
  const chain = assertChainError(r, "address-out-of-range");
  assert.match(chain.error!.message, /above 2\^53/);
});

Deno.test("SplitQueue.popChain() accepts a buffer spanning two adjacent regions", () => {
  const r = new RawRing(guestRam({ splitAt: 0x9_0000 }), 8);
  r.desc(0, { addr: RAM_GPA + 0x8_fff0, len: 0x20 });
  const chain = assertNoError(r, 0);
  assert.equal(chain.readableBytes, 0x20);
});

Deno.test("SplitQueue.popChain() rejects a readable descriptor after a writable one (2.7.4.2)", () => {
  const r = ring(8);
  r.desc(0, { addr: DATA_GPA, len: 8, flags: WRITE | NEXT, next: 1 }, { addr: DATA_GPA + 8, len: 8 });
  assertChainError(r, "read-after-write");
});

Deno.test("SplitQueue.popChain() rejects a byte total of 2^32 or more (two descriptors of 0xffffffff)", () => {
  const r = ring(8);
  r.desc(0, { addr: DATA_GPA, len: 0xffff_ffff, flags: NEXT, next: 1 }, { addr: DATA_GPA, len: 0xffff_ffff });
  assertChainError(r, "chain-overflow");
});

Deno.test("SplitQueue.popChain() keeps its copy when the guest rewrites the descriptors afterwards (TOCTOU)", () => {
  const r = ring(8);
  writeDescs(r.mem, TABLE_GPA, [
    { addr: DATA_GPA, len: 72, flags: NEXT, next: 1 },
    { addr: DATA_GPA + 0x100, len: 1, flags: WRITE },
  ]);
  r.desc(0, { addr: TABLE_GPA, len: 32, flags: INDIRECT });
  const chain = assertNoError(r, 0);
  // The guest now rewrites both the ring's descriptor and the indirect table with hostile values.
  r.desc(0, { addr: DATA_GPA, len: 0xffff_ffff, flags: NEXT, next: 0 });
  writeDescs(r.mem, TABLE_GPA, [{ addr: 1n << 62n, len: 0xffff_ffff, flags: WRITE }]);
  assert.deepEqual([chain.count, chain.readableBytes, chain.writableBytes], [2, 72, 1]);
  assert.deepEqual([...chain.addr.subarray(0, 2)], [DATA_GPA, DATA_GPA + 0x100]);
  assert.deepEqual([...chain.len.subarray(0, 2)], [72, 1]);
});
