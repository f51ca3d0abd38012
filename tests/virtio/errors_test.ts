import assert from "node:assert/strict";
import { CHAIN_ERROR_KINDS, VirtqueueError } from "../../src/virtio/mod.ts";

Deno.test("VirtqueueError carries name, kind, message and cause", () => {
  const cause = new RangeError("inner");
  const e = new VirtqueueError("invalid-avail-index", "Cannot pop chain: avail idx is too far ahead", {
    cause,
  });
  assert.ok(e instanceof Error);
  assert.equal(e.name, "VirtqueueError");
  assert.equal(e.kind, "invalid-avail-index");
  assert.equal(e.message, "Cannot pop chain: avail idx is too far ahead");
  assert.equal(e.cause, cause);
});

Deno.test("CHAIN_ERROR_KINDS holds the chain errors and none of the ring errors", () => {
  for (const k of ["chain-too-long", "chain-overflow", "read-after-write", "nested-indirect"] as const) {
    assert.ok(CHAIN_ERROR_KINDS.has(k), k);
  }
  for (const k of ["invalid-avail-index", "invalid-head-index", "invalid-ring-address"] as const) {
    assert.ok(!CHAIN_ERROR_KINDS.has(k), k);
  }
});
