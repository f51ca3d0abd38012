/**
 * Issue 11 item 1 on the gen4 VF model: completions by MSI-X interrupt (the bundle's eventfd in a reactor: the
 * model raises it after writing responses when the driver enabled the RX ring's interrupt coalescing) and by the
 * driver's own poll loop, with the model's arbiter running on a timer as a device runs by itself. Every answer is
 * checked against NIST SP 800-38A F.2.1 (CBC-AES128) and executed by the model, not re-run in software.
 *
 * @module
 */

import assert from "node:assert/strict";
import { QatEngine } from "../../../src/accel/qat/mod.ts";
import { type CryptoOp, PENDING, RouterEngine } from "../../../src/engine/mod.ts";
import { SoftwareEngine } from "../../../src/engine/software/mod.ts";
import { Reactor } from "../../../src/os/mod.ts";
import { Status } from "../../../src/spec/virtio_crypto.ts";
import { buildOp, hex, read, toHex } from "../../engine/_helpers.ts";
import { AES_SP800_38A } from "../../../src/selftest/vectors/aes_sp800_38a.ts";
import { FakeQatVf } from "../../_fixtures/fake_qat_vf.ts";

const F21 = AES_SP800_38A.find((v) => v.id === "SP 800-38A F.2.1 CBC-AES128")!;
const LOAD = 20;
const RIGHT = `${Status.OK}/${F21.ciphertext}`;

function run(router: RouterEngine): Promise<string[]> {
  const s = router.createSession({ service: "cipher", algo: F21.algo, key: hex(F21.key), direction: 1 });
  return Promise.all(Array.from({ length: LOAD }, () =>
    new Promise<string>((resolve) => {
      const op: CryptoOp = buildOp(s, {
        iv: hex(F21.iv),
        src: hex(F21.plaintext),
        dstLen: F21.plaintext.length / 2,
      });
      op.complete = (_op, status) => resolve(`${status}/${toHex(read(op.dst))}`);
      const status = router.submit(op);
      if (status !== PENDING) resolve(`${status}/${toHex(read(op.dst))}`);
    })));
}

Deno.test("QAT completions by MSI-X interrupt: the eventfd in the reactor completes every request", async () => {
  const model = new FakeQatVf();
  const reactor = new Reactor({ onError: (e) => console.error(e) });
  const qat = QatEngine.open(model, { reactor });
  const router = new RouterEngine(qat, new SoftwareEngine());
  const running = reactor.run();
  model.start();
  try {
    assert.deepEqual(await run(router), Array(LOAD).fill(RIGHT));
    assert.equal(model.counts.requests, LOAD);
    assert.equal(router.stats.accelRequests, LOAD);
    assert.equal(router.stats.softwareRequests, 0);
    assert.ok(qat.stats().interrupts >= 1, "completions came through the interrupt");
  } finally {
    router.close();
    model.close();
    reactor.stop();
    await running;
    reactor.close();
  }
});

Deno.test("QAT completions by polling: no interrupt, the driver's poll loop completes every request", async () => {
  const model = new FakeQatVf();
  const qat = QatEngine.open(model, { completions: "poll" });
  const router = new RouterEngine(qat, new SoftwareEngine());
  model.start();
  try {
    assert.deepEqual(await run(router), Array(LOAD).fill(RIGHT));
    assert.equal(model.counts.requests, LOAD);
    assert.equal(router.stats.accelRequests, LOAD);
    assert.equal(qat.stats().interrupts, 0);
  } finally {
    router.close();
    model.close();
  }
});
