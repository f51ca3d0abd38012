import assert from "node:assert/strict";
import { CipherAlgo, Status } from "../../src/spec/virtio_crypto.ts";
import { buildRequest, cipherRequest } from "../../src/frontend/mod.ts";
import { hex, startRig, toHex } from "./_daemon.ts";

// NIST SP 800-38A, F.2.1 CBC-AES128.Encrypt.
const KEY = hex("2b7e151628aed2a6abf7158809cf4f3c");
const IV = hex("000102030405060708090a0b0c0d0e0f");
const PT = hex(
  "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710",
);
const CT =
  "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b273bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7";

Deno.test("serve: AES-CBC session by message 26 (QEMU 7.2 layout) encrypts SP 800-38A F.2.1 in a Linux-shaped chain", async () => {
  await using rig = await startRig({ qemuFeatures: true });
  const id = await rig.driver.createSessionVhost({
    service: "cipher",
    algo: CipherAlgo.AES_CBC,
    key: KEY,
    op: 1,
  }, "B");
  assert.ok(id >= 0n);
  const parts = buildRequest(cipherRequest(id, true, IV, PT.length), rig.driver.layout, {
    iv: IV,
    src_data: PT,
  });
  const c = await rig.driver.submit(0, parts.out, parts.in, { indirect: true });
  assert.equal(c.status, Status.OK);
  assert.equal(toHex(c.in[0]!), CT);
  assert.equal(c.usedLen, PT.length + 1);
});
