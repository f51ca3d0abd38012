import assert from "node:assert/strict";
import {
  capabilitiesFromConfig,
  chainProbe,
  checkSession,
  probeList,
  withoutRefused,
} from "../../src/accel/virtio_pci/mod.ts";
import { CipherAlgo, HashAlgo, MacAlgo } from "../../src/spec/virtio_crypto.ts";
import { configMasks, type CryptoConfig } from "../../src/crypto/mod.ts";
import { EngineError } from "../../src/engine/mod.ts";

/** QEMU 7.2's built-in back-end (guest-lab.md, tier 4; backends/cryptodev-builtin.c). */
const QEMU_BUILTIN: CryptoConfig = {
  status: 1,
  maxDataqueues: 1,
  ...configMasks({ cipher: [CipherAlgo.AES_CBC], hash: [HashAlgo.SHA1], akcipher: [1] }),
  cryptoServices: 0b11111 & ~(1 << 3), // CIPHER, HASH, MAC, AKCIPHER (MAC advertised with an empty mask)
  maxCipherKeyLen: 64,
  maxAuthKeyLen: 512,
  maxSize: 0x7fff_ffff_ffff_ffffn,
};

Deno.test("capabilitiesFromConfig() claims what QEMU's built-in back-end advertises: AES-CBC and SHA-1, no RSA", () => {
  const caps = capabilitiesFromConfig(QEMU_BUILTIN, "virtio-crypto 0000:00:04.0");
  assert.deepEqual([...caps.cipher.keys()], [CipherAlgo.AES_CBC]);
  assert.deepEqual(caps.cipher.get(CipherAlgo.AES_CBC)!.keyLengths, [16, 24, 32]);
  assert.equal(caps.cipher.get(CipherAlgo.AES_CBC)!.source, "virtio-crypto 0000:00:04.0");
  assert.deepEqual([...caps.hash.keys()], [HashAlgo.SHA1]);
  assert.equal(caps.mac.size, 0, "MAC service bit without a MAC mask claims nothing");
  assert.equal(caps.akcipher.size, 0, "asymmetric sessions stay in software");
  assert.equal(caps.chaining, false, "no config bit says chaining: only a probe can");
});

Deno.test("capabilitiesFromConfig() needs the service bit, HW_READY and known algorithms, and caps key lengths", () => {
  const noService = { ...QEMU_BUILTIN, cryptoServices: 0b10 }; // HASH only
  assert.equal(capabilitiesFromConfig(noService, "x").cipher.size, 0, "cipher mask without the service bit");
  assert.equal(capabilitiesFromConfig({ ...QEMU_BUILTIN, status: 0 }, "x").hash.size, 0, "not HW_READY");
  const wide: CryptoConfig = {
    ...QEMU_BUILTIN,
    ...configMasks({
      cipher: [CipherAlgo.AES_XTS, CipherAlgo.ARC4, CipherAlgo.KASUMI_F8],
      mac: [MacAlgo.HMAC_SHA_256],
    }),
    maxCipherKeyLen: 32,
    maxAuthKeyLen: 64,
  };
  const caps = capabilitiesFromConfig(wide, "x");
  assert.deepEqual(caps.cipher.get(CipherAlgo.AES_XTS)!.keyLengths, [32], "XTS-256 (64-byte key) is over 32");
  assert.equal(caps.cipher.get(CipherAlgo.ARC4)!.keyLengths.at(-1), 32);
  assert.ok(!caps.cipher.has(CipherAlgo.KASUMI_F8), "no facts about KASUMI: not claimed");
  assert.equal(caps.mac.get(MacAlgo.HMAC_SHA_256)!.keyLengths.at(-1), 64);
});

Deno.test("probeList() probes each AES key length, each hash, one HMAC key; withoutRefused() drops refusals", () => {
  const wide: CryptoConfig = {
    ...QEMU_BUILTIN,
    ...configMasks({ cipher: [CipherAlgo.AES_CBC], hash: [HashAlgo.SHA1], mac: [MacAlgo.HMAC_SHA_256] }),
  };
  const caps = capabilitiesFromConfig(wide, "x");
  const probes = probeList(caps);
  assert.deepEqual(probes.map((p) => p.label), [
    "AES-CBC/16",
    "AES-CBC/24",
    "AES-CBC/32",
    "SHA1",
    "HMAC-SHA256/32",
  ]);
  const refused = probes.filter((p) => p.label === "SHA1" || p.label === "AES-CBC/24");
  const narrowed = withoutRefused(caps, refused);
  assert.deepEqual(narrowed.cipher.get(CipherAlgo.AES_CBC)!.keyLengths, [16, 32]);
  assert.equal(narrowed.hash.size, 0);
  assert.equal(
    narrowed.mac.get(MacAlgo.HMAC_SHA_256)!.keyLengths.length,
    513,
    "HMAC kept whole: one probe passed",
  );
  const hmacRefused = withoutRefused(caps, probes.filter((p) => p.label.startsWith("HMAC")));
  assert.equal(hmacRefused.mac.size, 0, "a refused HMAC probe drops the algorithm");
  const chain = chainProbe(caps)!;
  assert.equal(chain.label, "chain AES-CBC+SHA1");
  assert.equal(chainProbe(narrowed), null, "no hash left: no chaining probe");
});

Deno.test("checkSession() refuses like the software engine: notsupp for unclaimed, invalid for impossible", () => {
  const caps = capabilitiesFromConfig(QEMU_BUILTIN, "x");
  const kind = (f: () => void): string => {
    try {
      f();
      return "ok";
    } catch (e) {
      assert.ok(e instanceof EngineError);
      return `${e.kind}: ${e.message}`;
    }
  };
  const key = new Uint8Array(16);
  assert.equal(kind(() => checkSession(caps, { service: "cipher", algo: 3, key, direction: 1 })), "ok");
  assert.match(kind(() => checkSession(caps, { service: "cipher", algo: 4, key, direction: 1 })), /^notsupp/);
  assert.match(
    kind(() => checkSession(caps, { service: "cipher", algo: 3, key: new Uint8Array(15), direction: 1 })),
    /^invalid: .*key length must be one of 16, 24, 32: current value is 15/,
  );
  assert.match(
    kind(() => checkSession(caps, { service: "cipher", algo: 3, key, direction: 3 as 1 })),
    /^invalid/,
  );
  assert.match(kind(() => checkSession(caps, { service: "hash", algo: 2, resultLen: 21 })), /result length/);
  assert.match(
    kind(() =>
      checkSession(caps, {
        service: "chain",
        order: 2,
        cipher: { algo: 3, key, direction: 1 },
        auth: { hashMode: 1, algo: 2, resultLen: 20, key: new Uint8Array(0) },
        aadLen: 0,
      })
    ),
    /^notsupp: .*chaining/,
  );
  assert.match(
    kind(() => checkSession(caps, { service: "akcipher", algo: 1, keyType: 1, key, padding: 0, hash: 0 })),
    /^notsupp/,
  );
});
