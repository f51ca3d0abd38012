// Property test (issue 14, item 6) of the split virtqueue against a guest that writes anything into its ring:
// random descriptor tables (direct, indirect, chained, looping, out of memory) and random avail entries. Popping
// gives a chain whose every buffer is guest memory, or a chain marked with a VirtqueueError, or a VirtqueueError
// for the ring; never another exception, never a buffer outside memory.

import assert from "node:assert/strict";
import fc from "fast-check";
import { DescriptorChain, VirtqueueError } from "../../src/virtio/mod.ts";
import { guestRam, RAM_GPA, RAM_SIZE, RawRing } from "../_fixtures/guest_ram.ts";

const SIZE = 16;
const INDIRECT_GPA = RAM_GPA + 0x4_0000;

// Addresses near and across the edges of guest RAM, and far outside it.
const addr = fc.oneof(
  fc.integer({ min: RAM_GPA, max: RAM_GPA + RAM_SIZE - 1 }),
  fc.constantFrom(0, RAM_GPA - 1, RAM_GPA + RAM_SIZE - 16, RAM_GPA + RAM_SIZE, 2 ** 52),
  fc.constant(INDIRECT_GPA),
);
const desc = fc.record({
  addr,
  len: fc.oneof(fc.integer({ min: 0, max: 4096 }), fc.constantFrom(0xffff_ffff, 16 * SIZE, 16 * 3)),
  flags: fc.integer({ min: 0, max: 7 }), // NEXT, WRITE, INDIRECT in any mix
  next: fc.integer({ min: 0, max: SIZE + 2 }),
});

Deno.test("property: popChain over any descriptor table gives in-memory buffers or a VirtqueueError", () => {
  fc.assert(
    fc.property(
      fc.array(desc, { minLength: SIZE, maxLength: SIZE }),
      fc.array(desc, { minLength: 4, maxLength: 4 }),
      fc.array(fc.integer({ min: 0, max: SIZE + 4 }), { minLength: 1, maxLength: 8 }),
      fc.integer({ min: 0, max: 0xffff }),
      (table, indirect, heads, availIdx) => {
        const mem = guestRam();
        const ring = new RawRing(mem, SIZE);
        ring.desc(0, ...table);
        new RawRing(mem, 4, INDIRECT_GPA).desc(0, ...indirect);
        for (const h of heads) ring.offer(h);
        if (availIdx % 3 === 0) ring.setAvailIdx(availIdx); // an index the driver never reached
        const { queue } = ring.device();
        const chain = new DescriptorChain(SIZE);
        for (let i = 0; i < heads.length + 1; i++) {
          try {
            if (!queue.popChain(mem, chain)) return;
          } catch (e) {
            assert.ok(e instanceof VirtqueueError, `expected a VirtqueueError, got ${e}`);
            return;
          }
          if (chain.error !== null) {
            assert.ok(chain.error instanceof VirtqueueError);
            continue;
          }
          for (let d = 0; d < chain.count; d++) {
            const a = chain.addr[d]!;
            assert.ok(a >= RAM_GPA && a + chain.len[d]! <= RAM_GPA + RAM_SIZE, `buffer ${d} outside memory`);
          }
          assert.ok(chain.readableCount <= chain.count);
        }
      },
    ),
    { seed: 14, numRuns: 3000 },
  );
});
