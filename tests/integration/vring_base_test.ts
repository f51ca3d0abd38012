/**
 * GET_VRING_BASE in the middle of traffic (vhost-user.rst: "stop ring upon receiving VHOST_USER_GET_VRING_BASE"):
 * with requests in flight on an asynchronous engine the reply waits until they completed, and its base is the
 * number of requests the device popped; the ring then restarts the way QEMU restarts it (NUM, BASE, ADDR, KICK,
 * CALL) and keeps serving, including requests the driver queued while it was stopped.
 * Engine: `DeferredEngine` (real OpenSSL cryptography, completion when the test says). Expected outputs: NIST
 * SP 800-38A F.2.1 (CBC-AES128; each request encrypts a prefix, whose CBC ciphertext is the ciphertext's prefix).
 */

import assert from "node:assert/strict";
import { CipherAlgo, Status } from "../../src/spec/virtio_crypto.ts";
import { cipherRequest, type VirtioCryptoDriver } from "../../src/frontend/mod.ts";
import { DeferredEngine } from "../_fixtures/deferred_engine.ts";
import { AES_SP800_38A } from "../../src/selftest/vectors/aes_sp800_38a.ts";
import { hex, send, type Sent, settled, startRig, toHex, vector } from "./_daemon.ts";

const CBC = vector(AES_SP800_38A, "SP 800-38A F.2.1 CBC-AES128");

function encryptBlocks(driver: VirtioCryptoDriver, id: bigint, blocks: number): Promise<Sent> {
  const iv = hex(CBC.iv);
  const len = 16 * blocks;
  return send(driver, cipherRequest(id, true, iv, len), {
    iv,
    src_data: hex(CBC.plaintext).subarray(0, len),
  });
}

function checkBlocks(r: Sent, blocks: number): void {
  assert.equal(r.status, Status.OK);
  assert.equal(toHex(r.out.dst_data!), CBC.ciphertext.slice(0, 32 * blocks));
  assert.equal(r.usedLen, 16 * blocks + 1);
}

Deno.test("serve: GET_VRING_BASE waits for in-flight requests, returns the popped count, and the ring restarts", async () => {
  const engine = new DeferredEngine();
  await using rig = await startRig({ qemuFeatures: true }, { engine });
  const d = rig.driver;
  const id = await d.createSessionVhost({
    service: "cipher",
    algo: CipherAlgo.AES_CBC,
    key: hex(CBC.key),
    op: 1,
  });

  // One request completed before the stop...
  const first = encryptBlocks(d, id, 1);
  await engine.waitHeld(1);
  engine.release([0]);
  checkBlocks(await first, 1);

  // ...then three in flight when GET_VRING_BASE arrives.
  const inflight = [encryptBlocks(d, id, 2), encryptBlocks(d, id, 3), encryptBlocks(d, id, 4)];
  await engine.waitHeld(3);
  const base = d.stopQueue(0);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(await settled(base), false, "GET_VRING_BASE was answered with requests in flight");
  for (const p of inflight) assert.equal(await settled(p), false);

  engine.release([1]);
  checkBlocks(await inflight[1]!, 3);
  assert.equal(await settled(base), false, "GET_VRING_BASE was answered with two requests in flight");
  engine.release([1, 0]);
  checkBlocks(await inflight[2]!, 4);
  checkBlocks(await inflight[0]!, 2);
  assert.equal(await base, 4, "base = requests popped (1 + 3)");

  // Stopped: a request queued now waits (the device no longer watches the kick fd).
  const queued = encryptBlocks(d, id, 1);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(engine.held, 0);
  assert.equal(await settled(queued), false);

  // Restart at the base: the queued request is served, then new traffic.
  await d.restartQueue(0, 4);
  await engine.waitHeld(1);
  engine.release([0]);
  checkBlocks(await queued, 1);
  const after = [encryptBlocks(d, id, 4), encryptBlocks(d, id, 2)];
  await engine.waitHeld(2);
  engine.releaseAllReversed();
  checkBlocks(await after[0]!, 4);
  checkBlocks(await after[1]!, 2);
  assert.equal(await d.stopQueue(0), 7);
});

Deno.test("serve: GET_VRING_BASE on an idle ring (software engine) answers at once; restart keeps serving", async () => {
  await using rig = await startRig({ qemuFeatures: true });
  const d = rig.driver;
  const id = await d.createSessionVhost({
    service: "cipher",
    algo: CipherAlgo.AES_CBC,
    key: hex(CBC.key),
    op: 1,
  });
  for (let i = 1; i <= 3; i++) checkBlocks(await encryptBlocks(d, id, i), i);
  const base = await d.stopQueue(0);
  assert.equal(base, 3);
  // A request queued while stopped, on a synchronous engine: served at SET_VRING_KICK, before the call fd arrives.
  const queued = encryptBlocks(d, id, 4);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(await settled(queued), false);
  await d.restartQueue(0, base);
  checkBlocks(await queued, 4);
  checkBlocks(await encryptBlocks(d, id, 2), 2);
  assert.equal(await d.stopQueue(0), 5);
});

Deno.test("serve: SET_MEM_TABLE with requests in flight is acknowledged only after they completed", async () => {
  const engine = new DeferredEngine();
  await using rig = await startRig({}, { engine });
  const d = rig.driver;
  const id = await d.createSessionVhost({
    service: "cipher",
    algo: CipherAlgo.AES_CBC,
    key: hex(CBC.key),
    op: 1,
  });
  const inflight = [encryptBlocks(d, id, 4), encryptBlocks(d, id, 2)];
  await engine.waitHeld(2);
  // The same RAM again (a new mapping in the daemon): REPLY_ACK makes the driver wait for the device's answer.
  const remap = d.frontend.setMemTable([d.ram]);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(await settled(remap), false, "SET_MEM_TABLE was acknowledged with requests in flight");
  engine.release([1, 0]);
  checkBlocks(await inflight[0]!, 4);
  checkBlocks(await inflight[1]!, 2);
  await remap;
  const after = encryptBlocks(d, id, 3);
  await engine.waitHeld(1);
  engine.release([0]);
  checkBlocks(await after, 3);
});
