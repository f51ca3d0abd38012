import assert from "node:assert/strict";
import { EventFd, Fd, isFdOpen } from "../../src/os/mod.ts";

Deno.test("EventFd.consume() returns the accumulated count once, then 0", () => {
  using e = new EventFd();
  assert.equal(e.consume(), 0n);
  e.signal();
  e.signal(2n);
  assert.equal(e.consume(), 3n);
  assert.equal(e.consume(), 0n);
});

Deno.test("EventFd is close-on-exec and close() releases the descriptor", () => {
  const e = new EventFd();
  const raw = e.fd;
  assert.ok(new Fd(raw).isCloseOnExec());
  e.close();
  assert.equal(isFdOpen(raw), false);
});

Deno.test("Fd.take() hands ownership on: closing the old owner leaves the descriptor open", () => {
  const e = new EventFd();
  const owner = new Fd(e.fd);
  const raw = owner.take();
  owner.close();
  assert.ok(isFdOpen(raw));
  e.close();
  assert.equal(isFdOpen(raw), false);
});

Deno.test("Fd rejects a negative descriptor", () => {
  assert.throws(() => new Fd(-1), /must be >= 0: current value is -1/);
});
