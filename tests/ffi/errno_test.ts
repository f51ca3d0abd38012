import assert from "node:assert/strict";
import { ErrnoError, errnoName } from "../../ffi/errno.ts";
import { check, lastErrno, libc } from "../../ffi/libc.ts";

Deno.test("check() throws ErrnoError with the syscall and errno name read right after the call", () => {
  let err: unknown;
  try {
    check(libc.close(-1), "close");
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ErrnoError);
  assert.equal(err.errno, 9);
  assert.equal(err.code, "EBADF");
  assert.equal(err.syscall, "close");
  assert.equal(err.message, "Cannot close: EBADF");
});

Deno.test("lastErrno() reads the errno of the last failing call", () => {
  assert.equal(libc.close(-1), -1);
  assert.equal(lastErrno(), 9);
});

Deno.test("errnoName() names known values and falls back to the number", () => {
  assert.equal(errnoName(11), "EAGAIN");
  assert.equal(errnoName(4242), "errno 4242");
});
