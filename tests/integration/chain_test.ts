/**
 * Algorithm chaining end to end (README, "Decisions": the cipher transforms `src[cipher_start, +len_to_cipher)`
 * into the same offsets of `dst`, other source bytes are copied through, and the hash or MAC covers
 * `aad || region` of the destination for CIPHER_THEN_HASH, of the source for HASH_THEN_CIPHER).
 *
 * The cipher part of every expected output is a published vector (NIST SP 800-38A F.2.1/F.2.2, F.5.1); the hash or
 * MAC over the chained bytes has no published vector, so it is computed in the test with node:crypto (not the code
 * under test).
 */

import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { encodeDataRequest } from "../../src/crypto/mod.ts";
import {
  AlgChainOrder,
  CipherAlgo,
  HashAlgo,
  MacAlgo,
  Status,
  SymHashMode,
} from "../../src/spec/virtio_crypto.ts";
import { chainRequest, type DriverOptions, type SessionSpec } from "../../src/frontend/mod.ts";
import { AES_SP800_38A } from "../../src/selftest/vectors/aes_sp800_38a.ts";
import { concat, ctrlSession, hex, send, startRig, toHex, vector } from "./_daemon.ts";

// NIST SP 800-38A F.2.1 (CBC-AES128.Encrypt) / F.2.2 (CBC-AES128.Decrypt).
const CBC = vector(AES_SP800_38A, "SP 800-38A F.2.1 CBC-AES128");
// NIST SP 800-38A F.5.1 (CTR-AES128.Encrypt).
const CTR = vector(AES_SP800_38A, "SP 800-38A F.5.1 CTR-AES128");

const AUTH_KEY = new TextEncoder().encode("chaining auth key, 32 bytes long");
const AAD = hex("a0a1a2a3a4a5a6a7a8a9aaab");
const HEAD = hex("4553500000000001"); // 8 bytes passed through (an ESP-like header)
const TAIL = hex("01020304");

const LAYOUTS: readonly { name: string; options: Omit<DriverOptions, "path"> }[] = [
  { name: "legacy layout", options: { revision1: false } },
  { name: "REVISION_1", options: { revision1: true } },
];

function hmacChain(op: 1 | 2, order: number): SessionSpec {
  return {
    service: "chain",
    order,
    cipherAlgo: CipherAlgo.AES_CBC,
    key: hex(CBC.key),
    op,
    hashMode: SymHashMode.AUTH,
    authAlgo: MacAlgo.HMAC_SHA_256,
    resultLen: 32,
    authKey: AUTH_KEY,
    aadLen: AAD.length,
  };
}

