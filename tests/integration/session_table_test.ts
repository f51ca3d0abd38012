/**
 * The session table: its limit (`runDaemon({ maxSessions })`: message 26 answers -1, the control queue NOSPC), a
 * closed session frees its slot, CLOSE (27) of an unknown id is ignored without a reply (the next request/reply
 * pair still lines up, interop.md §1.4, §6 item 3), and control-queue destroy answers OK or ERR.
 */

import assert from "node:assert/strict";
import { CipherAlgo, HashAlgo, MacAlgo, Status } from "../../src/spec/virtio_crypto.ts";
import { hashRequest, type SessionSpec } from "../../src/frontend/mod.ts";
import { AES_SP800_38A } from "../../src/selftest/vectors/aes_sp800_38a.ts";
import { SHA_FIPS180 } from "../../src/selftest/vectors/sha_fips180.ts";
import { ctrlSession, hex, send, startRig, toHex, vector } from "./_daemon.ts";

const CBC = vector(AES_SP800_38A, "SP 800-38A F.2.1 CBC-AES128");
// FIPS 180-4 SHA-256 "abc".
const SHA = vector(SHA_FIPS180, "FIPS 180-4 SHA-256 one-block (abc)");

const CIPHER: SessionSpec = { service: "cipher", algo: CipherAlgo.AES_CBC, key: hex(CBC.key), op: 1 };

Deno.test("serve: with maxSessions 3 the fourth create gets -1 by message 26 and NOSPC by the control queue", async () => {
  await using rig = await startRig({}, { maxSessions: 3 });
  const d = rig.driver;
  const a = await d.createSessionVhost(CIPHER, "B");
  const b = await d.createSessionVhost(CIPHER, "C");
  const c = await ctrlSession(d, { service: "hash", algo: HashAlgo.SHA_256, resultLen: 32 });
  assert.deepEqual([a, b, c], [1n, 2n, 3n]);

  assert.equal(await d.createSessionVhost(CIPHER, "A"), -1n);
  assert.equal(await d.createSessionVhost(CIPHER, "C"), -1n);
  const full = await d.createSessionCtrl({
    service: "mac",
    algo: MacAlgo.HMAC_SHA_256,
    resultLen: 32,
    key: hex("00"),
  });
  assert.equal(full.status, Status.NOSPC);
  assert.equal(full.id, 0n);
  assert.equal(rig.daemon.device.sessions.table.size, 3);

  // Closing one by message 27 frees a slot for the control queue...
  await d.closeSessionVhost(a);
  const e = await ctrlSession(d, { service: "hash", algo: HashAlgo.SHA_256, resultLen: 32 });
  assert.equal(e, 4n); // ids are not reused
  assert.equal((await d.createSessionCtrl(CIPHER)).status, Status.NOSPC);
  // ...and closing one by the control queue frees a slot for message 26.
  assert.equal(await d.closeSessionCtrl("hash", c), Status.OK);
  assert.equal(await d.createSessionVhost(CIPHER, "B"), 5n);
  assert.equal(rig.daemon.device.sessions.table.size, 3);

  // The sessions left still work.
  const r = await send(d, hashRequest(e, 3, 32), { src_data: hex(SHA.message) });
  assert.equal(toHex(r.out.hash_result!), SHA.digest);
});

Deno.test("serve: CLOSE (27) of an unknown id gets no reply and keeps the connection; the next CREATE reply lines up", async () => {
  await using rig = await startRig({ qemuFeatures: true, controlQueue: false });
  const d = rig.driver;
  const a = await d.createSessionVhost(CIPHER, "B");
  await d.closeSessionVhost(999n);
  await d.closeSessionVhost(-1n); // 0xffff_ffff_ffff_ffff on the wire
  await d.closeSessionVhost(a);
  await d.closeSessionVhost(a); // twice
  // Had the device answered any CLOSE, this CREATE would read that stray reply (wrong size) instead of its own.
  const b = await d.createSessionVhost(CIPHER, "C");
  assert.equal(b, 2n);
  const c = await d.createSessionVhost(CIPHER, "A");
  assert.equal(c, 3n);
  assert.equal(rig.daemon.server.connections, 1);
  assert.notEqual(rig.daemon.server.handler, null);
  assert.equal(rig.daemon.device.sessions.table.size, 2);
});

Deno.test("serve: control-queue destroy answers OK for an open session and ERR for an unknown or closed one", async () => {
  await using rig = await startRig({ revision1: true });
  const d = rig.driver;
  const sha = await ctrlSession(d, { service: "hash", algo: HashAlgo.SHA_256, resultLen: 32 });
  const cbc = await ctrlSession(d, CIPHER);
  assert.equal(await d.closeSessionCtrl("hash", sha), Status.OK);
  assert.equal(await d.closeSessionCtrl("hash", sha), Status.ERR);
  assert.equal(await d.closeSessionCtrl("cipher", 12345n), Status.ERR);
  assert.equal(await d.closeSessionCtrl("cipher", cbc), Status.OK);
  assert.equal(rig.daemon.device.sessions.table.size, 0);
  const r = await send(d, hashRequest(sha, 3, 32), { src_data: hex(SHA.message) });
  assert.equal(r.status, Status.INVSESS);
});
