/**
 * The engine contract part of the conformance suite: refusals (`notsupp` for what is not claimed, `invalid` for
 * wrong parameters), status codes (INVSESS, ERR), and algorithm chaining checked against the engine's own
 * known-answer-verified cipher and MAC/hash sessions.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  AeadAlgo,
  AkcipherAlgo,
  CipherAlgo,
  HashAlgo,
  MacAlgo,
  Status,
} from "../../src/spec/virtio_crypto.ts";
import {
  allocHostMemory,
  type Capabilities,
  type CryptoEngine,
  CryptoOp,
  EngineError,
  type SessionParams,
} from "../../src/engine/mod.ts";
import { chainSuite } from "./_conformance_chain.ts";
import { buildOp, hex, withEngine } from "./_helpers.ts";
import { AES_SP800_38A } from "../../src/selftest/vectors/aes_sp800_38a.ts";

const AES_CBC = AES_SP800_38A.find((v) => v.algo === CipherAlgo.AES_CBC)!;

/**
 * Registers the contract tests.
 *
 * @param makeEngine Makes a fresh engine.
 * @param name The engine's name in test names.
 * @param caps Its capabilities.
 */
export function contractSuite(makeEngine: () => CryptoEngine, name: string, caps: Capabilities): void {
  refusalTests(makeEngine, name, caps);
  keyLengthTests(makeEngine, name, caps);
  statusTests(makeEngine, name, caps);
  if (caps.chaining && caps.cipher.has(CipherAlgo.AES_CBC)) chainSuite(makeEngine, name, caps);
}

/**
 * Asserts that `fn` throws an `EngineError` of `kind`.
 *
 * @param fn The call.
 * @param kind The expected kind.
 * @param message A pattern the message must match.
 */
export function assertEngineError(fn: () => unknown, kind: string, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof EngineError, `expected EngineError, got ${e}`);
    assert.equal(e.kind, kind);
    if (message !== undefined) assert.match(e.message, message);
    return true;
  });
}

function refusalTests(makeEngine: () => CryptoEngine, name: string, caps: Capabilities): void {
  const key = new Uint8Array(16);
  const cases: [string, readonly number[], ReadonlyMap<number, unknown>, (algo: number) => SessionParams][] =
    [
      [
        "cipher",
        Object.values(CipherAlgo),
        caps.cipher,
        (algo) => ({ service: "cipher", algo, key, direction: 1 }),
      ],
      ["hash", Object.values(HashAlgo), caps.hash, (algo) => ({ service: "hash", algo, resultLen: 16 })],
      ["MAC", Object.values(MacAlgo), caps.mac, (algo) => ({ service: "mac", algo, resultLen: 16, key })],
      [
        "AEAD",
        Object.values(AeadAlgo),
        caps.aead,
        (algo) => ({ service: "aead", algo, key, tagLen: 16, aadLen: 0, direction: 1 }),
      ],
      [
        "akcipher",
        Object.values(AkcipherAlgo),
        caps.akcipher,
        (algo) => ({ service: "akcipher", algo, keyType: 1, key, padding: 0, hash: 0 }),
      ],
    ];
  for (const [service, ids, claimed, params] of cases) {
    Deno.test(`${name} refuses every unclaimed ${service} algorithm with notsupp`, () => {
      withEngine(makeEngine, (engine) => {
        for (const algo of ids.filter((id) => !claimed.has(id))) {
          assertEngineError(() => engine.createSession(params(algo)), "notsupp");
        }
      });
    });
  }
}