for (const layout of LAYOUTS) {
  Deno.test(`serve: AES-CBC + HMAC-SHA256 CIPHER_THEN_HASH session by control queue (${layout.name}) encrypts with offsets and AAD`, async () => {
    await using rig = await startRig(layout.options);
    const id = await ctrlSession(rig.driver, hmacChain(1, AlgChainOrder.CIPHER_THEN_HASH));
    const pt = hex(CBC.plaintext);
    const src = concat(HEAD, pt, TAIL);
    const iv = hex(CBC.iv);
    const req = chainRequest(id, true, {
      ivLen: iv.length,
      srcLen: src.length,
      cipherStart: HEAD.length,
      cipherLen: pt.length,
      hashStart: 4,
      hashLen: src.length - 4 - 2,
      aadLen: AAD.length,
      resultLen: 32,
    });
    const r = await send(rig.driver, req, { iv, src_data: src, aad: AAD });
    assert.equal(r.status, Status.OK);
    const expectedDst = concat(HEAD, hex(CBC.ciphertext), TAIL);
    assert.equal(toHex(r.out.dst_data!), toHex(expectedDst));
    // node:crypto: HMAC-SHA256(auth key, aad || dst[4, len - 2)).
    const mac = createHmac("sha256", AUTH_KEY).update(AAD).update(expectedDst.subarray(4, src.length - 2));
    assert.equal(toHex(r.out.hash_result!), mac.digest("hex"));
    assert.equal(r.usedLen, src.length + 32 + 1);
  });

  Deno.test(`serve: AES-CBC + HMAC-SHA256 HASH_THEN_CIPHER session by control queue (${layout.name}) decrypts with offsets and AAD`, async () => {
    await using rig = await startRig(layout.options);
    const id = await ctrlSession(rig.driver, hmacChain(2, AlgChainOrder.HASH_THEN_CIPHER));
    const ct = hex(CBC.ciphertext);
    const src = concat(HEAD, ct, TAIL);
    const iv = hex(CBC.iv);
    const req = chainRequest(id, false, {
      ivLen: iv.length,
      srcLen: src.length,
      cipherStart: HEAD.length,
      cipherLen: ct.length,
      hashStart: 0,
      hashLen: HEAD.length + ct.length,
      aadLen: AAD.length,
      resultLen: 32,
    });
    const r = await send(rig.driver, req, { iv, src_data: src, aad: AAD });
    assert.equal(r.status, Status.OK);
    // SP 800-38A F.2.2: the decryption of F.2.1's ciphertext is its plaintext.
    assert.equal(toHex(r.out.dst_data!), toHex(concat(HEAD, hex(CBC.plaintext), TAIL)));
    // node:crypto: HMAC-SHA256(auth key, aad || src[0, 72)), over the ciphertext as received.
    const mac = createHmac("sha256", AUTH_KEY).update(AAD).update(src.subarray(0, HEAD.length + ct.length));
    assert.equal(toHex(r.out.hash_result!), mac.digest("hex"));
    assert.equal(r.usedLen, src.length + 32 + 1);
  });
}

Deno.test("serve: AES-CTR + SHA-256 (plain hash mode) CIPHER_THEN_HASH chain by control queue, truncated result", async () => {
  await using rig = await startRig({ revision1: true });
  const id = await ctrlSession(rig.driver, {
    service: "chain",
    order: AlgChainOrder.CIPHER_THEN_HASH,
    cipherAlgo: CipherAlgo.AES_CTR,
    key: hex(CTR.key),
    op: 1,
    hashMode: SymHashMode.PLAIN,
    authAlgo: HashAlgo.SHA_256,
    resultLen: 16,
    authKey: new Uint8Array(0),
    aadLen: 0,
  });
  const pt = hex(CTR.plaintext);
  const iv = hex(CTR.iv);
  const req = chainRequest(id, true, {
    ivLen: 16,
    srcLen: pt.length,
    cipherStart: 0,
    cipherLen: pt.length,
    hashStart: 16,
    hashLen: 32,
    aadLen: 0,
    resultLen: 16,
  });
  const r = await send(rig.driver, req, { iv, src_data: pt });
  assert.equal(r.status, Status.OK);
  assert.equal(toHex(r.out.dst_data!), CTR.ciphertext);
  // node:crypto: SHA-256 of dst[16, 48), truncated to 16 bytes.
  const digest = createHash("sha256").update(hex(CTR.ciphertext).subarray(16, 48)).digest("hex").slice(0, 32);
  assert.equal(toHex(r.out.hash_result!), digest);
});

Deno.test("serve: chaining request whose cipher range runs past src_data answers ERR", async () => {
  await using rig = await startRig();
  const id = await ctrlSession(rig.driver, hmacChain(1, AlgChainOrder.CIPHER_THEN_HASH));
  const src = new Uint8Array(32);
  const req = chainRequest(id, true, {
    ivLen: 16,
    srcLen: 32,
    cipherStart: 16,
    cipherLen: 32,
    hashStart: 0,
    hashLen: 32,
    aadLen: AAD.length,
    resultLen: 32,
  });
  // buildRequest refuses to plan such a request, so lay it out by hand: header, iv, src, aad | dst, hash, status.
  const header = encodeDataRequest(req, rig.driver.layout);
  const out = [header, new Uint8Array(16), src, AAD].map((bytes) => ({ bytes }));
  const c = await rig.driver.submit(0, out, [{ length: 32 }, { length: 32 }]);
  assert.equal(c.status, Status.ERR);
  assert.equal(c.usedLen, 1);
  assert.equal(toHex(c.in[0]!), "00".repeat(32));
});
