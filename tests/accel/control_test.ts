import assert from "node:assert/strict";
import { createRefusal, ctrlCreateFor } from "../../src/accel/virtio_pci/mod.ts";
import {
  AlgChainOrder,
  CipherAlgo,
  HashAlgo,
  MacAlgo,
  Status,
  SymHashMode,
} from "../../src/spec/virtio_crypto.ts";
import { ctrlVlfPlan, decodeCtrlRequest, encodeCtrlRequest } from "../../src/crypto/mod.ts";
import type { SessionParams } from "../../src/engine/mod.ts";

/** What the device's own decoder makes of the request the engine sends (the bridge parses what it builds). */
function roundTrip(params: SessionParams): { kind: string; flf: unknown; vlf: [string, number][] } {
  const { request, keys } = ctrlCreateFor(params);
  const bytes = encodeCtrlRequest(request, "legacy");
  assert.equal(bytes.length, 72, "legacy layout: 16-byte header + 56-byte padded op_flf");
  const decoded = decodeCtrlRequest(bytes, "legacy");
  const vlf = ctrlVlfPlan(decoded).map((p): [string, number] => [p.role, p.length]);
  assert.deepEqual(vlf.map(([, n]) => n), keys.map((k) => k.length), "keys follow in op_vlf order");
  return { kind: decoded.kind, flf: decoded.flf, vlf };
}

Deno.test("ctrlCreateFor() encodes cipher, hash, MAC and AEAD sessions the way the device decodes them", () => {
  const key = new Uint8Array(16).fill(7);
  assert.deepEqual(roundTrip({ service: "cipher", algo: CipherAlgo.AES_CBC, key, direction: 2 }), {
    kind: "cipher-session",
    flf: { algo: CipherAlgo.AES_CBC, keyLen: 16, op: 2 },
    vlf: [["cipher_key", 16]],
  });
  assert.deepEqual(roundTrip({ service: "hash", algo: HashAlgo.SHA_256, resultLen: 32 }), {
    kind: "hash-session",
    flf: { algo: HashAlgo.SHA_256, hashResultLen: 32 },
    vlf: [],
  });
  const mac = roundTrip({
    service: "mac",
    algo: MacAlgo.HMAC_SHA_256,
    key: new Uint8Array(40),
    resultLen: 16,
  });
  assert.deepEqual(mac.flf, { algo: MacAlgo.HMAC_SHA_256, hashResultLen: 16, authKeyLen: 40 });
  const aead = roundTrip({ service: "aead", algo: 1, key, tagLen: 12, aadLen: 20, direction: 1 });
  assert.deepEqual(aead.flf, { algo: 1, keyLen: 16, tagLen: 12, aadLen: 20, op: 1 });
});

Deno.test("ctrlCreateFor() encodes chaining sessions with the cipher key, then the MAC key in AUTH mode", () => {
  const chain = (hashMode: number): SessionParams => ({
    service: "chain",
    order: AlgChainOrder.CIPHER_THEN_HASH,
    cipher: { algo: CipherAlgo.AES_CBC, key: new Uint8Array(32), direction: 1 },
    auth: {
      hashMode,
      algo: hashMode === SymHashMode.AUTH ? MacAlgo.HMAC_SHA_256 : HashAlgo.SHA1,
      resultLen: 20,
      key: new Uint8Array(hashMode === SymHashMode.AUTH ? 64 : 0),
    },
    aadLen: 8,
  });
  const auth = roundTrip(chain(SymHashMode.AUTH));
  assert.equal(auth.kind, "alg-chain-session");
  assert.deepEqual(auth.vlf, [["cipher_key", 32], ["auth_key", 64]]);
  assert.deepEqual(roundTrip(chain(SymHashMode.PLAIN)).vlf, [["cipher_key", 32]]);
});

Deno.test("createRefusal() tells the router NOSPC from NOTSUPP from anything else", () => {
  assert.equal(createRefusal(Status.NOSPC, "x").kind, "nospc");
  assert.equal(createRefusal(Status.NOTSUPP, "x").kind, "notsupp");
  assert.equal(createRefusal(Status.ERR, "x").kind, "invalid");
  assert.match(createRefusal(Status.ERR, "AES-CBC").message, /Cannot create AES-CBC session: .*status 1/);
});