function keyLengthTests(makeEngine: () => CryptoEngine, name: string, caps: Capabilities): void {
  const keyed: [
    string,
    ReadonlyMap<number, { name: string; keyLengths: readonly number[] }>,
    (algo: number, key: Uint8Array) => SessionParams,
  ][] = [
    ["cipher", caps.cipher, (algo, key) => ({ service: "cipher", algo, key, direction: 1 })],
    ["mac", caps.mac, (algo, key) => ({ service: "mac", algo, key, resultLen: 4 })],
    ["aead", caps.aead, (algo, key) => ({ service: "aead", algo, key, tagLen: 16, aadLen: 0, direction: 1 })],
  ];
  for (const [, map, params] of keyed) {
    for (const [algo, info] of map) {
      const wrong = Math.max(...info.keyLengths) + 1;
      Deno.test(`${name} ${info.name} refuses a ${wrong}-byte key with invalid`, () => {
        withEngine(makeEngine, (engine) => {
          assertEngineError(
            () => engine.createSession(params(algo, new Uint8Array(wrong))),
            "invalid",
            /key length/,
          );
        });
      });
    }
  }
  for (const [algo, info] of caps.cipher) {
    Deno.test(`${name} ${info.name} refuses direction 3 with invalid`, () => {
      withEngine(makeEngine, (engine) => {
        const key = new Uint8Array(info.keyLengths[0]!).fill(1);
        assertEngineError(
          () => engine.createSession({ service: "cipher", algo, key, direction: 3 as 1 }),
          "invalid",
        );
      });
    });
  }
}

function statusTests(makeEngine: () => CryptoEngine, name: string, caps: Capabilities): void {
  Deno.test(`${name} answers INVSESS for an operation without session`, () => {
    withEngine(makeEngine, (engine) => assert.equal(engine.submit(new CryptoOp(4)), Status.INVSESS));
  });
  for (const [algo, info] of caps.cipher) {
    Deno.test(`${name} ${info.name} answers INVSESS after closeSession`, () => {
      withEngine(makeEngine, (engine) => {
        const session = engine.createSession({
          service: "cipher",
          algo,
          key: keyFor(info.keyLengths),
          direction: 1,
        });
        engine.closeSession(session);
        engine.closeSession(session);
        const op = buildOp(session, { iv: new Uint8Array(16), src: new Uint8Array(32), dstLen: 32 });
        assert.equal(engine.submit(op), Status.INVSESS);
      });
    });
  }
  for (const [algo, info] of caps.hash) {
    Deno.test(`${name} ${info.name} answers INVSESS after closeSession`, () => {
      withEngine(makeEngine, (engine) => {
        const session = engine.createSession({ service: "hash", algo, resultLen: 16 });
        engine.closeSession(session);
        assert.equal(engine.submit(buildOp(session, { src: new Uint8Array(3), digest: 16 })), Status.INVSESS);
      });
    });
  }
  blockLengthTests(makeEngine, name, caps);
  ivLengthTests(makeEngine, name, caps);
  if (caps.cipher.has(CipherAlgo.AES_CBC)) bufferTests(makeEngine, name);
  resultLengthTests(makeEngine, name, caps);
}

/**
 * A key of an accepted length for `lengths`, with distinct halves (XTS refuses a key whose halves are equal).
 *
 * @param lengths Accepted key lengths.
 * @returns The key.
 */
export function keyFor(lengths: readonly number[]): Uint8Array {
  const length = lengths.includes(16) ? 16 : lengths.includes(32) ? 32 : lengths[0]!;
  return Uint8Array.from({ length }, (_, i) => i + 1);
}

/** Block modes refuse lengths that are not a multiple of their block (no padding). */
function blockLengthTests(makeEngine: () => CryptoEngine, name: string, caps: Capabilities): void {
  const blockModes: [number, number, number][] = [
    [CipherAlgo.AES_ECB, 16, 0],
    [CipherAlgo.AES_CBC, 16, 16],
    [CipherAlgo.DES_ECB, 8, 0],
    [CipherAlgo.DES_CBC, 8, 8],
    [CipherAlgo.DES3_ECB, 8, 0],
    [CipherAlgo.DES3_CBC, 8, 8],
  ];
  for (const [algo, block, ivLen] of blockModes) {
    const info = caps.cipher.get(algo);
    if (info === undefined) continue;
    Deno.test(`${name} ${info.name} answers ERR for a length that is not a multiple of ${block}`, () => {
      withEngine(makeEngine, (engine) => {
        const session = engine.createSession({
          service: "cipher",
          algo,
          key: keyFor(info.keyLengths),
          direction: 1,
        });
        const length = block * 2 + 1;
        const op = buildOp(session, {
          iv: new Uint8Array(ivLen),
          src: new Uint8Array(length),
          dstLen: length,
        });
        assert.equal(engine.submit(op), Status.ERR);
      });
    });
  }
}

