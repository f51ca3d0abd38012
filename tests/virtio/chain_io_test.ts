import assert from "node:assert/strict";
import {
  ChainCursor,
  ChainReader,
  ChainWriter,
  type DescriptorChain,
  DriverQueue,
} from "../../src/virtio/mod.ts";
import { GuestMemoryError, type RegionGuestMemory } from "../../src/memory/mod.ts";
import { DATA_GPA, guestRam, RAM_GPA, RawRing } from "../_fixtures/guest_ram.ts";

const R0 = DATA_GPA;
const R1 = DATA_GPA + 0x1000;
const W0 = DATA_GPA + 0x2000;
const W1 = DATA_GPA + 0x3000;
const W2 = DATA_GPA + 0x4000;

/** A chain of readable [10, 100] and writable [3, 80, 1] buffers, popped through a device queue. */
function popped(mem: RegionGuestMemory = guestRam()): { mem: RegionGuestMemory; chain: DescriptorChain } {
  const raw = new RawRing(mem, 8);
  const driver = new DriverQueue(mem, { size: 8, ...raw.layout });
  driver.add(
    {
      out: [{ gpa: R0, len: 10 }, { gpa: R1, len: 100 }],
      in: [{ gpa: W0, len: 3 }, { gpa: W1, len: 80 }, { gpa: W2, len: 1 }],
    },
    {},
    null,
  );
  driver.publish();
  const { chain } = raw.popOne();
  assert.equal(chain.error, null);
  return { mem, chain };
}

function pieces(chain: DescriptorChain, writable: boolean, offset: number, length: number): number[][] {
  const c = new ChainCursor();
  assert.ok(c.start(chain, writable, offset, length));
  const out: number[][] = [];
  while (c.next()) out.push([c.index, c.offset, c.length, c.gpa]);
  return out;
}

Deno.test("ChainCursor walks a readable range across descriptors", () => {
  const { chain } = popped();
  assert.deepEqual(pieces(chain, false, 4, 20), [[0, 4, 6, R0 + 4], [1, 0, 14, R1]]);
  assert.deepEqual(pieces(chain, false, 10, 100), [[1, 0, 100, R1]]);
  assert.deepEqual(pieces(chain, false, 110, 0), []);
});

Deno.test("ChainCursor walks a writable range with descriptor indices of the whole chain", () => {
  const { chain } = popped();
  assert.deepEqual(pieces(chain, true, 2, 82), [[2, 2, 1, W0 + 2], [3, 0, 80, W1], [4, 0, 1, W2]]);
  assert.deepEqual(pieces(chain, true, 83, 1), [[4, 0, 1, W2]], "the status byte");
});

Deno.test("ChainCursor.start() refuses a range past the end of the part", () => {
  const { chain } = popped();
  const c = new ChainCursor();
  assert.equal(c.start(chain, false, 100, 11), false);
  assert.equal(c.next(), false);
  assert.equal(c.start(chain, true, 0, 85), false);
  assert.equal(c.start(chain, true, -1, 1), false);
  assert.equal(c.start(chain, true, 84, 0), true);
});

Deno.test("ChainReader.readInto() copies across descriptors and stops at the end of the readable part", () => {
  const { mem, chain } = popped();
  mem.write(R0, Uint8Array.from({ length: 10 }, (_, i) => i));
  mem.write(R1, Uint8Array.from({ length: 100 }, (_, i) => 10 + i));
  const reader = new ChainReader();
  const head = new Uint8Array(16);
  assert.equal(reader.readInto(mem, chain, 2, head), 16);
  assert.deepEqual([...head], Array.from({ length: 16 }, (_, i) => 2 + i));
  const big = new Uint8Array(200);
  assert.equal(reader.readInto(mem, chain, 0, big), 110, "short: the readable part has 110 bytes");
  assert.deepEqual([...big.subarray(0, 110)], Array.from({ length: 110 }, (_, i) => i));
  assert.equal(big[110], 0);
  assert.equal(reader.readInto(mem, chain, 500, big), 0);
});

Deno.test("ChainWriter.writeFrom() copies across descriptors and never writes past the writable part", () => {
  const { mem, chain } = popped();
  const writer = new ChainWriter();
  const src = Uint8Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(writer.writeFrom(mem, chain, 0, src), 84);
  const w0 = new Uint8Array(4);
  mem.read(W0, w0);
  assert.deepEqual([...w0], [1, 2, 3, 0], "the byte after the 3-byte buffer is untouched");
  const w1 = new Uint8Array(80);
  mem.read(W1, w1);
  assert.deepEqual([...w1], Array.from({ length: 80 }, (_, i) => i + 4));
  const w2 = new Uint8Array(2);
  mem.read(W2, w2);
  assert.deepEqual([...w2], [84, 0]);
});

Deno.test("ChainWriter.writeByte() writes the status byte and refuses offsets outside the writable part", () => {
  const { mem, chain } = popped();
  const writer = new ChainWriter();
  assert.ok(writer.writeByte(mem, chain, chain.writableBytes - 1, 0x5a));
  const b = new Uint8Array(1);
  mem.read(W2, b);
  assert.equal(b[0], 0x5a);
  assert.equal(writer.writeByte(mem, chain, chain.writableBytes, 1), false);
});

Deno.test("ChainReader and ChainWriter copy a buffer that spans two adjacent regions", () => {
  const mem = guestRam({ splitAt: 0x9_0000 });
  const raw = new RawRing(mem, 8);
  raw.desc(0, { addr: RAM_GPA + 0x8_ff00, len: 0x200, flags: 1, next: 1 }, {
    addr: RAM_GPA + 0x8_fff0,
    len: 0x20,
    flags: 2,
  });
  raw.offer(0);
  const { chain } = raw.popOne();
  assert.equal(chain.error, null);
  const src = Uint8Array.from({ length: 0x20 }, (_, i) => 0x80 + i);
  assert.equal(new ChainWriter().writeFrom(mem, chain, 0, src), 0x20);
  const back = new Uint8Array(0x20);
  mem.read(RAM_GPA + 0x8_fff0, back);
  assert.deepEqual(back, src);
  mem.write(RAM_GPA + 0x8_ff00, Uint8Array.from({ length: 0x200 }, (_, i) => i & 0xff));
  const all = new Uint8Array(0x200);
  assert.equal(new ChainReader().readInto(mem, chain, 0, all), 0x200);
  assert.equal(all[0x1ff], 0xff);
});

Deno.test("ChainReader.readInto() throws GuestMemoryError when the memory table no longer holds the buffer", () => {
  const { chain } = popped();
  const other = guestRam({ gpa: RAM_GPA + 0x100_0000 });
  assert.throws(() => new ChainReader().readInto(other, chain, 0, new Uint8Array(4)), GuestMemoryError);
  assert.equal(new ChainWriter().writeByte(other, chain, 0, 1), false);
});
