/**
 * The device's request counters: completions by status byte and output bytes of successful requests. Expected
 * outputs: NIST SP 800-38A F.2.1 (CBC-AES128), McGrew-Viega GCM test case 4 (SP 800-38D).
 */

import assert from "node:assert/strict";
import { AeadAlgo, CipherAlgo, Status } from "../../src/spec/virtio_crypto.ts";
import { aeadRequest, cipherRequest } from "../../src/frontend/mod.ts";
import { AES_SP800_38A } from "../../src/selftest/vectors/aes_sp800_38a.ts";
import { GCM_VECTORS } from "../../src/selftest/vectors/gcm_sp800_38d.ts";
import { ctrlSession, hex, send, startRig, toHex, vector } from "./_daemon.ts";

const CBC = vector(AES_SP800_38A, "SP 800-38A F.2.1 CBC-AES128");
const GCM = vector(GCM_VECTORS, "GCM spec test case 4");

Deno.test("serve: device stats count requests by status and the bytes of successful ones", async () => {
  await using rig = await startRig();
  const d = rig.driver;
  const stats = rig.daemon.device.stats;
  assert.equal(stats.requests, 0);
  const cbc = await ctrlSession(d, { service: "cipher", algo: CipherAlgo.AES_CBC, key: hex(CBC.key), op: 1 });
  const iv = hex(CBC.iv);

  for (let i = 0; i < 2; i++) {
    const r = await send(d, cipherRequest(cbc, true, iv, 64), { iv, src_data: hex(CBC.plaintext) });
    assert.equal(toHex(r.out.dst_data!), CBC.ciphertext);
  }
  const inv = await send(d, cipherRequest(cbc + 7n, true, iv, 64), { iv, src_data: hex(CBC.plaintext) });
  assert.equal(inv.status, Status.INVSESS);
  // A cipher request whose destination is shorter than its source: ERR.
  const short = cipherRequest(cbc, true, iv, 64);
  short.dstDataLen = 32;
  const err = await send(d, short, { iv, src_data: hex(CBC.plaintext) });
  assert.equal(err.status, Status.ERR);
  // A wrong GCM tag: BADMSG.
  const gcm = await ctrlSession(d, {
    service: "aead",
    algo: AeadAlgo.GCM,
    key: hex(GCM.key),
    tagLen: 16,
    aadLen: 20,
    op: 2,
  });
  const ctTag = hex(GCM.ciphertext + GCM.tag);
  ctTag[5]! ^= 0xff;
  const bad = await send(
    d,
    aeadRequest(gcm, false, {
      ivLen: 12,
      aadLen: 20,
      srcLen: ctTag.length,
      dstLen: ctTag.length - 16,
      tagLen: 16,
    }),
    { iv: hex(GCM.nonce), src_data: ctTag, aad: hex(GCM.aad) },
  );
  assert.equal(bad.status, Status.BADMSG);

  assert.equal(stats.ok, 2);
  assert.equal(stats.byStatus[Status.ERR], 1);
  assert.equal(stats.byStatus[Status.INVSESS], 1);
  assert.equal(stats.byStatus[Status.BADMSG], 1);
  assert.equal(stats.requests, 5);
  assert.equal(stats.bytes, 128);
  assert.deepEqual(
    {
      ok: stats.toJSON().ok,
      err: stats.toJSON().err,
      invsess: stats.toJSON().invsess,
      badmsg: stats.toJSON().badmsg,
    },
    { ok: 2, err: 1, invsess: 1, badmsg: 1 },
  );
  // Control-queue requests are not data requests: the two creates above are not counted.
});
