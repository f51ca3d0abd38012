import assert from "node:assert/strict";
import { GuestMemoryError, type GuestRegion, RegionGuestMemory } from "../../src/memory/mod.ts";

function region(gpa: number, size: number, frontendVa = 0x7f00_0000_0000 + gpa): GuestRegion {
  return { gpa, size, frontendVa, bytes: new Uint8Array(size), address: 0n };
}

Deno.test("RegionGuestMemory.find() returns the region holding the whole range, or undefined", () => {
  const low = region(0, 0x1000);
  const high = region(0x10000, 0x2000);
  const mem = new RegionGuestMemory([high, low]);
  assert.equal(mem.find(0x10, 0x20), low);
  assert.equal(mem.find(0x10000, 0x2000), high);
  assert.equal(mem.find(0x11fff, 2), undefined, "crosses the end of the region");
  assert.equal(mem.find(0x2000, 1), undefined, "hole between regions");
  assert.deepEqual(mem.regions.map((r) => r.gpa), [0, 0x10000], "sorted by gpa");
});

Deno.test("RegionGuestMemory.checkRange() accepts ranges across adjacent regions, not across holes", () => {
  const mem = new RegionGuestMemory([region(0, 0x1000), region(0x1000, 0x1000), region(0x3000, 0x1000)]);
  assert.ok(mem.checkRange(0xff0, 0x20));
  assert.ok(!mem.checkRange(0x1ff0, 0x20));
  assert.ok(!mem.checkRange(-1, 4));
  assert.ok(!mem.checkRange(0x3000, Number.MAX_SAFE_INTEGER));
  assert.ok(!mem.checkRange(0x3000, 0.5));
});

Deno.test("RegionGuestMemory.read() and write() copy across adjacent regions", () => {
  const a = region(0, 0x1000);
  const b = region(0x1000, 0x1000);
  const mem = new RegionGuestMemory([a, b]);
  mem.write(0xffe, new Uint8Array([1, 2, 3, 4]));
  assert.deepEqual([...a.bytes.subarray(0xffe)], [1, 2]);
  assert.deepEqual([...b.bytes.subarray(0, 2)], [3, 4]);
  const out = new Uint8Array(4);
  mem.read(0xffe, out);
  assert.deepEqual([...out], [1, 2, 3, 4]);
});

Deno.test("RegionGuestMemory.write() outside guest RAM throws GuestMemoryError and writes nothing", () => {
  const a = region(0, 0x1000);
  const mem = new RegionGuestMemory([a]);
  assert.throws(() => mem.write(0xffe, new Uint8Array([9, 9, 9, 9])), GuestMemoryError);
  assert.equal(a.bytes[0xffe], 0, "nothing written before the check");
});

Deno.test("RegionGuestMemory rejects overlapping regions, in gpa and in front-end va", () => {
  assert.throws(
    () => new RegionGuestMemory([region(0, 0x2000), region(0x1000, 0x1000, 0x9000_0000)]),
    /overlap/,
  );
  assert.throws(
    () => new RegionGuestMemory([region(0, 0x1000, 0x5000), region(0x8000, 0x1000, 0x5800)]),
    /overlap/,
  );
});

Deno.test("RegionGuestMemory rejects a region whose view does not match its size", () => {
  const bad: GuestRegion = { gpa: 0, size: 0x1000, frontendVa: 0, bytes: new Uint8Array(10), address: 0n };
  assert.throws(() => new RegionGuestMemory([bad]), /region 0 is malformed/);
});

Deno.test("RegionGuestMemory.frontendVaToGpa() translates inside one region only", () => {
  const mem = new RegionGuestMemory([region(0x100000, 0x1000, 0x7000_0000)]);
  assert.equal(mem.frontendVaToGpa(0x7000_0010, 16), 0x100010);
  assert.equal(mem.frontendVaToGpa(0x7000_0ff8, 16), undefined);
  assert.equal(mem.frontendVaToGpa(0x6fff_fff0, 4), undefined);
});

Deno.test("RegionGuestMemory carries its generation", () => {
  assert.equal(new RegionGuestMemory([region(0, 16)], 7).generation, 7);
});
