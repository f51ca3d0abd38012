/**
 * Algorithm chaining in the conformance suite. No published vectors exist for chained requests, so the cipher
 * region is checked against SP 800-38A and the hash or MAC against the engine's own hash and MAC sessions, which
 * the suite verifies against their published vectors.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  AlgChainOrder,
  CipherAlgo,
  HashAlgo,
  MacAlgo,
  Status,
  SymHashMode,
} from "../../src/spec/virtio_crypto.ts";
import type { Capabilities, ChainSessionParams, CryptoEngine, SessionParams } from "../../src/engine/mod.ts";
import { assertEngineError } from "./_conformance_contract.ts";
import { buildOp, hex, read, toHex, withEngine } from "./_helpers.ts";
import { AES_SP800_38A } from "../../src/selftest/vectors/aes_sp800_38a.ts";

const CBC = AES_SP800_38A.find((v) => v.algo === CipherAlgo.AES_CBC)!;
const HEADER = hex("a0a1a2a3a4a5a6a7");
const AAD = hex("c0ffee");
const MAC_KEY = hex("0b".repeat(20));

/** A chain session on AES-128-CBC (SP 800-38A key) with the given order and hash or MAC. */
function chain(order: number, hashMode: number, algo: number, direction: 1 | 2): ChainSessionParams {
  const resultLen = hashMode === SymHashMode.AUTH ? 16 : 32;
  return {
    service: "chain",
    order,
    cipher: { algo: CipherAlgo.AES_CBC, key: hex(CBC.key), direction },
    auth: { hashMode, algo, resultLen, key: MAC_KEY },
    aadLen: AAD.length,
  };
}

/** The hash or MAC of `AAD || data` from a separate (known-answer-verified) session of the same engine. */
function reference(
  engine: CryptoEngine,
  params: SessionParams & { resultLen: number },
  data: Uint8Array,
): string {
  const op = buildOp(engine.createSession(params), { src: Uint8Array.from([...AAD, ...data]), digest: 64 });
  assert.equal(engine.submit(op), Status.OK);
  return toHex(read(op.digest).subarray(0, params.resultLen));
}

/**
 * Registers the chaining tests (the engine claims chaining and AES-CBC).
 *
 * @param makeEngine Makes a fresh engine.
 * @param name The engine's name in test names.
 * @param caps Its capabilities.
 */
export function chainSuite(makeEngine: () => CryptoEngine, name: string, caps: Capabilities): void {
  if (caps.mac.has(MacAlgo.HMAC_SHA_256)) {
    for (const split of [false, true]) cipherThenMacTest(makeEngine, name, split);
  }
  if (caps.hash.has(HashAlgo.SHA_256)) {
    hashThenCipherTest(makeEngine, name);
    Deno.test(`${name} chain refuses the nested hash mode with notsupp`, () => {
      withEngine(makeEngine, (engine) => {
        const params = chain(AlgChainOrder.CIPHER_THEN_HASH, SymHashMode.NESTED, HashAlgo.SHA_256, 1);
        assertEngineError(() => engine.createSession(params), "notsupp");
      });
    });
    Deno.test(`${name} chain answers ERR when a region lies outside the source`, () => {
      withEngine(makeEngine, (engine) => {
        const session = engine.createSession(
          chain(AlgChainOrder.CIPHER_THEN_HASH, SymHashMode.PLAIN, HashAlgo.SHA_256, 1),
        );
        const op = buildOp(session, { iv: hex(CBC.iv), src: new Uint8Array(64), dstLen: 64, digest: 32 });
        Object.assign(op, { cipherOffset: 16, cipherLen: 64, hashOffset: 0, hashLen: 64 });
        assert.equal(engine.submit(op), Status.ERR);
      });
    });
  }
}

function cipherThenMacTest(makeEngine: () => CryptoEngine, name: string, split: boolean): void {
  const how = split ? " over split ranges" : "";
  Deno.test(`${name} chain AES-CBC then HMAC-SHA256 encrypts SP 800-38A F.2.1 and MACs the ciphertext${how}`, () => {
    withEngine(makeEngine, (engine) => {
      const session = engine.createSession(
        chain(AlgChainOrder.CIPHER_THEN_HASH, SymHashMode.AUTH, MacAlgo.HMAC_SHA_256, 1),
      );
      const src = Uint8Array.from([...HEADER, ...hex(CBC.plaintext)]);
      const op = buildOp(session, { iv: hex(CBC.iv), src, dstLen: src.length, aad: AAD, digest: 16, split });
      Object.assign(op, { cipherOffset: 8, cipherLen: 64, hashOffset: 8, hashLen: 64 });
      assert.equal(engine.submit(op), Status.OK);
      assert.equal(toHex(read(op.dst).subarray(8)), CBC.ciphertext);
      const params = { service: "mac", algo: MacAlgo.HMAC_SHA_256, key: MAC_KEY, resultLen: 16 } as const;
      assert.equal(toHex(read(op.digest)), reference(engine, params, hex(CBC.ciphertext)));
    });
  });
}

function hashThenCipherTest(makeEngine: () => CryptoEngine, name: string): void {
  Deno.test(`${name} chain SHA-256 then AES-CBC hashes header and ciphertext, then decrypts SP 800-38A F.2.2 in place`, () => {
    withEngine(makeEngine, (engine) => {
      const session = engine.createSession(
        chain(AlgChainOrder.HASH_THEN_CIPHER, SymHashMode.PLAIN, HashAlgo.SHA_256, 2),
      );
      const src = Uint8Array.from([...HEADER, ...hex(CBC.ciphertext)]);
      const op = buildOp(session, { iv: hex(CBC.iv), src, inPlace: true, aad: AAD, digest: 32 });
      Object.assign(op, { cipherOffset: 8, cipherLen: 64, hashOffset: 0, hashLen: 72 });
      assert.equal(engine.submit(op), Status.OK);
      assert.equal(toHex(read(op.dst)), toHex(HEADER) + CBC.plaintext);
      const params = { service: "hash", algo: HashAlgo.SHA_256, resultLen: 32 } as const;
      assert.equal(toHex(read(op.digest)), reference(engine, params, src));
    });
  });
}
