import assert from "node:assert/strict";
import {
  AeadAlgo,
  AkcipherAlgo,
  CipherAlgo,
  configMasks,
  configOffers,
  type CryptoConfig,
  CryptoWireError,
  decodeConfig,
  encodeConfig,
  HashAlgo,
  MacAlgo,
  Service,
} from "../../src/crypto/mod.ts";
import { writeU32 } from "../../src/virtio/le.ts";

/** QEMU's cryptodev-vhost-user configuration (interop.md §1.5). */
const QEMU_VHOST_USER: CryptoConfig = {
  status: 1,
  maxDataqueues: 1,
  cryptoServices: 0x7,
  cipherAlgoL: 0x8,
  cipherAlgoH: 0,
  hashAlgo: 0x4,
  macAlgoL: 0,
  macAlgoH: 0,
  aeadAlgo: 0,
  maxCipherKeyLen: 64,
  maxAuthKeyLen: 512,
  akcipherAlgo: 0,
  maxSize: 0xffff_ffff_ffff_ffffn,
};

Deno.test("decodeConfig() reads every field at its documented offset", () => {
  const b = new Uint8Array(56);
  const words = [1, 4, 0x1f, 0x10, 0x20, 0x40, 0x80, 0x100, 0x200, 32, 128, 0x2];
  words.forEach((w, i) => writeU32(b, i * 4, w));
  writeU32(b, 48, 0x1234_5678);
  writeU32(b, 52, 0x9);
  assert.deepEqual(decodeConfig(b), {
    status: 1,
    maxDataqueues: 4,
    cryptoServices: 0x1f,
    cipherAlgoL: 0x10,
    cipherAlgoH: 0x20,
    hashAlgo: 0x40,
    macAlgoL: 0x80,
    macAlgoH: 0x100,
    aeadAlgo: 0x200,
    maxCipherKeyLen: 32,
    maxAuthKeyLen: 128,
    akcipherAlgo: 0x2,
    maxSize: 0x9_1234_5678n,
  });
});

Deno.test("encodeConfig() round-trips QEMU's vhost-user configuration byte for byte", () => {
  const b = encodeConfig(QEMU_VHOST_USER);
  assert.equal(b.length, 56);
  assert.deepEqual([...b.subarray(0, 16)], [1, 0, 0, 0, 1, 0, 0, 0, 7, 0, 0, 0, 8, 0, 0, 0]);
  assert.deepEqual([...b.subarray(36, 48)], [64, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual([...b.subarray(48)], [255, 255, 255, 255, 255, 255, 255, 255]);
  assert.deepEqual(decodeConfig(b), QEMU_VHOST_USER);
});

Deno.test("encodeConfig() writes into a larger target and leaves the rest alone", () => {
  const target = new Uint8Array(60).fill(0xee);
  const out = encodeConfig(QEMU_VHOST_USER, target);
  assert.equal(out.buffer, target.buffer);
  assert.equal(out.length, 56);
  assert.deepEqual([...target.subarray(56)], [0xee, 0xee, 0xee, 0xee]);
});

Deno.test("decodeConfig() and encodeConfig() reject buffers shorter than 56 bytes", () => {
  assert.throws(
    () => decodeConfig(new Uint8Array(55)),
    (e) => e instanceof CryptoWireError && e.kind === "short-buffer",
  );
  assert.throws(
    () => encodeConfig(QEMU_VHOST_USER, new Uint8Array(55)),
    (e) => e instanceof CryptoWireError && e.kind === "short-buffer",
  );
});

Deno.test("configMasks() sets service bits and splits 64-bit masks into low and high words", () => {
  const m = configMasks({
    cipher: [CipherAlgo.AES_CBC, CipherAlgo.AES_XTS],
    hash: [HashAlgo.SHA_256, HashAlgo.SHA3_SHAKE256],
    mac: [MacAlgo.HMAC_SHA_256, MacAlgo.GMAC_AES, MacAlgo.ZUC_EIA3],
    aead: [AeadAlgo.GCM, AeadAlgo.CHACHA20_POLY1305],
    akcipher: [AkcipherAlgo.RSA],
  });
  assert.deepEqual(m, {
    cryptoServices: 0b11111,
    cipherAlgoL: (1 << 3) | (1 << 13),
    cipherAlgoH: 0,
    hashAlgo: (1 << 4) | (1 << 12),
    macAlgoL: 1 << 4,
    macAlgoH: (1 << (41 - 32)) | (1 << (54 - 32)),
    aeadAlgo: (1 << 1) | (1 << 3),
    akcipherAlgo: 1 << 1,
  });
});

Deno.test("configMasks() leaves services with no or empty sets unadvertised", () => {
  const m = configMasks({ cipher: [CipherAlgo.AES_CBC], hash: [] });
  assert.equal(m.cryptoServices, 1 << Service.CIPHER);
  assert.equal(m.hashAlgo, 0);
  assert.equal(configMasks({}).cryptoServices, 0);
});

Deno.test("configMasks() gives bit 31 as an unsigned mask", () => {
  assert.equal(configMasks({ cipher: [31] }).cipherAlgoL, 0x8000_0000);
  assert.equal(configMasks({ mac: [63] }).macAlgoH, 0x8000_0000);
});

Deno.test("configMasks() rejects ids outside the mask width", () => {
  assert.throws(() => configMasks({ cipher: [64] }), RangeError);
  assert.throws(() => configMasks({ hash: [32] }), RangeError);
  assert.throws(() => configMasks({ aead: [-1] }), RangeError);
  assert.throws(() => configMasks({ akcipher: [1.5] }), RangeError);
});

Deno.test("configOffers() needs both the service bit and the algorithm bit", () => {
  const m = configMasks({ cipher: [CipherAlgo.AES_CBC], mac: [MacAlgo.GMAC_AES] });
  assert.ok(configOffers(m, Service.CIPHER, CipherAlgo.AES_CBC));
  assert.ok(!configOffers(m, Service.CIPHER, CipherAlgo.AES_CTR));
  assert.ok(configOffers(m, Service.MAC, MacAlgo.GMAC_AES));
  assert.ok(!configOffers(m, Service.HASH, HashAlgo.SHA1));
  assert.ok(!configOffers({ ...m, cryptoServices: 0 }, Service.CIPHER, CipherAlgo.AES_CBC));
  assert.ok(!configOffers(m, Service.CIPHER, 64));
  assert.ok(!configOffers(m, 40, 0));
  // QEMU advertises HASH with SHA1 (interop.md §1.5)
  assert.ok(configOffers(QEMU_VHOST_USER, Service.HASH, HashAlgo.SHA1));
  assert.ok(!configOffers(QEMU_VHOST_USER, Service.AKCIPHER, AkcipherAlgo.RSA));
});
