import assert from "node:assert/strict";
import { CryptoWireError, type CryptoWireErrorKind, Status, wireErrorStatus } from "../../src/crypto/mod.ts";

Deno.test("CryptoWireError carries its kind, name, message and cause", () => {
  const cause = new Error("inner");
  const err = new CryptoWireError(
    "key-too-long",
    "Cannot accept key_len: must be <= 64: current value is 65",
    {
      cause,
    },
  );
  assert.ok(err instanceof Error);
  assert.equal(err.name, "CryptoWireError");
  assert.equal(err.kind, "key-too-long");
  assert.equal(err.message, "Cannot accept key_len: must be <= 64: current value is 65");
  assert.equal(err.cause, cause);
});

Deno.test("wireErrorStatus() answers unknown operations with NOTSUPP and malformed requests with ERR", () => {
  const notsupp: CryptoWireErrorKind[] = [
    "unknown-opcode",
    "unknown-op-type",
    "unknown-hash-mode",
    "unknown-algo",
    "unknown-flag",
    "unsupported-layout",
  ];
  const err: CryptoWireErrorKind[] = [
    "short-buffer",
    "bad-payload-size",
    "key-too-long",
    "invalid-length",
    "length-overflow",
    "too-large",
  ];
  for (const k of notsupp) assert.equal(wireErrorStatus(k), Status.NOTSUPP, k);
  for (const k of err) assert.equal(wireErrorStatus(k), Status.ERR, k);
});
