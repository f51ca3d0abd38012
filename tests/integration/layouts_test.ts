/**
 * Wire layouts: the legacy padded layout (no REVISION_1; also with QEMU 7.2's SET_FEATURES, bit 30 only), REVISION_1
 * session requests, and REVISION_1 stateless requests (header `flag` 0, session parameters and keys in the request)
 * for cipher, hash, MAC, AEAD and chaining, plus the refusal of a stateless request without the stateless bit.
 * Expected outputs: NIST SP 800-38A, FIPS 180-4, RFC 4231, McGrew-Viega GCM test cases (SP 800-38D); the chaining
 * MAC has no published vector and is computed with node:crypto.
 */

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import {
  AeadAlgo,
  AlgChainOrder,
  CipherAlgo,
  CryptoFeature,
  HashAlgo,
  MacAlgo,
  Opcode,
  Status,
  SymHashMode,
  SymOpType,
} from "../../src/spec/virtio_crypto.ts";
import {
  aeadRequest,
  buildRequest,
  cipherRequest,
  hashRequest,
  macRequest,
  statelessRequest,
} from "../../src/frontend/mod.ts";
import { AES_SP800_38A } from "../../src/selftest/vectors/aes_sp800_38a.ts";
import { GCM_VECTORS } from "../../src/selftest/vectors/gcm_sp800_38d.ts";
import { HMAC_RFC4231 } from "../../src/selftest/vectors/hmac_rfc4231.ts";
import { SHA_FIPS180 } from "../../src/selftest/vectors/sha_fips180.ts";
import { concat, ctrlSession, hex, send, startRig, toHex, vector } from "./_daemon.ts";

// NIST SP 800-38A F.2.1 (CBC-AES128).
const CBC = vector(AES_SP800_38A, "SP 800-38A F.2.1 CBC-AES128");
// FIPS 180-4 SHA-256 example "abc".
const SHA = vector(SHA_FIPS180, "FIPS 180-4 SHA-256 one-block (abc)");
// RFC 4231 §4.3, test case 2.
const HMAC = vector(HMAC_RFC4231, "RFC 4231 HMAC-SHA256 test case 2");
// GCM spec test case 4 (McGrew-Viega, adopted by SP 800-38D).
const GCM = vector(GCM_VECTORS, "GCM spec test case 4");

Deno.test("serve: QEMU 7.2 feature set (bit 30 only) gets the legacy layout for cipher, hash, MAC and AEAD", async () => {
  await using rig = await startRig({ qemuFeatures: true });
  assert.equal(rig.driver.features, 1n << 30n);
  assert.equal(rig.driver.layout, "legacy");
  assert.equal(rig.daemon.device.layout, "legacy");
  const d = rig.driver;

  const cbc = await ctrlSession(d, { service: "cipher", algo: CipherAlgo.AES_CBC, key: hex(CBC.key), op: 1 });
  const c = await send(d, cipherRequest(cbc, true, hex(CBC.iv), 64), {
    iv: hex(CBC.iv),
    src_data: hex(CBC.plaintext),
  });
  assert.equal(c.status, Status.OK);
  assert.equal(toHex(c.out.dst_data!), CBC.ciphertext);
  assert.equal(rig.daemon.device.stats.ok, 1);

  const sha = await ctrlSession(d, { service: "hash", algo: HashAlgo.SHA_256, resultLen: 32 });
  const h = await send(d, hashRequest(sha, 3, 32), { src_data: hex(SHA.message) });
  assert.equal(toHex(h.out.hash_result!), SHA.digest);

  const mac = await ctrlSession(d, {
    service: "mac",
    algo: MacAlgo.HMAC_SHA_256,
    resultLen: 32,
    key: hex(HMAC.key),
  });
  const m = await send(d, macRequest(mac, HMAC.message.length / 2, 32), { src_data: hex(HMAC.message) });
  assert.equal(toHex(m.out.hash_result!), HMAC.mac);

  const gcm = await ctrlSession(d, {
    service: "aead",
    algo: AeadAlgo.GCM,
    key: hex(GCM.key),
    tagLen: 16,
    aadLen: 20,
    op: 1,
  });
  const pt = hex(GCM.plaintext);
  const a = await send(
    d,
    aeadRequest(gcm, true, { ivLen: 12, aadLen: 20, srcLen: pt.length, dstLen: pt.length + 16, tagLen: 16 }),
    { iv: hex(GCM.nonce), src_data: pt, aad: hex(GCM.aad) },
  );
  assert.equal(toHex(a.out.dst_data!), GCM.ciphertext + GCM.tag);
  assert.equal(rig.daemon.device.stats.ok, 4);
});

