// A CBC session restarts each request by writing its IV into OpenSSL's own chaining IV (`CipherContext.chainingIv`)
// instead of calling `EVP_CipherInit_ex`. These tests hold that mechanism to NIST SP 800-38A F.2.1 (CBC-AES128.Encrypt)
// and F.2.2 (CBC-AES128.Decrypt) on the libcrypto this machine has, so an OpenSSL that stops chaining through that
// buffer fails here, not in a guest. cbc_session_test.ts checks the engine's sessions built on it.

import assert from "node:assert/strict";
import { CipherContext } from "../../src/engine/software/cipher_context.ts";
import { FetchedAlgorithms, loadProviders } from "../../src/engine/software/providers.ts";
import { Workspace } from "../../src/engine/software/workspace.ts";
import { allocHostMemory, type HostMemory } from "../../src/engine/host_memory.ts";
import { hex, toHex } from "./_helpers.ts";

const KEY = hex("2b7e151628aed2a6abf7158809cf4f3c");
const IV = hex("000102030405060708090a0b0c0d0e0f");
const PLAIN = hex(
  "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51" +
    "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710",
);
const CIPHER = hex(
  "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2" +
    "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7",
);

function withContext(encrypt: boolean, body: (ctx: CipherContext, ws: Workspace) => void): void {
  loadProviders();
  const fetched = new FetchedAlgorithms();
  const ws = new Workspace();
  const cipher = fetched.get("cipher", "AES-128-CBC");
  assert.ok(cipher !== null);
  const ctx = new CipherContext({ ws, cipher, key: KEY, encrypt });
  try {
    body(ctx, ws);
  } finally {
    ctx.free();
    fetched.close();
  }
}

/** One request of `input` through `ctx`, in host memory. */
function update(ctx: CipherContext, buffer: HostMemory, input: Uint8Array): string {
  buffer.bytes.set(input);
  assert.ok(ctx.update(buffer.address, buffer.address, input.length));
  return toHex(buffer.bytes.subarray(0, input.length));
}

for (const [encrypt, input, output] of [[true, PLAIN, CIPHER], [false, CIPHER, PLAIN]] as const) {
  const name = encrypt ? "F.2.1 (encrypt)" : "F.2.2 (decrypt)";
  Deno.test(`AES-128-CBC: an IV written into OpenSSL's chaining IV restarts the chain (SP 800-38A ${name})`, () => {
    withContext(encrypt, (ctx, ws) => {
      const live = ctx.chainingIv(16, ws.iv);
      assert.ok(
        live !== null,
        "this libcrypto gives no trusted chaining IV: every request pays EVP_CipherInit_ex",
      );
      assert.deepEqual(
        [...ws.iv.bytes.subarray(0, 16)],
        new Array(16).fill(0),
        "the probe scratch is zeroed",
      );
      const buffer = allocHostMemory(64);
      for (let round = 0; round < 3; round++) {
        // After a request the chaining IV is its last ciphertext block; writing the IV must replace it.
        live.set(IV);
        assert.equal(update(ctx, buffer, input), toHex(output), `round ${round}`);
        assert.equal(toHex(live), toHex(encrypt ? output.subarray(48) : input.subarray(48)), "chained on");
      }
      // Block by block: each request's IV written as the previous ciphertext block gives the same blocks.
      for (let i = 0; i < 4; i++) {
        live.set(i === 0 ? IV : (encrypt ? output : input).subarray(16 * (i - 1), 16 * i));
        assert.equal(
          update(ctx, buffer, input.subarray(16 * i, 16 * i + 16)),
          toHex(output.subarray(16 * i, 16 * i + 16)),
        );
      }
    });
  });
}

Deno.test("AES-128-CBC: restartIv and the chaining IV agree, either after the other", () => {
  withContext(true, (ctx, ws) => {
    const live = ctx.chainingIv(16, ws.iv)!;
    const buffer = allocHostMemory(64);
    const ivBuffer = allocHostMemory(16);
    ivBuffer.bytes.set(IV);
    live.fill(0xee);
    assert.ok(ctx.restartIv(ivBuffer.address));
    assert.equal(toHex(live), toHex(IV));
    assert.equal(update(ctx, buffer, PLAIN), toHex(CIPHER));
    live.set(IV);
    assert.equal(update(ctx, buffer, PLAIN), toHex(CIPHER));
  });
});
