/**
 * Several data queues (`queues: 2` on the daemon, `dataQueues: 2` on the driver; the control queue is vring 2):
 * both serve, concurrently, with sessions shared between them. Expected outputs: NIST SP 800-38A F.2.1/F.5.1,
 * FIPS 180-4 (SHA-256).
 */

import assert from "node:assert/strict";
import { CipherAlgo, HashAlgo, Status } from "../../src/spec/virtio_crypto.ts";
import { cipherRequest, hashRequest, VirtioCryptoDriver } from "../../src/frontend/mod.ts";
import { AES_SP800_38A } from "../../src/selftest/vectors/aes_sp800_38a.ts";
import { SHA_FIPS180 } from "../../src/selftest/vectors/sha_fips180.ts";
import { ctrlSession, hex, send, startRig, toHex, vector, waitFor } from "./_daemon.ts";

const CBC = vector(AES_SP800_38A, "SP 800-38A F.2.1 CBC-AES128");
const CTR = vector(AES_SP800_38A, "SP 800-38A F.5.1 CTR-AES128");
const SHA = vector(SHA_FIPS180, "FIPS 180-4 SHA-256 two-block");

Deno.test("serve: two data queues both serve, concurrently, with shared sessions", async () => {
  await using rig = await startRig({ dataQueues: 2 }, { queues: 2 });
  const d = rig.driver;
  assert.equal(d.dataQueues, 2);
  assert.equal(d.hasControlQueue, true);
  const cbc = await ctrlSession(d, { service: "cipher", algo: CipherAlgo.AES_CBC, key: hex(CBC.key), op: 1 });
  const ctr = await d.createSessionVhost({
    service: "cipher",
    algo: CipherAlgo.AES_CTR,
    key: hex(CTR.key),
    op: 1,
  });
  const sha = await ctrlSession(d, { service: "hash", algo: HashAlgo.SHA_256, resultLen: 32 });
  const msg = hex(SHA.message);

  const jobs = [];
  for (let i = 0; i < 8; i++) {
    const queue = i % 2;
    jobs.push(
      send(d, cipherRequest(cbc, true, hex(CBC.iv), 64), { iv: hex(CBC.iv), src_data: hex(CBC.plaintext) }, {
        queue,
      })
        .then((r) => toHex(r.out.dst_data!) === CBC.ciphertext && r.status === Status.OK),
      send(d, cipherRequest(ctr, true, hex(CTR.iv), 64), { iv: hex(CTR.iv), src_data: hex(CTR.plaintext) }, {
        queue: 1 - queue,
        shape: { indirect: true },
      }).then((r) => toHex(r.out.dst_data!) === CTR.ciphertext && r.status === Status.OK),
      send(d, hashRequest(sha, msg.length, 32), { src_data: msg }, { queue })
        .then((r) => toHex(r.out.hash_result!) === SHA.digest && r.usedLen === 33),
    );
  }
  assert.deepEqual(await Promise.all(jobs), jobs.map(() => true));
  assert.equal(rig.daemon.device.stats.ok, 24);
});

Deno.test("serve: a driver asking for more data queues than the daemon serves is refused by GET_QUEUE_NUM", async () => {
  await using rig = await startRig({ dataQueues: 1 }, { queues: 1 });
  await rig.driver.close(); // one front-end at a time: make room for the next
  await waitFor(() => rig.daemon.server.handler === null, "the daemon to drop the connection");
  await assert.rejects(
    VirtioCryptoDriver.open({ path: rig.daemon.socket, dataQueues: 2 }),
    /serves 1 data queues/,
  );
  await waitFor(() => rig.daemon.server.handler === null, "the daemon to drop the refused driver");
  const ok = await VirtioCryptoDriver.open({ path: rig.daemon.socket, dataQueues: 1 });
  await ok.close();
});

Deno.test("serve: stopping data queue 1 (GET_VRING_BASE) leaves queue 0 serving; queue 1 restarts where it stopped", async () => {
  await using rig = await startRig({ dataQueues: 2, qemuFeatures: true }, { queues: 2 });
  const d = rig.driver;
  const sha = await ctrlSession(d, { service: "hash", algo: HashAlgo.SHA_256, resultLen: 32 });
  const msg = hex(SHA.message);
  const hash = (queue: number) => send(d, hashRequest(sha, msg.length, 32), { src_data: msg }, { queue });
  for (let i = 0; i < 3; i++) assert.equal(toHex((await hash(1)).out.hash_result!), SHA.digest);
  const base = await d.stopQueue(1);
  assert.equal(base, 3);
  for (let i = 0; i < 2; i++) assert.equal(toHex((await hash(0)).out.hash_result!), SHA.digest);
  await d.restartQueue(1, base);
  assert.equal(toHex((await hash(1)).out.hash_result!), SHA.digest);
  assert.equal(await d.stopQueue(1), 4);
  assert.equal(await d.stopQueue(0), 2);
});
