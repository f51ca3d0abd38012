/**
 * SHA-256 midstates (`src/engine/software/sha256_midstate.ts`): the HMAC precomputes an accelerator's content
 * descriptor holds, checked by finishing them with `Sha256Resume` against the published vectors (FIPS 180-4
 * SHA-256, RFC 4231 HMAC-SHA-256 with short and longer-than-block keys).
 *
 * @module
 */

import assert from "node:assert/strict";
import { HashAlgo, MacAlgo } from "../../src/spec/virtio_crypto.ts";
import {
  hmacSha256Midstates,
  sha256,
  sha256Midstate,
  Sha256Resume,
} from "../../src/engine/software/sha256_midstate.ts";
import { hex, toHex } from "./_helpers.ts";
import { HMAC_RFC4231 } from "../../src/selftest/vectors/hmac_rfc4231.ts";
import { SHA_FIPS180 } from "../../src/selftest/vectors/sha_fips180.ts";

const H0 = "6a09e667bb67ae853c6ef372a54ff53a510e527f9b05688c1f83d9ab5be0cd19";

Deno.test("sha256() gives the FIPS 180-4 SHA-256 digests", () => {
  for (const v of SHA_FIPS180.filter((v) => v.algo === HashAlgo.SHA_256)) {
    assert.equal(toHex(sha256(hex(v.message))), v.digest, v.id);
  }
});

Deno.test("Sha256Resume from H0 after 0 bytes is a plain SHA-256", () => {
  for (const v of SHA_FIPS180.filter((v) => v.algo === HashAlgo.SHA_256)) {
    assert.equal(toHex(new Sha256Resume(hex(H0), 0).update(hex(v.message)).digest()), v.digest, v.id);
  }
});

Deno.test("sha256Midstate() then Sha256Resume gives the hash of the whole message", () => {
  const message = Uint8Array.from({ length: 200 }, (_, i) => (i * 7) & 0xff);
  const state = sha256Midstate(message.subarray(0, 64));
  assert.equal(state.length, 32);
  const resumed = new Sha256Resume(state, 64).update(message.subarray(64)).digest();
  assert.equal(toHex(resumed), toHex(sha256(message)));
  assert.throws(() => sha256Midstate(message.subarray(0, 63)), RangeError);
  assert.throws(() => new Sha256Resume(state, 10), RangeError);
});

Deno.test("hmacSha256Midstates() finished as HMAC gives every RFC 4231 HMAC-SHA-256 tag", () => {
  for (const v of HMAC_RFC4231.filter((v) => v.algo === MacAlgo.HMAC_SHA_256)) {
    const { inner, outer } = hmacSha256Midstates(hex(v.key));
    const innerHash = new Sha256Resume(inner, 64).update(hex(v.message)).digest();
    const tag = new Sha256Resume(outer, 64).update(innerHash).digest();
    assert.equal(toHex(tag).slice(0, v.mac.length), v.mac, v.id);
  }
});