/** Modes with an IV refuse an IV of another length. */
function ivLengthTests(makeEngine: () => CryptoEngine, name: string, caps: Capabilities): void {
  for (const algo of [CipherAlgo.AES_CBC, CipherAlgo.AES_CTR, CipherAlgo.AES_XTS]) {
    const info = caps.cipher.get(algo);
    if (info === undefined) continue;
    Deno.test(`${name} ${info.name} answers ERR for an IV that is not 16 bytes`, () => {
      withEngine(makeEngine, (engine) => {
        const session = engine.createSession({
          service: "cipher",
          algo,
          key: keyFor(info.keyLengths),
          direction: 1,
        });
        const op = buildOp(session, { iv: new Uint8Array(15), src: new Uint8Array(32), dstLen: 32 });
        assert.equal(engine.submit(op), Status.ERR);
      });
    });
  }
}

/** Buffers that do not fit: partial overlap of source and destination, a short destination. */
function bufferTests(makeEngine: () => CryptoEngine, name: string): void {
  const session = (engine: CryptoEngine) =>
    engine.createSession({
      service: "cipher",
      algo: CipherAlgo.AES_CBC,
      key: hex(AES_CBC.key),
      direction: 1,
    });
  Deno.test(`${name} AES-CBC answers ERR when source and destination overlap partially`, () => {
    withEngine(makeEngine, (engine) => {
      const memory = allocHostMemory(128);
      const op = buildOp(session(engine), { iv: hex(AES_CBC.iv) });
      op.src.push(memory, 0, 64);
      op.dst.push(memory, 16, 64);
      assert.equal(engine.submit(op), Status.ERR);
    });
  });
  Deno.test(`${name} AES-CBC answers ERR when the destination is shorter than the source`, () => {
    withEngine(makeEngine, (engine) => {
      const op = buildOp(session(engine), { iv: hex(AES_CBC.iv), src: new Uint8Array(32), dstLen: 16 });
      assert.equal(engine.submit(op), Status.ERR);
    });
  });
}

/** Result and tag lengths: refused at session creation when impossible, ERR when the list is short. */
function resultLengthTests(makeEngine: () => CryptoEngine, name: string, caps: Capabilities): void {
  if (caps.hash.has(HashAlgo.SHA_256)) {
    Deno.test(`${name} SHA-256 refuses a result length of 33 with invalid`, () => {
      withEngine(makeEngine, (engine) => {
        const params = { service: "hash", algo: HashAlgo.SHA_256, resultLen: 33 } as const;
        assertEngineError(() => engine.createSession(params), "invalid", /result length/);
      });
    });
    Deno.test(`${name} SHA-256 answers ERR when the digest list is shorter than the result`, () => {
      withEngine(makeEngine, (engine) => {
        const session = engine.createSession({ service: "hash", algo: HashAlgo.SHA_256, resultLen: 32 });
        assert.equal(engine.submit(buildOp(session, { src: new Uint8Array(3), digest: 31 })), Status.ERR);
      });
    });
  }
  for (const [algo, info] of caps.aead) {
    Deno.test(`${name} ${info.name} refuses a 3-byte tag with invalid`, () => {
      withEngine(makeEngine, (engine) => {
        const key = new Uint8Array(info.keyLengths[0]!);
        const params = { service: "aead", algo, key, tagLen: 3, aadLen: 0, direction: 1 } as const;
        assertEngineError(() => engine.createSession(params), "invalid", /tag length/);
      });
    });
  }
}
