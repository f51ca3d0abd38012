/**
 * Descriptor chain shapes the device must accept (interop.md §6 item 6): direct and indirect chains, every part
 * split over many small descriptors, in-place requests (destination aliasing the source, as Linux does), and Linux's
 * shape where the writable area is longer than `dst_data_len` and the status is the last writable byte.
 * Expected outputs: NIST SP 800-38A, IEEE 1619, FIPS 180-4, McGrew-Viega GCM test cases (SP 800-38D); the in-place
 * chaining MAC has no published vector and is computed with node:crypto.
 */

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import {
  AeadAlgo,
  AlgChainOrder,
  CipherAlgo,
  HashAlgo,
  MacAlgo,
  Status,
  SymHashMode,
} from "../../src/spec/virtio_crypto.ts";
import {
  aeadRequest,
  buildRequest,
  chainRequest,
  type ChainShape,
  cipherRequest,
  hashRequest,
} from "../../src/frontend/mod.ts";
import { AES_SP800_38A } from "../../src/selftest/vectors/aes_sp800_38a.ts";
import { AES_XTS_IEEE1619 } from "../../src/selftest/vectors/aes_xts_ieee1619.ts";
import { GCM_VECTORS } from "../../src/selftest/vectors/gcm_sp800_38d.ts";
import { SHA_FIPS180 } from "../../src/selftest/vectors/sha_fips180.ts";
import { ctrlSession, hex, send, startRig, toHex, vector } from "./_daemon.ts";

// NIST SP 800-38A F.2.1 (CBC-AES128) and F.5.1 (CTR-AES128).
const CBC = vector(AES_SP800_38A, "SP 800-38A F.2.1 CBC-AES128");
const CTR = vector(AES_SP800_38A, "SP 800-38A F.5.1 CTR-AES128");
// IEEE 1619-2007 Annex B, XTS-AES-128 vector 4 (512 bytes).
const XTS = vector(AES_XTS_IEEE1619, "IEEE 1619-2007 XTS-AES-128 vector 4");
// FIPS 180-4 SHA-256 two-block example (56-byte message).
const SHA = vector(SHA_FIPS180, "FIPS 180-4 SHA-256 two-block");
// GCM spec test case 4 (McGrew-Viega, adopted by SP 800-38D).
const GCM = vector(GCM_VECTORS, "GCM spec test case 4");

const SHAPES: readonly { name: string; shape: ChainShape }[] = [
  { name: "direct chain", shape: {} },
  { name: "indirect chain", shape: { indirect: true } },
  { name: "direct chain of 7-byte descriptors", shape: { maxDescriptor: 7 } },
  { name: "indirect chain of 5-byte descriptors", shape: { indirect: true, maxDescriptor: 5 } },
];

for (const { name, shape } of SHAPES) {
  Deno.test(`serve: AES-CBC request as a ${name} encrypts SP 800-38A F.2.1`, async () => {
    await using rig = await startRig();
    const id = await ctrlSession(rig.driver, {
      service: "cipher",
      algo: CipherAlgo.AES_CBC,
      key: hex(CBC.key),
      op: 1,
    });
    const iv = hex(CBC.iv);
    const r = await send(rig.driver, cipherRequest(id, true, iv, 64), { iv, src_data: hex(CBC.plaintext) }, {
      shape,
    });
    assert.equal(r.status, Status.OK);
    assert.equal(toHex(r.out.dst_data!), CBC.ciphertext);
    assert.equal(r.usedLen, 65);
  });

  Deno.test(`serve: SHA-256 request as a ${name} computes the FIPS 180-4 two-block example`, async () => {
    await using rig = await startRig({ revision1: true });
    const id = await ctrlSession(rig.driver, { service: "hash", algo: HashAlgo.SHA_256, resultLen: 32 });
    const msg = hex(SHA.message);
    const r = await send(rig.driver, hashRequest(id, msg.length, 32), { src_data: msg }, { shape });
    assert.equal(r.status, Status.OK);
    assert.equal(toHex(r.out.hash_result!), SHA.digest);
  });
}

Deno.test("serve: AES-XTS 512-byte request over 16-byte descriptors (71 in a direct chain) encrypts IEEE 1619 vector 4", async () => {
  await using rig = await startRig();
  const id = await ctrlSession(rig.driver, {
    service: "cipher",
    algo: CipherAlgo.AES_XTS,
    key: hex(XTS.key),
    op: 1,
  });
  const iv = hex(XTS.iv);
  const pt = hex(XTS.plaintext);
  const r = await send(rig.driver, cipherRequest(id, true, iv, pt.length), { iv, src_data: pt }, {
    shape: { maxDescriptor: 16 },
  });
  assert.equal(r.status, Status.OK);
  assert.equal(toHex(r.out.dst_data!), XTS.ciphertext);
});

Deno.test("serve: AES-GCM request over 3-byte descriptors seals GCM test case 4", async () => {
  await using rig = await startRig({ revision1: true });
  const id = await ctrlSession(rig.driver, {
    service: "aead",
    algo: AeadAlgo.GCM,
    key: hex(GCM.key),
    tagLen: 16,
    aadLen: 20,
    op: 1,
  });
  const pt = hex(GCM.plaintext);
  const req = aeadRequest(id, true, {
    ivLen: 12,
    aadLen: 20,
    srcLen: pt.length,
    dstLen: pt.length + 16,
    tagLen: 16,
  });
  const r = await send(rig.driver, req, { iv: hex(GCM.nonce), src_data: pt, aad: hex(GCM.aad) }, {
    shape: { maxDescriptor: 3 },
  });
  assert.equal(r.status, Status.OK);
  assert.equal(toHex(r.out.dst_data!), GCM.ciphertext + GCM.tag);
});

