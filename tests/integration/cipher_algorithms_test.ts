/**
 * CIPHER service end to end: sessions created through the control queue, requests in both wire layouts, outputs
 * checked against published known-answer vectors (each id names its document; the transcriptions are the engine
 * suite's, src/selftest/vectors/).
 */

import assert from "node:assert/strict";
import { CipherAlgo, Status } from "../../src/spec/virtio_crypto.ts";
import { cipherRequest, type DriverOptions } from "../../src/frontend/mod.ts";
import type { CipherVector } from "../../src/selftest/vectors/_types.ts";
import { AES_SP800_38A } from "../../src/selftest/vectors/aes_sp800_38a.ts";
import { AES_XTS_IEEE1619 } from "../../src/selftest/vectors/aes_xts_ieee1619.ts";
import { DES_TDES } from "../../src/selftest/vectors/des_tdes.ts";
import { ctrlSession, hex, send, startRig, toHex, vector } from "./_daemon.ts";

const LAYOUTS: readonly { name: string; options: Omit<DriverOptions, "path"> }[] = [
  { name: "legacy layout", options: { revision1: false } },
  { name: "REVISION_1", options: { revision1: true } },
];

const CASES: readonly { name: string; v: CipherVector }[] = [
  // NIST SP 800-38A, F.2.1 (CBC-AES128.Encrypt) and F.2.2 (its decryption)
  { name: "AES-CBC", v: vector(AES_SP800_38A, "SP 800-38A F.2.1 CBC-AES128") },
  // NIST SP 800-38A, F.2.5 (CBC-AES256)
  { name: "AES-256-CBC", v: vector(AES_SP800_38A, "SP 800-38A F.2.5 CBC-AES256") },
  // NIST SP 800-38A, F.5.1 (CTR-AES128)
  { name: "AES-CTR", v: vector(AES_SP800_38A, "SP 800-38A F.5.1 CTR-AES128") },
  // IEEE Std 1619-2007, Annex B, XTS-AES-128 vector 4 (512-byte data unit)
  { name: "AES-XTS", v: vector(AES_XTS_IEEE1619, "IEEE 1619-2007 XTS-AES-128 vector 4") },
  // IEEE Std 1619-2007, Annex B, vector 15 (17 bytes: ciphertext stealing)
  {
    name: "AES-XTS (ciphertext stealing)",
    v: vector(AES_XTS_IEEE1619, "IEEE 1619-2007 XTS-AES-128 vector 15 (ciphertext stealing, 17 bytes)"),
  },
  // FIPS 81 Table B2 (DES-CBC, "Now is the time for all ") as TDEA-CBC with K1 = K2 = K3 (SP 800-67 keying option 3)
  { name: "3DES-CBC", v: vector(DES_TDES, "FIPS 81 Table B2 as TDEA-CBC (K1 = K2 = K3)") },
];

for (const { name, v } of CASES) {
  for (const layout of LAYOUTS) {
    Deno.test(`serve: ${name} sessions by control queue (${layout.name}) encrypt and decrypt ${v.id}`, async () => {
      await using rig = await startRig(layout.options);
      const key = hex(v.key);
      const iv = hex(v.iv);
      const pt = hex(v.plaintext);
      const enc = await ctrlSession(rig.driver, { service: "cipher", algo: v.algo, key, op: 1 });
      const dec = await ctrlSession(rig.driver, { service: "cipher", algo: v.algo, key, op: 2 });

      const e = await send(rig.driver, cipherRequest(enc, true, iv, pt.length), { iv, src_data: pt });
      assert.equal(e.status, Status.OK);
      assert.equal(toHex(e.out.dst_data!), v.ciphertext);
      assert.equal(e.usedLen, pt.length + 1);

      const ct = hex(v.ciphertext);
      const d = await send(rig.driver, cipherRequest(dec, false, iv, ct.length), { iv, src_data: ct });
      assert.equal(d.status, Status.OK);
      assert.equal(toHex(d.out.dst_data!), v.plaintext);
      assert.equal(d.usedLen, ct.length + 1);
    });
  }
}

Deno.test("serve: AES-CBC session by control queue with a 15-byte key answers ERR and no session", async () => {
  await using rig = await startRig();
  const r = await rig.driver.createSessionCtrl({
    service: "cipher",
    algo: CipherAlgo.AES_CBC,
    key: new Uint8Array(15),
    op: 1,
  });
  assert.notEqual(r.status, Status.OK);
  assert.equal(rig.daemon.device.sessions.table.size, 0);
});
