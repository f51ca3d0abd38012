/**
 * MAC service end to end: MAC sessions through the control queue; requests in both wire layouts; MACs from RFC 4231,
 * RFC 4493 and the GCM/GMAC test vectors of NIST SP 800-38D (CAVP). GMAC's IV is the first 12 bytes of
 * `src_data` (README, "Decisions": the MAC request has no IV field).
 */

import assert from "node:assert/strict";
import { MacAlgo, Status } from "../../src/spec/virtio_crypto.ts";
import { type DriverOptions, macRequest } from "../../src/frontend/mod.ts";
import type { MacVector } from "../../src/selftest/vectors/_types.ts";
import { CMAC_VECTORS } from "../../src/selftest/vectors/cmac_rfc4493_sp800_38b.ts";
import { GMAC_VECTORS } from "../../src/selftest/vectors/gcm_sp800_38d.ts";
import { HMAC_RFC4231 } from "../../src/selftest/vectors/hmac_rfc4231.ts";
import { concat, ctrlSession, hex, send, startRig, toHex, vector } from "./_daemon.ts";

const LAYOUTS: readonly { name: string; options: Omit<DriverOptions, "path"> }[] = [
  { name: "legacy layout", options: { revision1: false } },
  { name: "REVISION_1", options: { revision1: true } },
];

const CASES: readonly { name: string; v: MacVector }[] = [
  // RFC 4231 §4.3, test case 2 (key "Jefe")
  { name: "HMAC-SHA256", v: vector(HMAC_RFC4231, "RFC 4231 HMAC-SHA256 test case 2") },
  // RFC 4231 §4.6, test case 5: the MAC truncated to 128 bits, as the RFC gives it
  { name: "HMAC-SHA256 truncated", v: vector(HMAC_RFC4231, "RFC 4231 HMAC-SHA256 test case 5") },
  // RFC 4231 §4.8, test case 7: a 131-byte key (hashed first) and a 152-byte message
  { name: "HMAC-SHA256 long key", v: vector(HMAC_RFC4231, "RFC 4231 HMAC-SHA256 test case 7") },
  // RFC 4493 §4, example 3 (40-byte message) and example 4 (64 bytes)
  { name: "CMAC-AES", v: vector(CMAC_VECTORS, "RFC 4493 AES-CMAC-128 example 3 (40 bytes)") },
  { name: "CMAC-AES", v: vector(CMAC_VECTORS, "RFC 4493 AES-CMAC-128 example 4 (64 bytes)") },
  // NIST CAVP gcmEncryptExtIV128.rsp [PTlen = 0][AADlen = 128] Count = 0: GCM with no plaintext is GMAC (SP 800-38D)
  { name: "GMAC-AES", v: vector(GMAC_VECTORS, "CAVP gcmEncryptExtIV128 PTlen=0 AADlen=128 Count=0") },
  // McGrew-Viega GCM test case 1 (SP 800-38D) read as GMAC of an empty message
  { name: "GMAC-AES", v: vector(GMAC_VECTORS, "GCM spec test case 1 as GMAC (empty message)") },
];

for (const { name, v } of CASES) {
  for (const layout of LAYOUTS) {
    Deno.test(`serve: ${name} session by control queue (${layout.name}) computes ${v.id}`, async () => {
      await using rig = await startRig(layout.options);
      const resultLen = v.mac.length / 2;
      const id = await ctrlSession(rig.driver, { service: "mac", algo: v.algo, resultLen, key: hex(v.key) });
      // GMAC: src_data = IV (12 bytes) || message.
      const src = v.algo === MacAlgo.GMAC_AES ? concat(hex(v.iv!), hex(v.message)) : hex(v.message);
      const r = await send(rig.driver, macRequest(id, src.length, resultLen), { src_data: src });
      assert.equal(r.status, Status.OK);
      assert.equal(toHex(r.out.hash_result!), v.mac);
      assert.equal(r.usedLen, resultLen + 1);
    });
  }
}

Deno.test("serve: GMAC request shorter than its 12-byte IV answers ERR", async () => {
  await using rig = await startRig();
  const id = await ctrlSession(rig.driver, {
    service: "mac",
    algo: MacAlgo.GMAC_AES,
    resultLen: 16,
    key: new Uint8Array(16),
  });
  const r = await send(rig.driver, macRequest(id, 8, 16), { src_data: new Uint8Array(8) });
  assert.equal(r.status, Status.ERR);
  assert.equal(r.usedLen, 1);
  assert.equal(toHex(r.out.hash_result!), "00".repeat(16));
});
