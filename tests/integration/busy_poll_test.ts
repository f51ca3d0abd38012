/**
 * `serve --busy-poll`: after a kick the daemon keeps polling that ring, so a request the driver publishes without
 * kicking is still served. The window here is far longer than the test (10 s through the library option; the
 * CLI caps it at 100 ms), so the outcome does not depend on timing.
 *
 * @module
 */

import assert from "node:assert/strict";
import { CipherAlgo, Status } from "../../src/spec/virtio_crypto.ts";
import { buildRequest, cipherRequest, type ClaimedQueue } from "../../src/frontend/mod.ts";
import { DriverBufferList, UsedBuffer } from "../../src/virtio/mod.ts";
import { BATCH_LIMIT } from "../../src/crypto/data_queue.ts";
import { hex, type Rig, startRig, toHex, waitFor } from "./_daemon.ts";

// NIST SP 800-38A F.2.1 CBC-AES128.Encrypt, first block.
const KEY = hex("2b7e151628aed2a6abf7158809cf4f3c");
const IV = hex("000102030405060708090a0b0c0d0e0f");
const PT = hex("6bc1bee22e409f96e93d7e117393172a");
const CT = "7649abac8119b246cee98e9b12e9197d";

interface AesCbcQueue {
  readonly d: Rig["driver"];
  readonly q: ClaimedQueue;
  readonly list: DriverBufferList;
  /** Writes the request at `base` and fills `list`; returns where the ciphertext goes (the status byte follows). */
  readonly layOut: (base: number) => number;
}

/** An AES-128-CBC session, data queue 0, and `layOut(base)`: the request's buffers at `base` in `list`. */
async function aesCbcQueue(rig: Rig): Promise<AesCbcQueue> {
  const d = rig.driver;
  const id = await d.createSessionVhost(
    { service: "cipher", algo: CipherAlgo.AES_CBC, key: KEY, op: 1 },
    "B",
  );
  const parts = buildRequest(cipherRequest(id, true, IV, PT.length), d.layout, { iv: IV, src_data: PT });
  const q = d.claimQueue(0);
  const list = new DriverBufferList(8);
  const layOut = (base: number): number => {
    list.clear();
    let at = base;
    for (const p of parts.out) {
      d.ram.view(at, p.bytes.length).set(p.bytes);
      list.push(at, p.bytes.length, false);
      at += p.bytes.length;
    }
    list.push(at, PT.length, true);
    d.ram.view(at + PT.length, 1)[0] = 0xff;
    list.push(at + PT.length, 1, true);
    return at;
  };
  return { d, q, list, layOut };
}

Deno.test("serve --busy-poll: a request published without a kick is served within the window after a kick", async () => {
  await using rig = await startRig({}, { busyPollUs: 10_000_000 });
  const { d, q, list, layOut } = await aesCbcQueue(rig);
  const done = new UsedBuffer<number>();
  const area = d.reserveRam(8192);
  const completed = async (): Promise<number> => {
    await waitFor(() => q.driver.popUsed(done), "a completion", 5000);
    return done.token!;
  };

  const first = layOut(area);
  q.driver.addList(list, false, 1);
  q.driver.publish();
  q.kick.signal(); // the kick that opens the busy-poll window
  assert.equal(await completed(), 1);
  assert.equal(toHex(d.ram.view(first, PT.length)), CT);

  const second = layOut(area + 4096);
  q.driver.addList(list, false, 2);
  q.driver.publish(); // no kick: only the daemon's polling can find it
  assert.equal(await completed(), 2);
  assert.equal(toHex(d.ram.view(second, PT.length)), CT);
  assert.equal(d.ram.view(second + PT.length, 1)[0], Status.OK);
  d.releaseQueue(q);
});

Deno.test("without busy-poll, one kick for more than BATCH_LIMIT requests: all are served, batch after batch", async () => {
  await using rig = await startRig({ queueSize: 1024 }, { busyPollUs: 0 });
  const { d, q, list, layOut } = await aesCbcQueue(rig);
  const out = layOut(d.reserveRam(8192));
  const requests = 2 * BATCH_LIMIT + 88; // three batches
  for (let token = 0; token < requests; token++) assert.ok(q.driver.addList(list, true, token) >= 0);
  q.driver.publish();
  q.kick.signal(); // the only kick
  const done = new UsedBuffer<number>();
  let completed = 0;
  await waitFor(
    () => {
      while (q.driver.popUsed(done)) {
        assert.equal(done.len, PT.length + 1);
        completed++;
      }
      return completed === requests;
    },
    `${requests} completions`,
    10_000,
  );
  assert.equal(toHex(d.ram.view(out, PT.length)), CT);
  assert.equal(d.ram.view(out + PT.length, 1)[0], Status.OK);
  d.releaseQueue(q);
});
