/**
 * HASH service end to end: hash sessions exist only through the control queue (QEMU's message 26 cannot express
 * them, interop.md §1.5); requests in both wire layouts; digests from FIPS 180-4 and FIPS 202 examples.
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { HashAlgo, Status } from "../../src/spec/virtio_crypto.ts";
import { type DriverOptions, hashRequest } from "../../src/frontend/mod.ts";
import type { HashVector } from "../../src/selftest/vectors/_types.ts";
import { SHA3_FIPS202 } from "../../src/selftest/vectors/sha3_fips202.ts";
import { SHA_FIPS180 } from "../../src/selftest/vectors/sha_fips180.ts";
import { ctrlSession, hex, send, startRig, toHex, vector } from "./_daemon.ts";

const LAYOUTS: readonly { name: string; options: Omit<DriverOptions, "path"> }[] = [
  { name: "legacy layout", options: { revision1: false } },
  { name: "REVISION_1", options: { revision1: true } },
];

const CASES: readonly HashVector[] = [
  // FIPS 180-4 examples (NIST CSRC "Examples with Intermediate Values"): SHA256.pdf, "abc" and the 448-bit message
  vector(SHA_FIPS180, "FIPS 180-4 SHA-256 one-block (abc)"),
  vector(SHA_FIPS180, "FIPS 180-4 SHA-256 two-block"),
  // FIPS 202 examples: SHA3-256_Msg0.pdf and SHA3-256_1600.pdf
  vector(SHA3_FIPS202, "FIPS 202 SHA3-256 Msg0"),
  vector(SHA3_FIPS202, "FIPS 202 SHA3-256 Msg1600"),
];

for (const v of CASES) {
  for (const layout of LAYOUTS) {
    Deno.test(`serve: hash session by control queue (${layout.name}) computes ${v.id}`, async () => {
      await using rig = await startRig(layout.options);
      const resultLen = v.digest.length / 2;
      const id = await ctrlSession(rig.driver, { service: "hash", algo: v.algo, resultLen });
      const msg = hex(v.message);
      const r = await send(rig.driver, hashRequest(id, msg.length, resultLen), { src_data: msg });
      assert.equal(r.status, Status.OK);
      assert.equal(toHex(r.out.hash_result!), v.digest);
      assert.equal(r.usedLen, resultLen + 1);
    });
  }
}

Deno.test("serve: SHAKE128 session by control queue produces the chosen output lengths (FIPS 202 Msg1600)", async () => {
  await using rig = await startRig({ revision1: true });
  const v = vector(SHA3_FIPS202, "FIPS 202 SHAKE128 Msg1600 (256-bit output)");
  const msg = hex(v.message);
  // 20 bytes: an XOF's shorter output is a prefix of its longer one, so the FIPS 202 example gives the answer.
  const short = await ctrlSession(rig.driver, {
    service: "hash",
    algo: HashAlgo.SHA3_SHAKE128,
    resultLen: 20,
  });
  const a = await send(rig.driver, hashRequest(short, msg.length, 20), { src_data: msg });
  assert.equal(a.status, Status.OK);
  assert.equal(toHex(a.out.hash_result!), v.digest.slice(0, 40));
  assert.equal(a.usedLen, 21);
  // 100 bytes: longer than the published excerpt; its first 32 bytes are the FIPS 202 example, and the whole output
  // is cross-checked with node:crypto (not the code under test).
  const long = await ctrlSession(rig.driver, {
    service: "hash",
    algo: HashAlgo.SHA3_SHAKE128,
    resultLen: 100,
  });
  const b = await send(rig.driver, hashRequest(long, msg.length, 100), { src_data: msg });
  assert.equal(b.status, Status.OK);
  assert.equal(toHex(b.out.hash_result!).slice(0, 64), v.digest);
  assert.equal(
    toHex(b.out.hash_result!),
    createHash("shake128", { outputLength: 100 }).update(msg).digest("hex"),
  );
  assert.equal(b.usedLen, 101);
});

Deno.test("serve: hash request whose hash_result_len differs from the session's answers ERR", async () => {
  await using rig = await startRig();
  const id = await ctrlSession(rig.driver, { service: "hash", algo: HashAlgo.SHA_256, resultLen: 32 });
  const r = await send(rig.driver, hashRequest(id, 3, 16), { src_data: new TextEncoder().encode("abc") });
  assert.equal(r.status, Status.ERR);
  assert.equal(r.usedLen, 1);
});
