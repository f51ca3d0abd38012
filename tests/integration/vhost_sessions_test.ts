/**
 * Sessions the way QEMU creates them: vhost-user message 26 (CREATE_CRYPTO_SESSION) in each of QEMU's three
 * payload layouts (interop.md §1.3: A = QEMU ≤ 7.0, B = 7.1-8.0, C = ≥ 8.1), message 27 to close, no control queue,
 * and SET_FEATURES with bit 30 only (interop.md §1.9), so requests use the legacy padded layout.
 */

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { AlgChainOrder, CipherAlgo, MacAlgo, Status, SymHashMode } from "../../src/spec/virtio_crypto.ts";
import type { VhostSessionLayout } from "../../src/crypto/mod.ts";
import { chainRequest, cipherRequest } from "../../src/frontend/mod.ts";
import { AES_SP800_38A } from "../../src/selftest/vectors/aes_sp800_38a.ts";
import { concat, hex, send, startRig, toHex, vector } from "./_daemon.ts";

// NIST SP 800-38A F.2.5 (CBC-AES256.Encrypt) / F.2.6 (CBC-AES256.Decrypt).
const CBC256 = vector(AES_SP800_38A, "SP 800-38A F.2.5 CBC-AES256");
// NIST SP 800-38A F.5.1 (CTR-AES128.Encrypt).
const CTR = vector(AES_SP800_38A, "SP 800-38A F.5.1 CTR-AES128");

const QEMU = { qemuFeatures: true, controlQueue: false } as const;
const LAYOUTS: readonly VhostSessionLayout[] = ["A", "B", "C"];

for (const layout of LAYOUTS) {
  Deno.test(`serve: AES-256-CBC sessions by message 26 (layout ${layout}) encrypt and decrypt SP 800-38A F.2.5/F.2.6`, async () => {
    await using rig = await startRig(QEMU);
    assert.equal(rig.driver.layout, "legacy");
    const key = hex(CBC256.key);
    const iv = hex(CBC256.iv);
    const enc = await rig.driver.createSessionVhost({
      service: "cipher",
      algo: CipherAlgo.AES_CBC,
      key,
      op: 1,
    }, layout);
    const dec = await rig.driver.createSessionVhost({
      service: "cipher",
      algo: CipherAlgo.AES_CBC,
      key,
      op: 2,
    }, layout);
    assert.ok(enc >= 1n && dec > enc, `ids ${enc}, ${dec}`);
    const pt = hex(CBC256.plaintext);
    const e = await send(rig.driver, cipherRequest(enc, true, iv, pt.length), { iv, src_data: pt });
    assert.equal(e.status, Status.OK);
    assert.equal(toHex(e.out.dst_data!), CBC256.ciphertext);
    const d = await send(rig.driver, cipherRequest(dec, false, iv, pt.length), {
      iv,
      src_data: hex(CBC256.ciphertext),
    });
    assert.equal(d.status, Status.OK);
    assert.equal(toHex(d.out.dst_data!), CBC256.plaintext);

    // Message 27 closes; the id is then unknown to the data queue.
    await rig.driver.closeSessionVhost(enc);
    const after = await send(rig.driver, cipherRequest(enc, true, iv, pt.length), { iv, src_data: pt });
    assert.equal(after.status, Status.INVSESS);
    assert.equal(after.usedLen, 1);
    assert.equal(rig.daemon.device.sessions.table.size, 1);
  });

  Deno.test(`serve: AES-CTR + HMAC-SHA256 chaining session by message 26 (layout ${layout}) encrypts then MACs`, async () => {
    await using rig = await startRig(QEMU);
    const authKey = hex("0b".repeat(20));
    const aad = hex("feedfacedeadbeef");
    const id = await rig.driver.createSessionVhost({
      service: "chain",
      order: AlgChainOrder.CIPHER_THEN_HASH,
      cipherAlgo: CipherAlgo.AES_CTR,
      key: hex(CTR.key),
      op: 1,
      hashMode: SymHashMode.AUTH,
      authAlgo: MacAlgo.HMAC_SHA_256,
      resultLen: 32,
      authKey,
      aadLen: aad.length,
    }, layout);
    assert.ok(id >= 1n);
    const head = hex("0000000100000002");
    const src = concat(head, hex(CTR.plaintext));
    const req = chainRequest(id, true, {
      ivLen: 16,
      srcLen: src.length,
      cipherStart: head.length,
      cipherLen: src.length - head.length,
      hashStart: 0,
      hashLen: src.length,
      aadLen: aad.length,
      resultLen: 32,
    });
    const r = await send(rig.driver, req, { iv: hex(CTR.iv), src_data: src, aad });
    assert.equal(r.status, Status.OK);
    // The cipher part is SP 800-38A F.5.1; the MAC over aad || dst has no published vector: node:crypto computes it.
    const dst = concat(head, hex(CTR.ciphertext));
    assert.equal(toHex(r.out.dst_data!), toHex(dst));
    assert.equal(
      toHex(r.out.hash_result!),
      createHmac("sha256", authKey).update(aad).update(dst).digest("hex"),
    );
    assert.equal(r.usedLen, src.length + 33);
  });
}

Deno.test("serve: message 26 for an algorithm the engine lacks gets -1 and the connection stays up", async () => {
  await using rig = await startRig(QEMU);
  const id = await rig.driver.createSessionVhost({
    service: "cipher",
    algo: CipherAlgo.KASUMI_F8,
    key: new Uint8Array(16),
    op: 1,
  }, "B");
  assert.equal(id, -1n);
  const ok = await rig.driver.createSessionVhost({
    service: "cipher",
    algo: CipherAlgo.AES_CBC,
    key: new Uint8Array(16),
    op: 1,
  }, "B");
  assert.ok(ok >= 1n);
  assert.equal(rig.daemon.server.connections, 1);
});