Deno.test("serve: legacy request headers are 72 bytes and REVISION_1 ones are unpadded", async () => {
  // Legacy: 24-byte header + flf padded to 48; REVISION_1 hash: 24 + 8.
  await using legacy = await startRig({ revision1: false });
  const sha = await ctrlSession(legacy.driver, { service: "hash", algo: HashAlgo.SHA_256, resultLen: 32 });
  assert.equal(buildRequest(hashRequest(sha, 3, 32), "legacy", {}).out[0]!.bytes.length, 72);
  assert.equal(buildRequest(hashRequest(sha, 3, 32), "revision1", {}).out[0]!.bytes.length, 32);
  // A legacy device reading a REVISION_1 header would take the src bytes as flf padding: the device must use the
  // layout negotiated. Sending the 32-byte form to a legacy device is malformed (the chain is too short to hold 72
  // bytes of header plus the parts): ERR, not a crash.
  const parts = buildRequest(hashRequest(sha, 3, 32), "revision1", { src_data: hex(SHA.message) });
  const c = await legacy.driver.submit(0, parts.out, parts.in);
  assert.equal(c.status, Status.ERR);
  assert.equal(c.usedLen, 1);
});

Deno.test("serve: REVISION_1 negotiated: session requests use the unpadded layout and stateless bits are acked", async () => {
  await using rig = await startRig({ revision1: true });
  assert.equal(rig.driver.layout, "revision1");
  assert.equal(rig.daemon.device.layout, "revision1");
  for (const bit of [CryptoFeature.CIPHER_STATELESS_MODE, CryptoFeature.HASH_STATELESS_MODE]) {
    assert.notEqual(rig.driver.features & (1n << BigInt(bit)), 0n);
  }
  const sha = await ctrlSession(rig.driver, { service: "hash", algo: HashAlgo.SHA_256, resultLen: 32 });
  const h = await send(rig.driver, hashRequest(sha, 3, 32), { src_data: hex(SHA.message) });
  assert.equal(h.status, Status.OK);
  assert.equal(toHex(h.out.hash_result!), SHA.digest);
});

Deno.test("serve: stateless AES-CBC request (REVISION_1) encrypts SP 800-38A F.2.1 without a session", async () => {
  await using rig = await startRig({ revision1: true });
  const key = hex(CBC.key);
  const req = statelessRequest(Opcode.CIPHER_ENCRYPT, {
    opType: SymOpType.CIPHER,
    cipherAlgo: CipherAlgo.AES_CBC,
    keyLen: key.length,
    op: 1,
    ivLen: 16,
    srcDataLen: 64,
    dstDataLen: 64,
  });
  const r = await send(rig.driver, req, { cipher_key: key, iv: hex(CBC.iv), src_data: hex(CBC.plaintext) });
  assert.equal(r.status, Status.OK);
  assert.equal(toHex(r.out.dst_data!), CBC.ciphertext);
  assert.equal(r.usedLen, 65);
  // The one-request session is gone with the request.
  assert.equal(rig.daemon.device.sessions.table.size, 0);

  const dec = statelessRequest(Opcode.CIPHER_DECRYPT, {
    opType: SymOpType.CIPHER,
    cipherAlgo: CipherAlgo.AES_CBC,
    keyLen: key.length,
    op: 2,
    ivLen: 16,
    srcDataLen: 64,
    dstDataLen: 64,
  });
  const d = await send(rig.driver, dec, { cipher_key: key, iv: hex(CBC.iv), src_data: hex(CBC.ciphertext) });
  assert.equal(d.status, Status.OK);
  assert.equal(toHex(d.out.dst_data!), CBC.plaintext);
});

