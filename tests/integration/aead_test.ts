/**
 * AEAD service end to end: sessions through the control queue; requests in both wire layouts. Encryption writes
 * ciphertext then tag into `dst_data`; decryption reads ciphertext then tag from `src_data` and, on a wrong tag,
 * answers BADMSG and releases no plaintext (README, "Decisions"). Vectors: McGrew-Viega GCM test cases (adopted by
 * NIST SP 800-38D), RFC 3610 and SP 800-38C Appendix C (CCM), RFC 8439 §2.8.2 (ChaCha20-Poly1305).
 */

import assert from "node:assert/strict";
import { Status } from "../../src/spec/virtio_crypto.ts";
import { aeadRequest, type DriverOptions, type VirtioCryptoDriver } from "../../src/frontend/mod.ts";
import type { AeadVector } from "../../src/selftest/vectors/_types.ts";
import { CCM_VECTORS } from "../../src/selftest/vectors/ccm_rfc3610.ts";
import { CHACHA20_POLY1305_RFC8439 } from "../../src/selftest/vectors/chacha20_poly1305_rfc8439.ts";
import { GCM_VECTORS } from "../../src/selftest/vectors/gcm_sp800_38d.ts";
import { ctrlSession, hex, send, type Sent, startRig, toHex, vector } from "./_daemon.ts";

const LAYOUTS: readonly { name: string; options: Omit<DriverOptions, "path"> }[] = [
  { name: "legacy layout", options: { revision1: false } },
  { name: "REVISION_1", options: { revision1: true } },
];

const CASES: readonly { name: string; v: AeadVector }[] = [
  // GCM spec (McGrew-Viega 2005, adopted by SP 800-38D) test case 4: AES-128, 12-byte IV, 20-byte AAD, 60 bytes
  { name: "AES-GCM", v: vector(GCM_VECTORS, "GCM spec test case 4") },
  // test case 6: a 60-byte IV (README: GCM IVs of any length are IVs, not J0)
  { name: "AES-GCM", v: vector(GCM_VECTORS, "GCM spec test case 6") },
  // test case 16: AES-256
  { name: "AES-256-GCM", v: vector(GCM_VECTORS, "GCM spec test case 16") },
  // RFC 3610 §8, packet vector #1: 13-byte nonce, 8-byte AAD, 8-byte tag
  { name: "AES-CCM", v: vector(CCM_VECTORS, "RFC 3610 packet vector #1") },
  // NIST SP 800-38C Appendix C example 1: 7-byte nonce, 4-byte tag
  { name: "AES-CCM", v: vector(CCM_VECTORS, "SP 800-38C Appendix C example 1") },
  // RFC 8439 §2.8.2
  { name: "ChaCha20-Poly1305", v: vector(CHACHA20_POLY1305_RFC8439, "RFC 8439 §2.8.2") },
];

async function aeadSession(driver: VirtioCryptoDriver, v: AeadVector, op: 1 | 2): Promise<bigint> {
  return await ctrlSession(driver, {
    service: "aead",
    algo: v.algo,
    key: hex(v.key),
    tagLen: v.tag.length / 2,
    aadLen: v.aad.length / 2,
    op,
  });
}

function encrypt(driver: VirtioCryptoDriver, id: bigint, v: AeadVector): Promise<Sent> {
  const [iv, aad, pt] = [hex(v.nonce), hex(v.aad), hex(v.plaintext)];
  const tagLen = v.tag.length / 2;
  const req = aeadRequest(id, true, {
    ivLen: iv.length,
    aadLen: aad.length,
    srcLen: pt.length,
    dstLen: pt.length + tagLen,
    tagLen,
  });
  return send(driver, req, { iv, src_data: pt, aad });
}

function decrypt(driver: VirtioCryptoDriver, id: bigint, v: AeadVector, ctAndTag: Uint8Array): Promise<Sent> {
  const [iv, aad] = [hex(v.nonce), hex(v.aad)];
  const tagLen = v.tag.length / 2;
  const req = aeadRequest(id, false, {
    ivLen: iv.length,
    aadLen: aad.length,
    srcLen: ctAndTag.length,
    dstLen: ctAndTag.length - tagLen,
    tagLen,
  });
  return send(driver, req, { iv, src_data: ctAndTag, aad });
}