for (const indirect of [false, true]) {
  const kind = indirect ? "indirect" : "direct";
  Deno.test(`serve: in-place AES-CBC and AES-CTR requests (${kind}, dst aliasing src) transform the buffer`, async () => {
    await using rig = await startRig({ qemuFeatures: true });
    const cbc = await rig.driver.createSessionVhost({
      service: "cipher",
      algo: CipherAlgo.AES_CBC,
      key: hex(CBC.key),
      op: 1,
    });
    const iv = hex(CBC.iv);
    const a = await send(rig.driver, cipherRequest(cbc, true, iv, 64), { iv, src_data: hex(CBC.plaintext) }, {
      inPlace: true,
      shape: { indirect },
    });
    assert.equal(a.status, Status.OK);
    assert.equal(toHex(a.out.dst_data!), CBC.ciphertext);

    const ctr = await rig.driver.createSessionVhost({
      service: "cipher",
      algo: CipherAlgo.AES_CTR,
      key: hex(CTR.key),
      op: 2,
    });
    const civ = hex(CTR.iv);
    // CTR decryption of F.5.1's ciphertext (SP 800-38A F.5.2), in place over descriptors of 10 bytes.
    const b = await send(rig.driver, cipherRequest(ctr, false, civ, 64), {
      iv: civ,
      src_data: hex(CTR.ciphertext),
    }, {
      inPlace: true,
      shape: { indirect, maxDescriptor: 10 },
    });
    assert.equal(b.status, Status.OK);
    assert.equal(toHex(b.out.dst_data!), CTR.plaintext);
  });
}

Deno.test("serve: in-place AES-GCM decryption (dst aliasing the ciphertext, tag after it) opens GCM test case 4", async () => {
  await using rig = await startRig();
  const id = await ctrlSession(rig.driver, {
    service: "aead",
    algo: AeadAlgo.GCM,
    key: hex(GCM.key),
    tagLen: 16,
    aadLen: 20,
    op: 2,
  });
  const ctTag = hex(GCM.ciphertext + GCM.tag);
  const req = aeadRequest(id, false, {
    ivLen: 12,
    aadLen: 20,
    srcLen: ctTag.length,
    dstLen: ctTag.length - 16,
    tagLen: 16,
  });
  const r = await send(rig.driver, req, { iv: hex(GCM.nonce), src_data: ctTag, aad: hex(GCM.aad) }, {
    inPlace: true,
    shape: { indirect: true },
  });
  assert.equal(r.status, Status.OK);
  assert.equal(toHex(r.out.dst_data!), GCM.plaintext);
});

Deno.test("serve: in-place AES-CBC + HMAC-SHA256 CIPHER_THEN_HASH request MACs the ciphertext", async () => {
  await using rig = await startRig();
  const authKey = new Uint8Array(32).fill(0x5c);
  const id = await ctrlSession(rig.driver, {
    service: "chain",
    order: AlgChainOrder.CIPHER_THEN_HASH,
    cipherAlgo: CipherAlgo.AES_CBC,
    key: hex(CBC.key),
    op: 1,
    hashMode: SymHashMode.AUTH,
    authAlgo: MacAlgo.HMAC_SHA_256,
    resultLen: 32,
    authKey,
    aadLen: 0,
  });
  const req = chainRequest(id, true, {
    ivLen: 16,
    srcLen: 64,
    cipherStart: 0,
    cipherLen: 64,
    hashStart: 0,
    hashLen: 64,
    aadLen: 0,
    resultLen: 32,
  });
  const r = await send(rig.driver, req, { iv: hex(CBC.iv), src_data: hex(CBC.plaintext) }, { inPlace: true });
  assert.equal(r.status, Status.OK);
  assert.equal(toHex(r.out.dst_data!), CBC.ciphertext); // SP 800-38A F.2.1
  // node:crypto (not the code under test): HMAC over the ciphertext.
  assert.equal(
    toHex(r.out.hash_result!),
    createHmac("sha256", authKey).update(hex(CBC.ciphertext)).digest("hex"),
  );
});

Deno.test("serve: Linux-shaped request with a writable area longer than dst_data_len puts the status in the last byte", async () => {
  await using rig = await startRig({ qemuFeatures: true });
  const id = await rig.driver.createSessionVhost({
    service: "cipher",
    algo: CipherAlgo.AES_CBC,
    key: hex(CBC.key),
    op: 1,
  });
  const iv = hex(CBC.iv);
  const parts = buildRequest(cipherRequest(id, true, iv, 64), rig.driver.layout, {
    iv,
    src_data: hex(CBC.plaintext),
  });
  // The guest's destination scatterlist: 64 bytes asked, three entries totalling 160 bytes, then a 1-byte status.
  const c = await rig.driver.submit(0, parts.out, [{ length: 48 }, { length: 48 }, { length: 64 }], {
    indirect: true,
  });
  assert.equal(c.status, Status.OK);
  assert.equal(toHex(c.in[0]!) + toHex(c.in[1]!.subarray(0, 16)), CBC.ciphertext);
  // The slack is left alone (the driver zero-filled it).
  assert.equal(toHex(c.in[1]!.subarray(16)) + toHex(c.in[2]!), "00".repeat(32 + 64));
  assert.equal(c.usedLen, 65);

  // The same with no separate status descriptor: the status is the last byte of the last writable descriptor.
  const d = await rig.driver.submit(0, parts.out, [{ length: 64 }, { length: 33 }], { status: false });
  const tail = d.in[1]!;
  assert.equal(toHex(d.in[0]!), CBC.ciphertext);
  assert.equal(tail[tail.length - 1], Status.OK);
  assert.equal(toHex(tail.subarray(0, 32)), "00".repeat(32));
  assert.equal(d.usedLen, 65);
});
