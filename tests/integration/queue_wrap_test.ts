/**
 * Small rings used many times over: the avail and used rings wrap around again and again, with completions in
 * order (software engine) and out of order (`DeferredEngine`: real OpenSSL, completion order chosen by the test).
 * Expected outputs: NIST SP 800-38A F.2.1 (CBC-AES128; each request encrypts a prefix of 1..4 blocks, whose CBC
 * ciphertext is the prefix of the ciphertext).
 */

import assert from "node:assert/strict";
import { CipherAlgo, Status } from "../../src/spec/virtio_crypto.ts";
import { cipherRequest, type VirtioCryptoDriver } from "../../src/frontend/mod.ts";
import { DeferredEngine } from "../_fixtures/deferred_engine.ts";
import { AES_SP800_38A } from "../../src/selftest/vectors/aes_sp800_38a.ts";
import { hex, send, type Sent, startRig, toHex, vector } from "./_daemon.ts";

const CBC = vector(AES_SP800_38A, "SP 800-38A F.2.1 CBC-AES128");

function encryptBlocks(driver: VirtioCryptoDriver, id: bigint, blocks: number): Promise<Sent> {
  const iv = hex(CBC.iv);
  const len = 16 * blocks;
  return send(
    driver,
    cipherRequest(id, true, iv, len),
    { iv, src_data: hex(CBC.plaintext).subarray(0, len) },
    {
      shape: { indirect: true },
    },
  );
}

function check(r: Sent, blocks: number): void {
  assert.equal(r.status, Status.OK);
  assert.equal(toHex(r.out.dst_data!), CBC.ciphertext.slice(0, 32 * blocks));
  assert.equal(r.usedLen, 16 * blocks + 1);
}

// A request is 5 descriptors (header, iv, src, dst, status) and no chain may be longer than the queue (virtio 1.2
// §2.7.5.3.1, indirect tables included), so 8 entries is the smallest ring here.
Deno.test("serve: an 8-entry ring carries 200 requests in bursts of 4 (software engine)", async () => {
  await using rig = await startRig({ queueSize: 8, qemuFeatures: true });
  const id = await rig.driver.createSessionVhost({
    service: "cipher",
    algo: CipherAlgo.AES_CBC,
    key: hex(CBC.key),
    op: 1,
  });
  for (let round = 0; round < 50; round++) {
    const burst = [1, 2, 3, 4].map((b) => encryptBlocks(rig.driver, id, b));
    (await Promise.all(burst)).forEach((r, i) => check(r, i + 1));
  }
  assert.equal(rig.daemon.device.stats.ok, 200);
  assert.equal(await rig.driver.stopQueue(0), 200);
});

Deno.test("serve: an 8-entry ring wraps with out-of-order completions (asynchronous engine)", async () => {
  const engine = new DeferredEngine();
  await using rig = await startRig({ queueSize: 8 }, { engine });
  const id = await rig.driver.createSessionVhost({
    service: "cipher",
    algo: CipherAlgo.AES_CBC,
    key: hex(CBC.key),
    op: 1,
  });
  const orders = [[7, 6, 5, 4, 3, 2, 1, 0], [1, 3, 5, 7, 0, 2, 4, 6], [4, 0, 7, 1, 6, 2, 5, 3]];
  for (let round = 0; round < 9; round++) {
    const blocks = Array.from({ length: 8 }, (_, i) => 1 + ((i + round) % 4));
    const done: number[] = [];
    const burst = blocks.map((b, i) => encryptBlocks(rig.driver, id, b).then((r) => (done.push(i), r)));
    await engine.waitHeld(8);
    const order = orders[round % orders.length]!;
    engine.release(order);
    (await Promise.all(burst)).forEach((r, i) => check(r, blocks[i]!));
    assert.deepEqual(done, order);
  }
  assert.equal(rig.daemon.device.stats.ok, 72);
});
