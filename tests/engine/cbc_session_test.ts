// CBC sessions are long-lived: one OpenSSL context per session, its IV set again for each request. What could go
// wrong is state carried from one request to the next (the context chains by itself: after a request its IV is the
// last ciphertext block), so every test runs many requests on one session and checks each against the standard's
// vectors or against the same request on a fresh session.

import assert from "node:assert/strict";
import fc from "fast-check";
import type { EngineSession, SessionParams } from "../../src/engine/mod.ts";
import { SoftwareEngine } from "../../src/engine/software/mod.ts";
import { CipherAlgo, CryptoOpDirection, type Direction, Status } from "../../src/spec/virtio_crypto.ts";
import { buildOp, hex, read, toHex } from "./_helpers.ts";

const ENCRYPT: Direction = CryptoOpDirection.ENCRYPT;
const DECRYPT: Direction = CryptoOpDirection.DECRYPT;

// NIST SP 800-38A, F.2.1 (CBC-AES128.Encrypt) and F.2.2 (CBC-AES128.Decrypt).
const KEY = hex("2b7e151628aed2a6abf7158809cf4f3c");
const IV = hex("000102030405060708090a0b0c0d0e0f");
const PLAIN = [
  "6bc1bee22e409f96e93d7e117393172a",
  "ae2d8a571e03ac9c9eb76fac45af8e51",
  "30c81c46a35ce411e5fbc1191a0a52ef",
  "f69f2445df4f9b17ad2b417be66c3710",
];
const CIPHER = [
  "7649abac8119b246cee98e9b12e9197d",
  "5086cb9b507219ee95db113a917678b2",
  "73bed6b8e3c1743b7116e69e22229516",
  "3ff1caa1681fac09120eca307586e1a7",
];

function run(
  engine: SoftwareEngine,
  session: EngineSession,
  iv: Uint8Array,
  src: Uint8Array,
  how: { split?: boolean; inPlace?: boolean } = {},
): string {
  const op = buildOp(session, { iv, src, dstLen: src.length, ...how });
  assert.equal(engine.submit(op), Status.OK);
  return toHex(read(how.inPlace === true ? op.src : op.dst));
}

function aesCbc(direction: Direction): SessionParams {
  return { service: "cipher", algo: CipherAlgo.AES_CBC, key: KEY, direction };
}

Deno.test("AES-128-CBC on one session: SP 800-38A F.2.1/F.2.2 whole, block by block, and after unrelated IVs", () => {
  const engine = new SoftwareEngine();
  try {
    for (const [direction, input, output] of [[ENCRYPT, PLAIN, CIPHER], [DECRYPT, CIPHER, PLAIN]] as const) {
      const s = engine.createSession(aesCbc(direction));
      // An unrelated request first, so the context's chained value is neither zero nor the vector's IV.
      run(engine, s, new Uint8Array(16).fill(0xa5), new Uint8Array(48).fill(7));
      assert.equal(run(engine, s, IV, hex(input.join(""))), output.join(""));
      for (const how of [{}, { split: true }, { inPlace: true }, { split: true, inPlace: true }]) {
        // Block by block, each request's IV the previous ciphertext block (the chained value itself) ...
        for (let i = 0; i < 4; i++) {
          const iv = i === 0 ? IV : hex(CIPHER[i - 1]!);
          assert.equal(
            run(engine, s, iv, hex(input[i]!), how),
            output[i],
            `block ${i} ${JSON.stringify(how)}`,
          );
        }
        // ... and the whole message again, now that the context chained from its last block.
        assert.equal(run(engine, s, IV, hex(input.join("")), how), output.join(""), JSON.stringify(how));
      }
    }
  } finally {
    engine.close();
  }
});

Deno.test("CBC on one session gives what a fresh session gives, request after request (AES, 3DES, both directions)", () => {
  const algos = [
    { algo: CipherAlgo.AES_CBC, keyLen: 16, unit: 16 },
    { algo: CipherAlgo.AES_CBC, keyLen: 32, unit: 16 },
    { algo: CipherAlgo.DES3_CBC, keyLen: 24, unit: 8 },
  ];
  const request = (unit: number) =>
    fc.record({
      blocks: fc.integer({ min: 0, max: 6 }),
      ivKind: fc.constantFrom("random", "repeat", "chained"),
      iv: fc.uint8Array({ minLength: unit, maxLength: unit }),
      fill: fc.integer({ min: 0, max: 255 }),
      split: fc.boolean(),
      inPlace: fc.boolean(),
    });
  const engine = new SoftwareEngine();
  try {
    for (const { algo, keyLen, unit } of algos) {
      for (const direction of [ENCRYPT, DECRYPT] as const) {
        fc.assert(
          fc.property(
            fc.uint8Array({ minLength: keyLen, maxLength: keyLen }),
            fc.array(request(unit), { minLength: 1, maxLength: 12 }),
            (key, requests) => {
              // 3DES with equal key thirds is single DES, which OpenSSL may refuse: make the thirds differ.
              key[0] = 0x01, key[8] = 0x23, key[16] = 0x45;
              const params: SessionParams = { service: "cipher", algo, key, direction };
              const long = engine.createSession(params);
              let previousIv: Uint8Array = new Uint8Array(unit);
              let lastCipher: Uint8Array = new Uint8Array(unit);
              try {
                for (const r of requests) {
                  const iv = r.ivKind === "random" ? r.iv : r.ivKind === "repeat" ? previousIv : lastCipher;
                  const src = Uint8Array.from(
                    { length: r.blocks * unit },
                    (_, i) => (r.fill + i * 13) & 0xff,
                  );
                  const fresh = engine.createSession(params);
                  const want = run(engine, fresh, iv, src);
                  engine.closeSession(fresh);
                  assert.equal(run(engine, long, iv, src, { split: r.split, inPlace: r.inPlace }), want);
                  previousIv = iv;
                  const cipher = direction === ENCRYPT ? hex(want) : src;
                  if (cipher.length >= unit) lastCipher = cipher.slice(cipher.length - unit);
                }
              } finally {
                engine.closeSession(long);
              }
            },
          ),
          { seed: 0x5eed_cbc, numRuns: 60 },
        );
      }
    }
  } finally {
    engine.close();
  }
});

Deno.test("CBC on one session recovers after a refused request (wrong IV length, partial block)", () => {
  const engine = new SoftwareEngine();
  try {
    const s = engine.createSession(aesCbc(ENCRYPT));
    assert.equal(run(engine, s, IV, hex(PLAIN[0]!)), CIPHER[0]);
    const short = buildOp(s, { iv: new Uint8Array(8), src: new Uint8Array(16), dstLen: 16 });
    assert.equal(engine.submit(short), Status.ERR);
    const partial = buildOp(s, { iv: IV, src: new Uint8Array(17), dstLen: 17 });
    assert.equal(engine.submit(partial), Status.ERR);
    const empty = buildOp(s, { iv: new Uint8Array(16).fill(3), src: new Uint8Array(0), dstLen: 0 });
    assert.equal(engine.submit(empty), Status.OK);
    assert.equal(run(engine, s, IV, hex(PLAIN.join(""))), CIPHER.join(""));
  } finally {
    engine.close();
  }
});
