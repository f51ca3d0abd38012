/**
 * The QAT driver behind the router on the gen4 VF model: requests really go to the device (the model counts
 * them), and a response with an error bit loses nothing: the router re-runs it in software and the guest gets
 * the right answer (NIST SP 800-38A F.2.1, CBC-AES128).
 *
 * @module
 */

import assert from "node:assert/strict";
import { RouterEngine } from "../../../src/engine/mod.ts";
import { SoftwareEngine } from "../../../src/engine/software/mod.ts";
import { Status } from "../../../src/spec/virtio_crypto.ts";
import { buildOp, hex, read, toHex } from "../../engine/_helpers.ts";
import { AES_SP800_38A } from "../../../src/selftest/vectors/aes_sp800_38a.ts";
import { SyncQat } from "./_sync_qat.ts";

const F21 = AES_SP800_38A.find((v) => v.id === "SP 800-38A F.2.1 CBC-AES128")!;

function encrypt(router: RouterEngine): string {
  const session = router.createSession({
    service: "cipher",
    algo: F21.algo,
    key: hex(F21.key),
    direction: 1,
  });
  const op = buildOp(session, { iv: hex(F21.iv), src: hex(F21.plaintext), dstLen: F21.plaintext.length / 2 });
  const status = router.submit(op);
  router.closeSession(session);
  return `${status}/${toHex(read(op.dst))}`;
}

Deno.test("QAT behind the router: the device serves SP 800-38A F.2.1 (the model executed the request)", () => {
  const qat = new SyncQat();
  const router = new RouterEngine(qat, new SoftwareEngine());
  try {
    assert.equal(encrypt(router), `${Status.OK}/${F21.ciphertext}`);
    assert.equal(qat.model.counts.requests, 1);
    assert.equal(router.stats.accelRequests, 1);
    assert.equal(router.stats.softwareRequests, 0);
  } finally {
    router.close();
  }
});

for (
  const [name, bit] of [["invalid parameter", 0x02], ["unsupported", 0x04], [
    "translation error",
    0x10,
  ]] as const
) {
  Deno.test(`QAT behind the router: a response with the ${name} bit is re-run in software, right answer`, () => {
    const qat = new SyncQat();
    const router = new RouterEngine(qat, new SoftwareEngine());
    try {
      qat.model.failNext(1, bit);
      assert.equal(encrypt(router), `${Status.OK}/${F21.ciphertext}`);
      assert.equal(qat.model.counts.injected, 1);
      assert.equal(router.stats.fallbacks.failed, 1);
      assert.equal(router.stats.softwareRequests, 1);
      assert.equal(encrypt(router), `${Status.OK}/${F21.ciphertext}`); // the next one on the device again
      assert.equal(qat.model.counts.requests, 2);
    } finally {
      router.close();
    }
  });
}