Deno.test("serve: stateless SHA-256 and HMAC-SHA256 requests (REVISION_1) compute FIPS 180-4 and RFC 4231 case 2", async () => {
  await using rig = await startRig({ revision1: true });
  const h = await send(
    rig.driver,
    statelessRequest(Opcode.HASH, { hashAlgo: HashAlgo.SHA_256, srcDataLen: 3, hashResultLen: 32 }),
    { src_data: hex(SHA.message) },
  );
  assert.equal(h.status, Status.OK);
  assert.equal(toHex(h.out.hash_result!), SHA.digest);
  assert.equal(h.usedLen, 33);

  const key = hex(HMAC.key);
  const msg = hex(HMAC.message);
  const m = await send(
    rig.driver,
    statelessRequest(Opcode.MAC, {
      macAlgo: MacAlgo.HMAC_SHA_256,
      authKeyLen: key.length,
      srcDataLen: msg.length,
      hashResultLen: 32,
    }),
    { auth_key: key, src_data: msg },
  );
  assert.equal(m.status, Status.OK);
  assert.equal(toHex(m.out.hash_result!), HMAC.mac);
  assert.equal(rig.daemon.device.sessions.table.size, 0);
});

Deno.test("serve: stateless AES-GCM requests (REVISION_1) seal and open GCM test case 4, and reject a wrong tag", async () => {
  await using rig = await startRig({ revision1: true });
  const key = hex(GCM.key);
  const pt = hex(GCM.plaintext);
  const fields = { aeadAlgo: AeadAlgo.GCM, keyLen: 16, ivLen: 12, tagLen: 16, aadLen: 20 };
  const e = await send(
    rig.driver,
    statelessRequest(Opcode.AEAD_ENCRYPT, {
      ...fields,
      op: 1,
      srcDataLen: pt.length,
      dstDataLen: pt.length + 16,
    }),
    { key, iv: hex(GCM.nonce), src_data: pt, aad: hex(GCM.aad) },
  );
  assert.equal(e.status, Status.OK);
  assert.equal(toHex(e.out.dst_data!), GCM.ciphertext + GCM.tag);
  assert.equal(e.usedLen, pt.length + 17);

  const ctTag = hex(GCM.ciphertext + GCM.tag);
  const open = statelessRequest(Opcode.AEAD_DECRYPT, {
    ...fields,
    op: 2,
    srcDataLen: ctTag.length,
    dstDataLen: pt.length,
  });
  const d = await send(rig.driver, open, { key, iv: hex(GCM.nonce), src_data: ctTag, aad: hex(GCM.aad) });
  assert.equal(d.status, Status.OK);
  assert.equal(toHex(d.out.dst_data!), GCM.plaintext);

  ctTag[0]! ^= 1;
  const bad = await send(rig.driver, open, { key, iv: hex(GCM.nonce), src_data: ctTag, aad: hex(GCM.aad) });
  assert.equal(bad.status, Status.BADMSG);
  assert.equal(toHex(bad.out.dst_data!), "00".repeat(pt.length));
  assert.equal(rig.daemon.device.sessions.table.size, 0);
});

