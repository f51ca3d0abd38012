import assert from "node:assert/strict";
import { createMemfd, Mapping } from "../../src/os/mod.ts";

Deno.test("Mapping.fromFd() of a memfd: two mappings see each other's writes (shared guest RAM)", () => {
  using fd = createMemfd("test-ram", 1 << 16);
  using a = Mapping.fromFd(fd.raw, 1 << 16);
  using b = Mapping.fromFd(fd.raw, 1 << 16);
  a.bytes[12345] = 0xab;
  assert.equal(b.bytes[12345], 0xab);
  assert.notEqual(a.address, b.address);
});

Deno.test("Mapping.fromFd() honours the file offset", () => {
  using fd = createMemfd("test-off", 2 * 4096);
  using whole = Mapping.fromFd(fd.raw, 2 * 4096);
  whole.bytes[4096] = 7;
  using second = Mapping.fromFd(fd.raw, 4096, { offset: 4096 });
  assert.equal(second.bytes[0], 7);
});

Deno.test("Mapping.unmap() is idempotent and the view is no longer handed out", () => {
  const m = Mapping.anonymous(4096);
  assert.equal(m.bytes.length, 4096);
  m.unmap();
  m.unmap();
  assert.equal(m.isMapped, false);
  assert.throws(() => m.bytes, /unmapped/);
});

Deno.test("Mapping.fromFd() of a bad descriptor throws ErrnoError(mmap)", () => {
  assert.throws(() => Mapping.fromFd(-1, 4096), /Cannot mmap \(4096 bytes\): EBADF/);
});

Deno.test("Mapping.anonymous() rejects a zero length with a message that states the value", () => {
  assert.throws(() => Mapping.anonymous(0), /length must be > 0: current value is 0/);
});
