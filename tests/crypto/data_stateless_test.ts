import assert from "node:assert/strict";
import {
  AkcipherAlgo,
  CryptoWireError,
  DataRequest,
  encodeDataRequest,
  Opcode,
  readDataRequest,
  Service,
  statelessFlfSize,
  SymHashMode,
} from "../../src/crypto/mod.ts";
import { writeU32 } from "../../src/virtio/le.ts";

type Fields = Partial<
  Pick<
    DataRequest,
    { [K in keyof DataRequest]: DataRequest[K] extends number ? K : never }[keyof DataRequest]
  >
>;

function request(fields: Fields): DataRequest {
  return Object.assign(new DataRequest(), { flag: 0 }, fields);
}

function words(b: Uint8Array, off: number, ...values: number[]): void {
  values.forEach((v, i) => writeU32(b, off + 4 * i, v));
}

const CHAIN: Fields = {
  opcode: Opcode.CIPHER_ENCRYPT,
  opType: 2,
  algChainOrder: 2,
  sessAadLen: 8,
  cipherAlgo: 3,
  keyLen: 16,
  op: 1,
  hashAlgo: 4,
  authKeyLen: 32,
  hashMode: SymHashMode.AUTH,
  ivLen: 16,
  srcDataLen: 64,
  dstDataLen: 64,
  cipherStartSrcOffset: 0,
  lenToCipher: 64,
  hashStartSrcOffset: 0,
  lenToHash: 64,
  aadLen: 8,
  hashResultLen: 32,
};

const STATELESS_SAMPLES: [string, Fields][] = [
  ["cipher", {
    opcode: Opcode.CIPHER_DECRYPT,
    opType: 1,
    cipherAlgo: 13,
    keyLen: 64,
    op: 2,
    ivLen: 16,
    srcDataLen: 512,
    dstDataLen: 512,
  }],
  ["alg-chain", CHAIN],
  ["hash", { opcode: Opcode.HASH, hashAlgo: 11, srcDataLen: 77, hashResultLen: 200 }],
  ["mac", { opcode: Opcode.MAC, macAlgo: 26, authKeyLen: 16, srcDataLen: 33, hashResultLen: 16 }],
  ["aead", {
    opcode: Opcode.AEAD_DECRYPT,
    aeadAlgo: 3,
    keyLen: 32,
    op: 2,
    ivLen: 12,
    tagLen: 16,
    aadLen: 20,
    srcDataLen: 80,
    dstDataLen: 64,
  }],
  ...[Opcode.AKCIPHER_ENCRYPT, Opcode.AKCIPHER_DECRYPT, Opcode.AKCIPHER_SIGN, Opcode.AKCIPHER_VERIFY].map((
    opcode,
  ): [string, Fields] => [
    "akcipher",
    {
      opcode,
      akcipherAlgo: AkcipherAlgo.RSA,
      keyType: 2,
      keyLen: 1190,
      paddingAlgo: 1,
      rsaHashAlgo: 6,
      srcDataLen: 256,
      dstDataLen: 32,
    },
  ]),
  ["akcipher", {
    opcode: Opcode.AKCIPHER_SIGN,
    akcipherAlgo: AkcipherAlgo.ECDSA,
    keyType: 2,
    keyLen: 121,
    curveId: 3,
    srcDataLen: 32,
    dstDataLen: 72,
  }],
];

Deno.test("readDataRequest() decodes a hand-built stateless cipher request at the spec offsets", () => {
  const b = new Uint8Array(100);
  words(b, 0, Opcode.CIPHER_ENCRYPT, 0, 0, 0, 0); // header, flag 0 = stateless
  words(b, 24, 3, 32, 1, 16, 48, 48); // sess_para{algo, key_len, op}, iv_len, src_data_len, dst_data_len
  writeU32(b, 96, 1); // op_type after the 72-byte op_type_flf
  const r = readDataRequest(b, "revision1", new DataRequest());
  assert.equal(r.error, null);
  assert.deepEqual(
    [r.kind, r.stateless, r.length, r.cipherAlgo, r.keyLen, r.op, r.ivLen, r.srcDataLen, r.dstDataLen],
    ["cipher", true, 100, 3, 32, 1, 16, 48, 48],
  );
});

