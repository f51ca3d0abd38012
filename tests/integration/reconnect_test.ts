/**
 * Front-end connections: a disconnect closes every session (keys zeroed), a new front-end is served from a clean
 * state (the old ids are unknown: ids are never reused), and a second front-end is refused while one is connected
 * (the first keeps working). Expected outputs: NIST SP 800-38A F.2.1 (CBC-AES128), FIPS 180-4 (SHA-256 "abc").
 */

import assert from "node:assert/strict";
import { CipherAlgo, HashAlgo, Status } from "../../src/spec/virtio_crypto.ts";
import { cipherRequest, hashRequest, VirtioCryptoDriver } from "../../src/frontend/mod.ts";
import { AES_SP800_38A } from "../../src/selftest/vectors/aes_sp800_38a.ts";
import { SHA_FIPS180 } from "../../src/selftest/vectors/sha_fips180.ts";
import { DeferredEngine } from "../_fixtures/deferred_engine.ts";
import { ctrlSession, hex, send, settled, startRig, toHex, vector, waitFor } from "./_daemon.ts";

const CBC = vector(AES_SP800_38A, "SP 800-38A F.2.1 CBC-AES128");
const SHA = vector(SHA_FIPS180, "FIPS 180-4 SHA-256 one-block (abc)");

Deno.test("serve: a front-end that disconnects loses its sessions; the next one starts clean and old ids are INVSESS", async () => {
  await using rig = await startRig({ qemuFeatures: true });
  const first = rig.driver;
  const vhostId = await first.createSessionVhost({
    service: "cipher",
    algo: CipherAlgo.AES_CBC,
    key: hex(CBC.key),
    op: 1,
  });
  const hashId = await ctrlSession(first, { service: "hash", algo: HashAlgo.SHA_256, resultLen: 32 });
  assert.equal(rig.daemon.device.sessions.table.size, 2);
  await first.close();
  await waitFor(() => rig.daemon.device.sessions.table.size === 0, "the daemon to close the sessions");
  await waitFor(() => rig.daemon.server.handler === null, "the daemon to drop the connection");

  const second = await VirtioCryptoDriver.open({ path: rig.daemon.socket, qemuFeatures: true });
  try {
    assert.equal(rig.daemon.server.connections, 2);
    const iv = hex(CBC.iv);
    const stale = await send(second, cipherRequest(vhostId, true, iv, 64), {
      iv,
      src_data: hex(CBC.plaintext),
    });
    assert.equal(stale.status, Status.INVSESS);
    assert.equal(stale.usedLen, 1);
    const staleHash = await send(second, hashRequest(hashId, 3, 32), { src_data: hex(SHA.message) });
    assert.equal(staleHash.status, Status.INVSESS);

    const id = await second.createSessionVhost({
      service: "cipher",
      algo: CipherAlgo.AES_CBC,
      key: hex(CBC.key),
      op: 1,
    });
    assert.ok(id > hashId, `a new id (${id}) above the old ones`);
    const r = await send(second, cipherRequest(id, true, iv, 64), { iv, src_data: hex(CBC.plaintext) });
    assert.equal(r.status, Status.OK);
    assert.equal(toHex(r.out.dst_data!), CBC.ciphertext);
    assert.equal(rig.daemon.device.sessions.table.size, 1);
  } finally {
    await second.close();
  }
});

Deno.test("serve: a second front-end is refused while one is connected, and the first keeps working", async () => {
  await using rig = await startRig();
  const id = await ctrlSession(rig.driver, { service: "hash", algo: HashAlgo.SHA_256, resultLen: 32 });
  await assert.rejects(VirtioCryptoDriver.open({ path: rig.daemon.socket }));
  assert.equal(rig.daemon.server.connections, 1);
  assert.equal(rig.daemon.device.sessions.table.size, 1);
  const r = await send(rig.driver, hashRequest(id, 3, 32), { src_data: hex(SHA.message) });
  assert.equal(r.status, Status.OK);
  assert.equal(toHex(r.out.hash_result!), SHA.digest);
  // And the first can still talk vhost-user.
  const c = await rig.driver.createSessionVhost({
    service: "cipher",
    algo: CipherAlgo.AES_CBC,
    key: hex(CBC.key),
    op: 1,
  });
  assert.ok(c > id);
});

Deno.test("serve: the daemon serves three front-ends one after another from the same socket", async () => {
  await using rig = await startRig();
  await rig.driver.close();
  await waitFor(() => rig.daemon.server.handler === null, "the daemon to drop the connection");
  for (let i = 0; i < 2; i++) {
    const d = await VirtioCryptoDriver.open({ path: rig.daemon.socket, revision1: i === 0 });
    try {
      const id = await ctrlSession(d, { service: "hash", algo: HashAlgo.SHA_256, resultLen: 32 });
      const r = await send(d, hashRequest(id, 3, 32), { src_data: hex(SHA.message) });
      assert.equal(toHex(r.out.hash_result!), SHA.digest);
      assert.equal(rig.daemon.device.layout, i === 0 ? "revision1" : "legacy");
    } finally {
      await d.close();
    }
    await waitFor(() => rig.daemon.server.handler === null, "the daemon to drop the connection");
    assert.equal(rig.daemon.device.sessions.table.size, 0);
  }
  assert.equal(rig.daemon.server.connections, 3);
});

Deno.test("serve: a front-end that disconnects with requests in flight: the device finishes them before resetting", async () => {
  const engine = new DeferredEngine();
  await using rig = await startRig({}, { engine });
  const first = rig.driver;
  const id = await ctrlSession(first, {
    service: "cipher",
    algo: CipherAlgo.AES_CBC,
    key: hex(CBC.key),
    op: 1,
  });
  const iv = hex(CBC.iv);
  void send(first, cipherRequest(id, true, iv, 64), { iv, src_data: hex(CBC.plaintext) });
  void send(first, cipherRequest(id, true, iv, 32), { iv, src_data: hex(CBC.plaintext).subarray(0, 32) });
  await engine.waitHeld(2);
  await first.close();
  await waitFor(() => rig.daemon.server.handler === null, "the daemon to drop the connection");
  // The connection is gone, but two requests point into its guest memory and use its session: both stay.
  assert.equal(rig.daemon.device.sessions.table.size, 1);

  // A new front-end waits (the listener is paused) until they completed.
  const next = VirtioCryptoDriver.open({ path: rig.daemon.socket });
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(await settled(next), false);
  engine.releaseAllReversed(); // writes into the old guest memory, which must still be mapped
  const second = await next;
  try {
    assert.equal(rig.daemon.device.sessions.table.size, 0);
    assert.equal(rig.daemon.device.stats.ok, 2);
    const sha = await ctrlSession(second, { service: "hash", algo: HashAlgo.SHA_256, resultLen: 32 });
    const pending = send(second, hashRequest(sha, 3, 32), { src_data: hex(SHA.message) });
    await engine.waitHeld(1);
    engine.release([0]);
    const r = await pending;
    assert.equal(r.status, Status.OK);
    assert.equal(toHex(r.out.hash_result!), SHA.digest);
  } finally {
    await second.close();
  }
});