for (const { name, v } of CASES) {
  for (const layout of LAYOUTS) {
    Deno.test(`serve: ${name} sessions by control queue (${layout.name}) seal and open ${v.id}`, async () => {
      await using rig = await startRig(layout.options);
      const enc = await aeadSession(rig.driver, v, 1);
      const dec = await aeadSession(rig.driver, v, 2);

      const e = await encrypt(rig.driver, enc, v);
      assert.equal(e.status, Status.OK);
      assert.equal(toHex(e.out.dst_data!), v.ciphertext + v.tag);
      assert.equal(e.usedLen, (v.ciphertext.length + v.tag.length) / 2 + 1);

      const d = await decrypt(rig.driver, dec, v, hex(v.ciphertext + v.tag));
      assert.equal(d.status, Status.OK);
      assert.equal(toHex(d.out.dst_data!), v.plaintext);
      assert.equal(d.usedLen, v.plaintext.length / 2 + 1);
    });
  }
}

const TAMPERED: readonly { what: string; v: AeadVector }[] = [
  { what: "AES-GCM", v: vector(GCM_VECTORS, "GCM spec test case 4") },
  { what: "AES-CCM", v: vector(CCM_VECTORS, "RFC 3610 packet vector #1") },
  { what: "ChaCha20-Poly1305", v: vector(CHACHA20_POLY1305_RFC8439, "RFC 8439 §2.8.2") },
];

for (const { what, v } of TAMPERED) {
  Deno.test(`serve: ${what} decryption with a wrong tag answers BADMSG and releases no plaintext (${v.id})`, async () => {
    await using rig = await startRig({ revision1: true });
    const dec = await aeadSession(rig.driver, v, 2);
    const ctAndTag = hex(v.ciphertext + v.tag);
    ctAndTag[ctAndTag.length - 1]! ^= 0x01;
    const d = await decrypt(rig.driver, dec, v, ctAndTag);
    assert.equal(d.status, Status.BADMSG);
    assert.equal(d.usedLen, 1);
    // The driver zero-filled dst_data before submitting; the device must leave no plaintext there.
    assert.equal(toHex(d.out.dst_data!), "00".repeat(v.plaintext.length / 2));
    // A wrong AAD with the right tag fails the same way.
    const aad = hex(v.aad);
    aad[0]! ^= 0x80;
    const tagLen = v.tag.length / 2;
    const good = hex(v.ciphertext + v.tag);
    const req = aeadRequest(dec, false, {
      ivLen: v.nonce.length / 2,
      aadLen: aad.length,
      srcLen: good.length,
      dstLen: good.length - tagLen,
      tagLen,
    });
    const a = await send(rig.driver, req, { iv: hex(v.nonce), src_data: good, aad });
    assert.equal(a.status, Status.BADMSG);
    assert.equal(toHex(a.out.dst_data!), "00".repeat(v.plaintext.length / 2));
  });
}

Deno.test("serve: AES-GCM encryption whose dst_data cannot hold the tag answers ERR", async () => {
  await using rig = await startRig();
  const v = vector(GCM_VECTORS, "GCM spec test case 4");
  const enc = await aeadSession(rig.driver, v, 1);
  const pt = hex(v.plaintext);
  const req = aeadRequest(enc, true, {
    ivLen: 12,
    aadLen: 20,
    srcLen: pt.length,
    dstLen: pt.length,
    tagLen: 16,
  });
  const r = await send(rig.driver, req, { iv: hex(v.nonce), src_data: pt, aad: hex(v.aad) });
  assert.equal(r.status, Status.ERR);
  assert.equal(r.usedLen, 1);
  assert.equal(toHex(r.out.dst_data!), "00".repeat(pt.length));
});

Deno.test("serve: AES-GCM request with a tag_len other than the session's answers ERR", async () => {
  await using rig = await startRig();
  const v = vector(GCM_VECTORS, "GCM spec test case 4");
  const enc = await aeadSession(rig.driver, v, 1);
  const pt = hex(v.plaintext);
  const req = aeadRequest(enc, true, {
    ivLen: 12,
    aadLen: 20,
    srcLen: pt.length,
    dstLen: pt.length + 12,
    tagLen: 12,
  });
  const r = await send(rig.driver, req, { iv: hex(v.nonce), src_data: pt, aad: hex(v.aad) });
  assert.equal(r.status, Status.ERR);
  assert.equal(r.usedLen, 1);
});