Deno.test("readDataRequest() decodes a hand-built stateless chaining request at the spec offsets", () => {
  const b = new Uint8Array(100);
  // sess_para: alg_chain_order, aad_len, cipher{algo, key_len, op}, hash{algo, auth_key_len, hash_mode}
  words(b, 24, 1, 4, 6, 8, 2, 2, 20, SymHashMode.AUTH);
  // iv_len, src, dst, cipher_start_src_offset, len_to_cipher, hash_start_src_offset, len_to_hash, aad_len, hash_result_len
  words(b, 56, 8, 40, 32, 8, 32, 0, 40, 4, 20);
  writeU32(b, 96, 2);
  const r = readDataRequest(b, "revision1", new DataRequest());
  assert.equal(r.error, null);
  assert.equal(r.kind, "alg-chain");
  assert.deepEqual(
    [r.algChainOrder, r.sessAadLen, r.cipherAlgo, r.keyLen, r.op, r.hashAlgo, r.authKeyLen, r.hashMode],
    [1, 4, 6, 8, 2, 2, 20, 2],
  );
  assert.deepEqual(
    [
      r.ivLen,
      r.srcDataLen,
      r.dstDataLen,
      r.cipherStartSrcOffset,
      r.lenToCipher,
      r.hashStartSrcOffset,
      r.lenToHash,
    ],
    [8, 40, 32, 8, 32, 0, 40],
  );
  assert.deepEqual([r.aadLen, r.hashResultLen], [4, 20]);
});

Deno.test("readDataRequest() decodes hand-built stateless hash, MAC, AEAD and ECDSA requests", () => {
  const hash = new Uint8Array(40);
  words(hash, 0, Opcode.HASH);
  words(hash, 24, 4, 100, 32);
  let r = readDataRequest(hash, "revision1", new DataRequest());
  assert.deepEqual([r.kind, r.length, r.hashAlgo, r.srcDataLen, r.hashResultLen], ["hash", 40, 4, 100, 32]);
  const mac = new Uint8Array(40);
  words(mac, 0, Opcode.MAC);
  words(mac, 24, 4, 64, 100, 32);
  r = readDataRequest(mac, "revision1", new DataRequest());
  assert.deepEqual([r.kind, r.macAlgo, r.authKeyLen, r.srcDataLen, r.hashResultLen], ["mac", 4, 64, 100, 32]);
  const aead = new Uint8Array(56);
  words(aead, 0, Opcode.AEAD_ENCRYPT);
  words(aead, 24, 1, 16, 1, 12, 16, 8, 64, 80); // algo, key_len, op, iv_len, tag_len, aad_len, src, dst
  r = readDataRequest(aead, "revision1", new DataRequest());
  assert.deepEqual(
    [r.kind, r.length, r.aeadAlgo, r.keyLen, r.op, r.ivLen, r.tagLen, r.aadLen, r.srcDataLen, r.dstDataLen],
    ["aead", 56, 1, 16, 1, 12, 16, 8, 64, 80],
  );
  const ecdsa = new Uint8Array(52);
  words(ecdsa, 0, Opcode.AKCIPHER_VERIFY);
  words(ecdsa, 24, AkcipherAlgo.ECDSA, 1, 65, 3, 0xffff, 72, 32); // algo, key_type, key_len, u{curve_id, -}, src, dst
  r = readDataRequest(ecdsa, "revision1", new DataRequest());
  assert.deepEqual(
    [
      r.kind,
      r.length,
      r.akcipherAlgo,
      r.keyType,
      r.keyLen,
      r.curveId,
      r.paddingAlgo,
      r.srcDataLen,
      r.dstDataLen,
    ],
    ["akcipher", 52, 2, 1, 65, 3, 0, 72, 32],
  );
});

