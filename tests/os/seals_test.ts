import assert from "node:assert/strict";
import { F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK } from "../../ffi/constants.ts";
import { createMemfd, describeFd, fileSeals, guardAgainstShrink, openPath } from "../../src/os/mod.ts";

Deno.test("createMemfd() seals like QEMU's memory-backend-memfd by default", () => {
  using fd = createMemfd("seals-default", 4096);
  assert.equal(fileSeals(fd.raw), F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
  assert.equal(guardAgainstShrink(fd.raw), "sealed");
  assert.match(describeFd(fd.raw), /^\/memfd:seals-default/);
});

Deno.test("guardAgainstShrink() seals a sealable memfd, and says which files it cannot guard", () => {
  using open = createMemfd("seals-open", 4096, { seals: 0 });
  assert.equal(fileSeals(open.raw), 0);
  assert.equal(guardAgainstShrink(open.raw), "sealed-now");
  assert.equal(fileSeals(open.raw), F_SEAL_SHRINK);
  assert.equal(guardAgainstShrink(open.raw), "sealed", "a second region of the same file");
  using locked = createMemfd("seals-locked", 4096, { seals: null });
  assert.equal(fileSeals(locked.raw), F_SEAL_SEAL, "memfd_create without MFD_ALLOW_SEALING");
  assert.equal(guardAgainstShrink(locked.raw), "unsealable");
  using file = openPath("/proc/self/status", 0);
  assert.equal(fileSeals(file.raw), null);
  assert.equal(guardAgainstShrink(file.raw), "no-seals");
});
