import assert from "node:assert/strict";
import { ErrnoError, IoctlArg, ioctlArg, ioctlValue, openPath } from "../../src/os/mod.ts";
import { O_RDWR, VFIO_GET_API_VERSION, VFIO_GROUP_GET_STATUS } from "../../ffi/constants.ts";

Deno.test("IoctlArg.reset() zero-fills, and grows when a capability chain needs more", () => {
  const arg = new IoctlArg(8);
  arg.view.setUint32(4, 0xffff_ffff, true);
  arg.reset();
  assert.deepEqual([...arg.bytes], [0, 0, 0, 0, 0, 0, 0, 0]);
  const grown = arg.reset(64);
  assert.equal(arg.size, 64);
  assert.equal(grown.byteLength, 64);
  assert.equal(arg.reset(16).byteLength, 64, "never shrinks");
});

Deno.test("ioctlArg() and ioctlValue() throw ErrnoError naming the request", () => {
  using fd = openPath("/dev/null", O_RDWR);
  const arg = new IoctlArg(8);
  assert.throws(
    () => ioctlArg(fd.raw, VFIO_GROUP_GET_STATUS, arg.bytes, "VFIO_GROUP_GET_STATUS"),
    (e: unknown) => e instanceof ErrnoError && e.message === "Cannot ioctl VFIO_GROUP_GET_STATUS: ENOTTY",
  );
  assert.throws(
    () => ioctlValue(fd.raw, VFIO_GET_API_VERSION, 0, "VFIO_GET_API_VERSION"),
    (e: unknown) => e instanceof ErrnoError && e.code === "ENOTTY",
  );
});
