import assert from "node:assert/strict";
import { CryptoWireError, DataRequest, readDataRequest } from "../../src/crypto/mod.ts";

Deno.test("DataRequest.sessionId splits a u64 into sessionIdLo and sessionIdHi and back", () => {
  const r = new DataRequest();
  r.sessionId = 0xfedc_ba98_7654_3210n;
  assert.equal(r.sessionIdLo, 0x7654_3210);
  assert.equal(r.sessionIdHi, 0xfedc_ba98);
  assert.equal(r.sessionId, 0xfedc_ba98_7654_3210n);
  r.sessionId = -1n;
  assert.equal(r.sessionId, 0xffff_ffff_ffff_ffffn, "wrapped to 64 bits");
});

Deno.test("DataRequest.sessionIdNumber is exact below 2^53 and -1 from there on", () => {
  const r = new DataRequest();
  r.sessionId = 5n;
  assert.equal(r.sessionIdNumber, 5);
  r.sessionId = 2n ** 53n - 1n;
  assert.equal(r.sessionIdNumber, Number.MAX_SAFE_INTEGER);
  r.sessionId = 2n ** 53n;
  assert.equal(r.sessionIdNumber, -1);
});

Deno.test("DataRequest.reset() clears every field", () => {
  const r = new DataRequest();
  const fresh = new DataRequest();
  for (const key of Object.keys(r) as (keyof DataRequest)[]) {
    const v = r[key];
    if (typeof v === "number") Object.assign(r, { [key]: 7 });
  }
  Object.assign(r, { kind: "aead", stateless: true, error: "too-large", errorField: "x" });
  r.reset();
  assert.deepEqual({ ...r }, { ...fresh });
});

Deno.test("DataRequest.toError() is null after a good decode and a std-style CryptoWireError after a bad one", () => {
  const r = new DataRequest();
  assert.equal(r.toError(), null);
  readDataRequest(new Uint8Array(10), "legacy", r);
  const short = r.toError();
  assert.ok(short instanceof CryptoWireError);
  assert.equal(short.kind, "short-buffer");
  assert.equal(
    short.message,
    "Cannot decode data request: need 24 bytes for virtio_crypto_op_header: current length is 10",
  );
  const b = new Uint8Array(72);
  b[0] = 2; // CIPHER_CREATE_SESSION is a control opcode
  readDataRequest(b, "legacy", r);
  assert.equal(
    r.toError()?.message,
    "Cannot decode data request: opcode is not supported: current value is 0x0002",
  );
});