Deno.test("encodeDataRequest() and readDataRequest() round-trip every stateless variant", () => {
  for (const [kind, fields] of STATELESS_SAMPLES) {
    const req = request({ ...fields, sessionIdLo: 0 });
    const bytes = encodeDataRequest(req, "revision1");
    const got = readDataRequest(bytes, "revision1", new DataRequest());
    Object.assign(req, { kind, stateless: true, length: bytes.length });
    assert.deepEqual({ ...got }, { ...req }, kind);
    assert.deepEqual(encodeDataRequest(got, "revision1"), bytes);
  }
});

Deno.test("statelessFlfSize() gives the spec struct sizes", () => {
  assert.equal(statelessFlfSize(Service.CIPHER), 76);
  assert.equal(statelessFlfSize(Service.HASH), 16);
  assert.equal(statelessFlfSize(Service.MAC), 16);
  assert.equal(statelessFlfSize(Service.AEAD), 32);
  assert.equal(statelessFlfSize(Service.AKCIPHER), 28);
});

Deno.test("readDataRequest() treats flag 0 as session mode in the legacy layout (what Linux sends)", () => {
  const bytes = encodeDataRequest(request(STATELESS_SAMPLES[0]![1]), "legacy");
  assert.equal(bytes.length, 72);
  const r = readDataRequest(bytes, "legacy", new DataRequest());
  assert.equal(r.stateless, false);
  assert.equal(r.cipherAlgo, 0, "no sess_para in a session-mode flf");
});

Deno.test("readDataRequest() rejects a stateless chaining request with an unknown hash_mode", () => {
  for (const hashMode of [0, 4]) {
    const r = readDataRequest(
      encodeDataRequest(request({ ...CHAIN, hashMode }), "revision1"),
      "revision1",
      new DataRequest(),
    );
    assert.equal(r.error, "unknown-hash-mode");
  }
});

Deno.test("readDataRequest() rejects a stateless chaining request whose two aad_len differ", () => {
  const r = readDataRequest(
    encodeDataRequest(request({ ...CHAIN, sessAadLen: 9 }), "revision1"),
    "revision1",
    new DataRequest(),
  );
  assert.equal(r.error, "invalid-length");
  assert.match(r.toError()!.message, /sess_para\.aad_len/);
});

Deno.test("readDataRequest() rejects stateless chaining ranges outside src_data", () => {
  const r = readDataRequest(
    encodeDataRequest(request({ ...CHAIN, lenToHash: 65 }), "revision1"),
    "revision1",
    new DataRequest(),
  );
  assert.equal(r.error, "invalid-length");
});

Deno.test("readDataRequest() rejects a stateless akcipher request of an unknown algo", () => {
  const bytes = encodeDataRequest(request({ opcode: Opcode.AKCIPHER_SIGN, akcipherAlgo: 3 }), "revision1");
  const r = readDataRequest(bytes, "revision1", new DataRequest());
  assert.equal(r.error, "unknown-algo");
  assert.equal(
    r.toError()?.message,
    "Cannot decode data request: sess_para.algo is not supported: current value is 0x0003",
  );
});

Deno.test("readDataRequest() reports every truncation of a stateless request as short-buffer", () => {
  for (const [, fields] of STATELESS_SAMPLES) {
    const bytes = encodeDataRequest(request(fields), "revision1");
    for (let n = 0; n < bytes.length; n++) {
      assert.equal(
        readDataRequest(bytes.subarray(0, n), "revision1", new DataRequest()).error,
        "short-buffer",
      );
    }
  }
});

Deno.test("encodeDataRequest() refuses a stateless cipher request without a known op_type", () => {
  assert.throws(
    () => encodeDataRequest(request({ opcode: Opcode.CIPHER_ENCRYPT, opType: 0 }), "revision1"),
    (e) => e instanceof CryptoWireError && e.kind === "unknown-op-type",
  );
});
