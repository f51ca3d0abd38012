/**
 * The software (OpenSSL) engine: the engine-agnostic conformance suite, then what is specific to this engine —
 * what it claims, key zeroing, session limits, large and segmented messages, the gather bound, 3DES-CTR's
 * counter, and the legacy provider switch.
 *
 * Run: `deno test --allow-ffi --allow-read --allow-write --allow-env --allow-run tests/engine/`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { AeadAlgo, CipherAlgo, HashAlgo, MacAlgo, Status } from "../../src/spec/virtio_crypto.ts";
import { allocHostMemory, type CryptoEngine, CryptoOp } from "../../src/engine/mod.ts";
import { keyMaterial } from "../../src/engine/software/key_copy.ts";
import { SoftwareEngine } from "../../src/engine/software/mod.ts";
import { SoftwareSession } from "../../src/engine/software/session.ts";
import { MAX_GATHER } from "../../src/engine/software/workspace.ts";
import { conformanceSuite } from "./_conformance.ts";
import { assertEngineError } from "./_conformance_contract.ts";
import { buildOp, hex, read, toHex, withEngine } from "./_helpers.ts";
import { GCM_VECTORS } from "../../src/selftest/vectors/gcm_sp800_38d.ts";
import { SHA3_FIPS202 } from "../../src/selftest/vectors/sha3_fips202.ts";

const makeEngine = (): CryptoEngine => new SoftwareEngine();

conformanceSuite(makeEngine, "SoftwareEngine");

function keyCopies(session: unknown): readonly Uint8Array[] {
  assert.ok(session instanceof SoftwareSession);
  return session[keyMaterial]();
}

Deno.test("SoftwareEngine claims the OpenSSL algorithms of the specification", () => {
  withEngine(makeEngine, (engine) => {
    const caps = engine.capabilities();
    for (const id of [CipherAlgo.AES_ECB, CipherAlgo.AES_CBC, CipherAlgo.AES_CTR, CipherAlgo.AES_XTS]) {
      assert.ok(caps.cipher.has(id), `cipher ${id}`);
    }
    assert.deepEqual(caps.cipher.get(CipherAlgo.AES_XTS)?.keyLengths, [32, 64]);
    assert.equal(caps.hash.size, 12);
    assert.ok(caps.mac.has(MacAlgo.CMAC_AES) && caps.mac.has(MacAlgo.GMAC_AES));
    assert.deepEqual([...caps.aead.keys()].sort(), [AeadAlgo.GCM, AeadAlgo.CCM, AeadAlgo.CHACHA20_POLY1305]);
    for (const id of [CipherAlgo.KASUMI_F8, CipherAlgo.SNOW3G_UEA2, CipherAlgo.AES_F8, CipherAlgo.ZUC_EEA3]) {
      assert.ok(!caps.cipher.has(id));
    }
    for (
      const id of [
        MacAlgo.KASUMI_F9,
        MacAlgo.SNOW3G_UIA2,
        MacAlgo.XCBC_AES,
        MacAlgo.CBCMAC_AES,
        MacAlgo.ZUC_EIA3,
      ]
    ) {
      assert.ok(!caps.mac.has(id));
    }
    assert.match(caps.cipher.get(CipherAlgo.AES_CBC)!.source, /^OpenSSL 3\.\S+ \(default provider\)$/);
    assert.equal(caps.maxAuthKeyLen, 512);
    assert.ok(caps.chaining);
    assert.equal(caps.akcipher.size, 0);
  });
});

Deno.test("SoftwareEngine without the legacy provider claims no DES or ARC4 and refuses them", () => {
  withEngine(() => new SoftwareEngine({ legacy: false }), (engine) => {
    const caps = engine.capabilities();
    for (const id of [CipherAlgo.ARC4, CipherAlgo.DES_ECB, CipherAlgo.DES_CBC]) {
      assert.ok(!caps.cipher.has(id));
      assertEngineError(
        () => engine.createSession({ service: "cipher", algo: id, key: new Uint8Array(8), direction: 1 }),
        "notsupp",
      );
    }
    assert.ok(caps.cipher.has(CipherAlgo.DES3_CBC), "3DES comes from the default provider");
    assert.equal(caps.maxCipherKeyLen, 64);
  });
});

Deno.test("SoftwareEngine zeroes its ARC4 key copy when the session closes", () => {
  withEngine(makeEngine, (engine) => {
    const key = hex("0102030405");
    const session = engine.createSession({ service: "cipher", algo: CipherAlgo.ARC4, key, direction: 1 });
    const [copy] = keyCopies(session);
    assert.equal(toHex(copy!.subarray(0, 5)), "0102030405");
    engine.closeSession(session);
    assert.ok(copy!.every((b) => b === 0));
  });
});

Deno.test("SoftwareEngine zeroes its CCM key copy when the session closes", () => {
  withEngine(makeEngine, (engine) => {
    const key = hex("404142434445464748494a4b4c4d4e4f");
    const session = engine.createSession({
      service: "aead",
      algo: AeadAlgo.CCM,
      key,
      tagLen: 4,
      aadLen: 0,
      direction: 1,
    });
    const [copy] = keyCopies(session);
    assert.equal(toHex(copy!), toHex(key));
    engine.close();
    assert.ok(copy!.every((b) => b === 0));
  });
});

Deno.test("SoftwareEngine leaves no key in its staging memory after createSession", () => {
  withEngine(makeEngine, (engine) => {
    assert.ok(engine instanceof SoftwareEngine);
    engine.createSession({
      service: "mac",
      algo: MacAlgo.HMAC_SHA_256,
      key: new Uint8Array(131).fill(0xaa),
      resultLen: 32,
    });
    engine.createSession({
      service: "cipher",
      algo: CipherAlgo.AES_CBC,
      key: new Uint8Array(32).fill(0x5c),
      direction: 1,
    });
    const [staging] = engine[keyMaterial]();
    assert.ok(staging!.length >= 131 && staging!.every((b) => b === 0));
  });
});

Deno.test("SoftwareEngine refuses sessions beyond maxSessions with nospc", () => {
  withEngine(() => new SoftwareEngine({ maxSessions: 2 }), (engine) => {
    const params = { service: "hash", algo: HashAlgo.SHA_256, resultLen: 32 } as const;
    const first = engine.createSession(params);
    engine.createSession(params);
    assertEngineError(() => engine.createSession(params), "nospc", /limit is 2/);
    engine.closeSession(first);
    engine.createSession(params);
  });
});

Deno.test("SoftwareEngine answers INVSESS for another engine's session and after close", () => {
  const other = new SoftwareEngine();
  withEngine(makeEngine, (engine) => {
    const foreign = other.createSession({ service: "hash", algo: HashAlgo.MD5, resultLen: 16 });
    assert.equal(engine.submit(buildOp(foreign, { src: new Uint8Array(1), digest: 16 })), Status.INVSESS);
    const own = engine.createSession({ service: "hash", algo: HashAlgo.MD5, resultLen: 16 });
    engine.close();
    assert.equal(engine.submit(buildOp(own, { src: new Uint8Array(1), digest: 16 })), Status.INVSESS);
    assertEngineError(
      () => engine.createSession({ service: "hash", algo: HashAlgo.MD5, resultLen: 16 }),
      "unavailable",
    );
  });
  other.close();
});

Deno.test("SoftwareEngine AES-GCM gives the same answer for a 100 KiB message whole and split at odd offsets", () => {
  withEngine(makeEngine, (engine) => {
    const data = Uint8Array.from({ length: 100 * 1024 + 7 }, (_, i) => (i * 31) & 0xff);
    const session = engine.createSession({
      service: "aead",
      algo: AeadAlgo.GCM,
      key: new Uint8Array(32).fill(7),
      tagLen: 16,
      aadLen: 5,
      direction: 1,
    });
    const run = (split: boolean) => {
      const op = buildOp(session, {
        iv: new Uint8Array(12).fill(9),
        src: data,
        dstLen: data.length,
        aad: hex("0102030405"),
        digest: 16,
        split,
      });
      assert.equal(engine.submit(op), Status.OK);
      return toHex(read(op.dst)) + toHex(read(op.digest));
    };
    assert.equal(run(true), run(false));
  });
});

Deno.test("SoftwareEngine AES-XTS gathers a split message and refuses one above the 1 MiB bound", () => {
  withEngine(makeEngine, (engine) => {
    const key = Uint8Array.from({ length: 32 }, (_, i) => i);
    const session = engine.createSession({ service: "cipher", algo: CipherAlgo.AES_XTS, key, direction: 1 });
    const data = Uint8Array.from({ length: 4099 }, (_, i) => i & 0xff);
    const whole = buildOp(session, { iv: new Uint8Array(16), src: data, dstLen: data.length });
    const split = buildOp(session, { iv: new Uint8Array(16), src: data, dstLen: data.length, split: true });
    assert.equal(engine.submit(whole), Status.OK);
    assert.equal(engine.submit(split), Status.OK);
    assert.equal(toHex(read(split.dst)), toHex(read(whole.dst)));
    const big = new CryptoOp(4);
    big.session = session;
    big.iv.push(allocHostMemory(16), 0, 16);
    const a = allocHostMemory(MAX_GATHER);
    const b = allocHostMemory(16);
    big.src.push(a, 0, MAX_GATHER);
    big.src.push(b, 0, 16);
    big.dst.pushRange(big.src, 0, big.src.total);
    assert.equal(engine.submit(big), Status.ERR);
  });
});

Deno.test("SoftwareEngine 3DES-CTR equals the 3DES-ECB key stream of big-endian counters over 5000 bytes", () => {
  withEngine(makeEngine, (engine) => {
    const key = hex("0123456789abcdef23456789abcdef01456789abcdef0123");
    const iv = hex("00000000fffffffe");
    const blocks = Math.ceil(5000 / 8);
    const counters = new Uint8Array(blocks * 8);
    const view = new DataView(counters.buffer);
    for (let j = 0; j < blocks; j++) view.setBigUint64(j * 8, 0x00000000fffffffen + BigInt(j));
    const ecb = engine.createSession({ service: "cipher", algo: CipherAlgo.DES3_ECB, key, direction: 1 });
    const ks = buildOp(ecb, { src: counters, dstLen: counters.length });
    assert.equal(engine.submit(ks), Status.OK);
    const data = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7) & 0xff);
    const ctr = engine.createSession({ service: "cipher", algo: CipherAlgo.DES3_CTR, key, direction: 2 });
    const op = buildOp(ctr, { iv, src: data, dstLen: data.length, split: true });
    assert.equal(engine.submit(op), Status.OK);
    const stream = read(ks.dst);
    assert.equal(toHex(read(op.dst)), toHex(data.map((b, i) => b ^ stream[i]!)));
  });
});

Deno.test("SoftwareEngine SHAKE128 writes a 1000-byte output split over ranges whose prefix is the FIPS 202 value", () => {
  withEngine(makeEngine, (engine) => {
    const v = SHA3_FIPS202.find((x) => x.algo === HashAlgo.SHA3_SHAKE128 && x.message === "")!;
    const session = engine.createSession({ service: "hash", algo: HashAlgo.SHA3_SHAKE128, resultLen: 1000 });
    const op = buildOp(session, { src: new Uint8Array(0), digest: 1000, split: true });
    assert.equal(engine.submit(op), Status.OK);
    assert.equal(toHex(read(op.digest).subarray(0, 32)), v.digest);
  });
});

Deno.test("SoftwareEngine AES-GCM keeps working after a BADMSG (OpenSSL error queue and IV state reset)", () => {
  withEngine(makeEngine, (engine) => {
    const v = GCM_VECTORS[3]!;
    const session = engine.createSession({
      service: "aead",
      algo: AeadAlgo.GCM,
      key: hex(v.key),
      tagLen: 16,
      aadLen: 20,
      direction: 2,
    });
    const op = (tag: string) =>
      buildOp(session, {
        iv: hex(v.nonce),
        src: hex(v.ciphertext),
        dstLen: 60,
        aad: hex(v.aad),
        digest: hex(tag),
      });
    assert.equal(engine.submit(op("00".repeat(16))), Status.BADMSG);
    const good = op(v.tag);
    assert.equal(engine.submit(good), Status.OK);
    assert.equal(toHex(read(good.dst)), v.plaintext);
  });
});

Deno.test("SoftwareEngine AES-GCM takes a 60-byte IV after 12-byte ones in the same session", () => {
  withEngine(makeEngine, (engine) => {
    const v2 = GCM_VECTORS[1]!;
    const v6 = GCM_VECTORS[5]!;
    const session = engine.createSession({
      service: "aead",
      algo: AeadAlgo.GCM,
      key: hex(v6.key),
      tagLen: 16,
      aadLen: 20,
      direction: 1,
    });
    const twelve = buildOp(session, { iv: hex(v2.nonce), src: new Uint8Array(16), dstLen: 16, digest: 16 });
    assert.equal(engine.submit(twelve), Status.OK);
    const sixty = buildOp(session, {
      iv: hex(v6.nonce),
      src: hex(v6.plaintext),
      dstLen: 60,
      aad: hex(v6.aad),
      digest: 16,
    });
    assert.equal(engine.submit(sixty), Status.OK);
    assert.equal(toHex(read(sixty.dst)) + toHex(read(sixty.digest)), v6.ciphertext + v6.tag);
  });
});

Deno.test("SoftwareEngine refuses an XTS key with equal halves with invalid", () => {
  withEngine(makeEngine, (engine) => {
    const key = new Uint8Array(32).fill(0x11);
    assertEngineError(
      () => engine.createSession({ service: "cipher", algo: CipherAlgo.AES_XTS, key, direction: 1 }),
      "invalid",
      /OpenSSL rejected the key/,
    );
  });
});

Deno.test("SoftwareEngine accepts an empty HMAC key and a 512-byte one", () => {
  withEngine(makeEngine, (engine) => {
    for (const len of [0, 512]) {
      const session = engine.createSession({
        service: "mac",
        algo: MacAlgo.HMAC_SHA1,
        key: new Uint8Array(len),
        resultLen: 20,
      });
      assert.equal(engine.submit(buildOp(session, { src: new Uint8Array(5), digest: 20 })), Status.OK);
    }
  });
});

Deno.test("SoftwareEngine AES-GCM with a 12-byte tag gives the leading bytes of GCM spec test case 3's tag", () => {
  withEngine(makeEngine, (engine) => {
    const v = GCM_VECTORS[2]!;
    const session = (direction: 1 | 2) =>
      engine.createSession({
        service: "aead",
        algo: AeadAlgo.GCM,
        key: hex(v.key),
        tagLen: 12,
        aadLen: 0,
        direction,
      });
    const sealed = buildOp(session(1), { iv: hex(v.nonce), src: hex(v.plaintext), dstLen: 64, digest: 12 });
    assert.equal(engine.submit(sealed), Status.OK);
    assert.equal(toHex(read(sealed.digest)), v.tag.slice(0, 24)); // SP 800-38D §7.1: T = MSB_t(...)
    const opened = buildOp(session(2), {
      iv: hex(v.nonce),
      src: hex(v.ciphertext),
      dstLen: 64,
      digest: hex(v.tag.slice(0, 24)),
    });
    assert.equal(engine.submit(opened), Status.OK);
    assert.equal(toHex(read(opened.dst)), v.plaintext);
  });
});

Deno.test("SoftwareEngine AES-CCM round-trips an empty message and a message without AAD, and rejects a flipped tag", () => {
  withEngine(makeEngine, (engine) => {
    const key = hex("404142434445464748494a4b4c4d4e4f");
    const session = (direction: 1 | 2) =>
      engine.createSession({ service: "aead", algo: AeadAlgo.CCM, key, tagLen: 8, aadLen: 0, direction });
    for (const [aad, plaintext] of [["0001020304050607", ""], ["", "20212223"], ["", ""]] as const) {
      const nonce = hex("10111213141516");
      const sealed = buildOp(session(1), {
        iv: nonce,
        src: hex(plaintext),
        dstLen: plaintext.length / 2,
        aad: hex(aad),
        digest: 8,
      });
      assert.equal(engine.submit(sealed), Status.OK);
      const tag = read(sealed.digest);
      const open = (t: Uint8Array) =>
        buildOp(session(2), {
          iv: nonce,
          src: read(sealed.dst),
          dstLen: plaintext.length / 2,
          aad: hex(aad),
          digest: t,
        });
      const opened = open(tag);
      assert.equal(engine.submit(opened), Status.OK);
      assert.equal(toHex(read(opened.dst)), plaintext);
      assert.equal(engine.submit(open(tag.map((b, i) => (i === 7 ? b ^ 1 : b)))), Status.BADMSG);
    }
  });
});

Deno.test("SoftwareEngine ARC4 takes keys of 1 and 256 bytes", () => {
  withEngine(makeEngine, (engine) => {
    for (const n of [1, 256]) {
      const session = engine.createSession({
        service: "cipher",
        algo: CipherAlgo.ARC4,
        key: new Uint8Array(n).fill(7),
        direction: 1,
      });
      assert.equal(engine.submit(buildOp(session, { src: new Uint8Array(16), dstLen: 16 })), Status.OK);
    }
  });
});