Deno.test("serve: stateless AES-CBC + HMAC-SHA256 chaining request (REVISION_1) reads keys, iv, aad, then src", async () => {
  await using rig = await startRig({ revision1: true });
  const key = hex(CBC.key);
  const authKey = hex(HMAC.key);
  const aad = hex("0102030405060708");
  const pt = hex(CBC.plaintext);
  const req = statelessRequest(Opcode.CIPHER_ENCRYPT, {
    opType: SymOpType.ALGORITHM_CHAINING,
    algChainOrder: AlgChainOrder.CIPHER_THEN_HASH,
    sessAadLen: aad.length,
    cipherAlgo: CipherAlgo.AES_CBC,
    keyLen: key.length,
    op: 1,
    hashAlgo: MacAlgo.HMAC_SHA_256,
    authKeyLen: authKey.length,
    hashMode: SymHashMode.AUTH,
    ivLen: 16,
    srcDataLen: pt.length,
    dstDataLen: pt.length,
    cipherStartSrcOffset: 0,
    lenToCipher: pt.length,
    hashStartSrcOffset: 0,
    lenToHash: pt.length,
    aadLen: aad.length,
    hashResultLen: 32,
  });
  const r = await send(rig.driver, req, {
    cipher_key: key,
    auth_key: authKey,
    iv: hex(CBC.iv),
    aad,
    src_data: pt,
  });
  assert.equal(r.status, Status.OK);
  assert.equal(toHex(r.out.dst_data!), CBC.ciphertext); // SP 800-38A F.2.1
  // node:crypto (not the code under test): HMAC-SHA256(auth key, aad || ciphertext).
  const mac = createHmac("sha256", authKey).update(concat(aad, hex(CBC.ciphertext))).digest("hex");
  assert.equal(toHex(r.out.hash_result!), mac);
  assert.equal(rig.daemon.device.sessions.table.size, 0);
});

Deno.test("serve: stateless request without the stateless feature answers NOTSUPP (REVISION_1 only)", async () => {
  await using rig = await startRig({ revision1: true, stateless: false });
  assert.equal(rig.driver.layout, "revision1");
  assert.equal(rig.driver.features & (1n << BigInt(CryptoFeature.CIPHER_STATELESS_MODE)), 0n);
  const key = hex(CBC.key);
  const cipher = statelessRequest(Opcode.CIPHER_ENCRYPT, {
    opType: SymOpType.CIPHER,
    cipherAlgo: CipherAlgo.AES_CBC,
    keyLen: 16,
    op: 1,
    ivLen: 16,
    srcDataLen: 64,
    dstDataLen: 64,
  });
  const c = await send(rig.driver, cipher, {
    cipher_key: key,
    iv: hex(CBC.iv),
    src_data: hex(CBC.plaintext),
  });
  assert.equal(c.status, Status.NOTSUPP);
  assert.equal(c.usedLen, 1);
  assert.equal(toHex(c.out.dst_data!), "00".repeat(64));
  const h = await send(
    rig.driver,
    statelessRequest(Opcode.HASH, { hashAlgo: HashAlgo.SHA_256, srcDataLen: 3, hashResultLen: 32 }),
    { src_data: hex(SHA.message) },
  );
  assert.equal(h.status, Status.NOTSUPP);
  // Session mode still works on the same queue.
  const sha = await ctrlSession(rig.driver, { service: "hash", algo: HashAlgo.SHA_256, resultLen: 32 });
  const ok = await send(rig.driver, hashRequest(sha, 3, 32), { src_data: hex(SHA.message) });
  assert.equal(ok.status, Status.OK);
  assert.equal(toHex(ok.out.hash_result!), SHA.digest);
});

Deno.test("serve: REVISION_1 request with a flag other than 0 and SESSION_MODE answers NOTSUPP", async () => {
  await using rig = await startRig({ revision1: true });
  const sha = await ctrlSession(rig.driver, { service: "hash", algo: HashAlgo.SHA_256, resultLen: 32 });
  const req = hashRequest(sha, 3, 32);
  const parts = buildRequest(req, "revision1", { src_data: hex(SHA.message) });
  const header = parts.out[0]!.bytes;
  header[16] = 2; // flag
  const c = await rig.driver.submit(0, parts.out, parts.in);
  assert.equal(c.status, Status.NOTSUPP);
  assert.equal(c.usedLen, 1);
});
