import assert from "node:assert/strict";
import {
  AkcipherAlgo,
  type AlgChainSessionFlf,
  CryptoWireError,
  decodeCreateSessionInput,
  decodeDestroySessionInput,
  EcdsaCurve,
  encodeCreateSessionInput,
  encodeDestroySessionInput,
  readAeadSessionFlf,
  readAkcipherSessionFlf,
  readAlgChainSessionFlf,
  readCipherSessionFlf,
  readHashSessionFlf,
  readMacSessionFlf,
  RsaHash,
  RsaPadding,
  Status,
  SymHashMode,
  writeAeadSessionFlf,
  writeAkcipherSessionFlf,
  writeAlgChainSessionFlf,
  writeCipherSessionFlf,
  writeHashSessionFlf,
  writeMacSessionFlf,
} from "../../src/crypto/mod.ts";
import { writeU32 } from "../../src/virtio/le.ts";

function words(b: Uint8Array, off: number, ...values: number[]): void {
  values.forEach((v, i) => writeU32(b, off + 4 * i, v));
}

Deno.test("readCipherSessionFlf() reads algo, key_len, op and skips padding", () => {
  const b = new Uint8Array(20);
  words(b, 4, 3, 32, 2, 0xdead);
  assert.deepEqual(readCipherSessionFlf(b, 4), { algo: 3, keyLen: 32, op: 2 });
});

Deno.test("readAlgChainSessionFlf() reads a MAC algo_flf in AUTH mode at the documented offsets", () => {
  const b = new Uint8Array(48);
  // alg_chain_order, hash_mode, cipher_hdr{algo, key_len, op, pad}, algo_flf{algo, result, auth_key_len, pad}, aad_len
  words(b, 0, 2, SymHashMode.AUTH, 3, 16, 1, 0, 4, 32, 64, 0, 20);
  assert.deepEqual(readAlgChainSessionFlf(b, 0), {
    algChainOrder: 2,
    hashMode: SymHashMode.AUTH,
    cipherHdr: { algo: 3, keyLen: 16, op: 1 },
    algoFlf: { algo: 4, hashResultLen: 32, authKeyLen: 64 },
    aadLen: 20,
  });
});

Deno.test("readAlgChainSessionFlf() reads a hash algo_flf in PLAIN and NESTED modes", () => {
  for (const mode of [SymHashMode.PLAIN, SymHashMode.NESTED]) {
    const b = new Uint8Array(48);
    words(b, 0, 1, mode, 4, 32, 2, 0, 6, 64, 0xffff, 0, 0);
    const flf = readAlgChainSessionFlf(b, 0);
    assert.equal(flf.hashMode, mode);
    assert.deepEqual(flf.algoFlf, { algo: 6, hashResultLen: 64 }, "the unused part of algo_flf is ignored");
  }
});

Deno.test("readAlgChainSessionFlf() rejects an unknown hash_mode", () => {
  for (const mode of [0, 4, 0xffff_ffff]) {
    const b = new Uint8Array(48);
    words(b, 0, 1, mode);
    assert.throws(
      () => readAlgChainSessionFlf(b, 0),
      (e) => e instanceof CryptoWireError && e.kind === "unknown-hash-mode" && e.message.endsWith(`${mode}`),
    );
  }
});

Deno.test("readAkcipherSessionFlf() reads RSA and ECDSA algo_flf and rejects other algos", () => {
  const b = new Uint8Array(56);
  words(b, 0, AkcipherAlgo.RSA, 2, 1192, RsaPadding.PKCS1, RsaHash.SHA256);
  assert.deepEqual(readAkcipherSessionFlf(b, 0), {
    algo: 1,
    keyType: 2,
    keyLen: 1192,
    para: { kind: "rsa", paddingAlgo: 1, hashAlgo: 6 },
  });
  words(b, 0, AkcipherAlgo.ECDSA, 1, 65, EcdsaCurve.NIST_P256);
  assert.deepEqual(readAkcipherSessionFlf(b, 0), {
    algo: 2,
    keyType: 1,
    keyLen: 65,
    para: { kind: "ecdsa", curveId: 3 },
  });
  words(b, 0, 3);
  assert.throws(
    () => readAkcipherSessionFlf(b, 0),
    (e) => e instanceof CryptoWireError && e.kind === "unknown-algo",
  );
});

Deno.test("session flf writers round-trip through their readers at an offset", () => {
  const b = new Uint8Array(80);
  writeCipherSessionFlf(b, 8, { algo: 13, keyLen: 64, op: 2 });
  assert.deepEqual(readCipherSessionFlf(b, 8), { algo: 13, keyLen: 64, op: 2 });
  writeHashSessionFlf(b, 8, { algo: 12, hashResultLen: 100 });
  assert.deepEqual(readHashSessionFlf(b, 8), { algo: 12, hashResultLen: 100 });
  writeMacSessionFlf(b, 8, { algo: 26, hashResultLen: 16, authKeyLen: 32 });
  assert.deepEqual(readMacSessionFlf(b, 8), { algo: 26, hashResultLen: 16, authKeyLen: 32 });
  writeAeadSessionFlf(b, 8, { algo: 1, keyLen: 32, tagLen: 16, aadLen: 20, op: 1 });
  assert.deepEqual(readAeadSessionFlf(b, 8), { algo: 1, keyLen: 32, tagLen: 16, aadLen: 20, op: 1 });
  const chain: AlgChainSessionFlf = {
    algChainOrder: 1,
    hashMode: SymHashMode.AUTH,
    cipherHdr: { algo: 3, keyLen: 24, op: 2 },
    algoFlf: { algo: 2, hashResultLen: 20, authKeyLen: 20 },
    aadLen: 8,
  };
  writeAlgChainSessionFlf(b, 8, chain);
  assert.deepEqual(readAlgChainSessionFlf(b, 8), chain);
  const rsa = {
    algo: 1,
    keyType: 1,
    keyLen: 270,
    para: { kind: "rsa", paddingAlgo: 0, hashAlgo: 0 },
  } as const;
  writeAkcipherSessionFlf(b, 8, rsa);
  assert.deepEqual(readAkcipherSessionFlf(b, 8), rsa);
});

Deno.test("encodeCreateSessionInput() writes session_id@0, status@8, zero padding@12", () => {
  const b = encodeCreateSessionInput({ sessionId: 0x1_0000_0002n, status: Status.OK });
  assert.deepEqual([...b], [2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  const target = new Uint8Array(16).fill(0xff);
  encodeCreateSessionInput({ sessionId: 0n, status: Status.NOSPC }, target);
  assert.deepEqual([...target], [0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(decodeCreateSessionInput(target), { sessionId: 0n, status: 5 });
  assert.deepEqual(decodeCreateSessionInput(b), { sessionId: 0x1_0000_0002n, status: 0 });
});

Deno.test("destroy session input is one status byte", () => {
  assert.deepEqual([...encodeDestroySessionInput(Status.ERR)], [1]);
  assert.equal(decodeDestroySessionInput(new Uint8Array([4])), 4);
});

Deno.test("session outcome codecs reject short buffers", () => {
  const short = (e: unknown): boolean => e instanceof CryptoWireError && e.kind === "short-buffer";
  assert.throws(() => decodeCreateSessionInput(new Uint8Array(15)), short);
  assert.throws(() => encodeCreateSessionInput({ sessionId: 1n, status: 0 }, new Uint8Array(8)), short);
  assert.throws(() => decodeDestroySessionInput(new Uint8Array(0)), short);
  assert.throws(() => encodeDestroySessionInput(0, new Uint8Array(0)), short);
});
