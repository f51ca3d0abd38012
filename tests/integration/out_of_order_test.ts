/**
 * Out-of-order completion (style.md rule 13): an asynchronous engine completes requests in any order; the device
 * returns each through the used ring with its own head and used length, and the driver sees them in the engine's
 * order. The engine is `DeferredEngine` (tests/_fixtures/deferred_engine.ts): real OpenSSL cryptography, completion
 * order chosen by the test. Expected outputs: NIST SP 800-38A F.2.1 (CBC), FIPS 180-4 (SHA-256), RFC 4231 case 2.
 */

import assert from "node:assert/strict";
import { CipherAlgo, HashAlgo, MacAlgo, Status } from "../../src/spec/virtio_crypto.ts";
import { cipherRequest, hashRequest, macRequest } from "../../src/frontend/mod.ts";
import { DeferredEngine } from "../_fixtures/deferred_engine.ts";
import { AES_SP800_38A } from "../../src/selftest/vectors/aes_sp800_38a.ts";
import { HMAC_RFC4231 } from "../../src/selftest/vectors/hmac_rfc4231.ts";
import { SHA_FIPS180 } from "../../src/selftest/vectors/sha_fips180.ts";
import { ctrlSession, hex, send, type Sent, settled, startRig, toHex, vector } from "./_daemon.ts";

// NIST SP 800-38A F.2.1 (CBC-AES128): four blocks, each request encrypts a prefix of 1..4 blocks (CBC's ciphertext
// of a prefix is the prefix of the ciphertext).
const CBC = vector(AES_SP800_38A, "SP 800-38A F.2.1 CBC-AES128");
const SHA = vector(SHA_FIPS180, "FIPS 180-4 SHA-256 one-block (abc)");
const HMAC = vector(HMAC_RFC4231, "RFC 4231 HMAC-SHA256 test case 2");

Deno.test("serve: asynchronous engine completing in reverse order: each request gets its own output and used length", async () => {
  const engine = new DeferredEngine();
  await using rig = await startRig({}, { engine });
  const id = await ctrlSession(rig.driver, {
    service: "cipher",
    algo: CipherAlgo.AES_CBC,
    key: hex(CBC.key),
    op: 1,
  });
  const iv = hex(CBC.iv);
  const pt = hex(CBC.plaintext);
  const order: number[] = [];
  const pending: Promise<Sent>[] = [];
  for (let i = 0; i < 4; i++) {
    const len = 16 * (i + 1);
    const p = send(rig.driver, cipherRequest(id, true, iv, len), { iv, src_data: pt.subarray(0, len) });
    pending.push(p.then((r) => (order.push(i), r)));
  }
  await engine.waitHeld(4);
  assert.equal(rig.driver.inflight(0), 4);
  for (const p of pending) assert.equal(await settled(p), false);

  engine.releaseAllReversed();
  const results = await Promise.all(pending);
  assert.deepEqual(order, [3, 2, 1, 0]);
  results.forEach((r, i) => {
    const len = 16 * (i + 1);
    assert.equal(r.status, Status.OK);
    assert.equal(toHex(r.out.dst_data!), CBC.ciphertext.slice(0, 2 * len));
    assert.equal(r.usedLen, len + 1);
  });
  assert.equal(engine.completed, 4);
});

Deno.test("serve: asynchronous engine completing one at a time in a chosen order, mixed services", async () => {
  const engine = new DeferredEngine();
  await using rig = await startRig({ revision1: true }, { engine });
  const d = rig.driver;
  const cbc = await ctrlSession(d, { service: "cipher", algo: CipherAlgo.AES_CBC, key: hex(CBC.key), op: 1 });
  const sha = await ctrlSession(d, { service: "hash", algo: HashAlgo.SHA_256, resultLen: 32 });
  const mac = await ctrlSession(d, {
    service: "mac",
    algo: MacAlgo.HMAC_SHA_256,
    resultLen: 32,
    key: hex(HMAC.key),
  });
  const iv = hex(CBC.iv);
  const order: string[] = [];
  const track = (name: string, p: Promise<Sent>): Promise<Sent> => p.then((r) => (order.push(name), r));
  const c = track("cipher", send(d, cipherRequest(cbc, true, iv, 64), { iv, src_data: hex(CBC.plaintext) }));
  const h = track(
    "hash",
    send(d, hashRequest(sha, 3, 32), { src_data: hex(SHA.message) }, { shape: { indirect: true } }),
  );
  const m = track(
    "mac",
    send(d, macRequest(mac, 28, 32), { src_data: hex(HMAC.message) }, { shape: { maxDescriptor: 4 } }),
  );
  await engine.waitHeld(3);

  // Held in submission order: 0 cipher, 1 hash, 2 mac. Complete the MAC first, then the cipher, then the hash.
  engine.release([2]);
  const mr = await m;
  assert.equal(toHex(mr.out.hash_result!), HMAC.mac);
  assert.equal(mr.usedLen, 33);
  assert.equal(await settled(c), false);
  assert.equal(await settled(h), false);

  engine.release([0]); // the cipher is now at position 0 of [cipher, hash]
  const cr = await c;
  assert.equal(toHex(cr.out.dst_data!), CBC.ciphertext);
  assert.equal(cr.usedLen, 65);
  assert.equal(await settled(h), false);

  engine.release([0]);
  const hr = await h;
  assert.equal(toHex(hr.out.hash_result!), SHA.digest);
  assert.equal(hr.usedLen, 33);
  assert.deepEqual(order, ["mac", "cipher", "hash"]);
  assert.equal(rig.daemon.device.stats.ok, 3);
});

Deno.test("serve: asynchronous engine: a request that fails before the engine completes at once, ahead of held ones", async () => {
  const engine = new DeferredEngine();
  await using rig = await startRig({}, { engine });
  const id = await ctrlSession(rig.driver, {
    service: "cipher",
    algo: CipherAlgo.AES_CBC,
    key: hex(CBC.key),
    op: 1,
  });
  const iv = hex(CBC.iv);
  const held = send(rig.driver, cipherRequest(id, true, iv, 16), {
    iv,
    src_data: hex(CBC.plaintext).subarray(0, 16),
  });
  await engine.waitHeld(1);
  // Unknown session: answered by the device itself, never reaches the engine.
  const bad = await send(rig.driver, cipherRequest(id + 100n, true, iv, 16), {
    iv,
    src_data: new Uint8Array(16),
  });
  assert.equal(bad.status, Status.INVSESS);
  assert.equal(bad.usedLen, 1);
  assert.equal(await settled(held), false);
  engine.release([0]);
  const r = await held;
  assert.equal(r.status, Status.OK);
  assert.equal(toHex(r.out.dst_data!), CBC.ciphertext.slice(0, 32));
});
