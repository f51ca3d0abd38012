import assert from "node:assert/strict";
import {
  CryptoWireError,
  type CryptoWireErrorKind,
  DataRequest,
  dataRequestLength,
  dataService,
  encodeDataRequest,
  Opcode,
  readDataRequest,
  Service,
  type WireLayout,
  writeDataRequest,
} from "../../src/crypto/mod.ts";
import { writeU32 } from "../../src/virtio/le.ts";

type Fields = Partial<
  Pick<
    DataRequest,
    { [K in keyof DataRequest]: DataRequest[K] extends number ? K : never }[keyof DataRequest]
  >
>;

function request(fields: Fields): DataRequest {
  return Object.assign(new DataRequest(), fields);
}

/** Linux `__virtio_crypto_skcipher_do_req`: a 72-byte `virtio_crypto_op_data_req` (interop.md §3.3). */
function linuxCipherRequest(opcode: number, sessionId: number, cryptlen: number, dstLen: number): Uint8Array {
  const b = new Uint8Array(72);
  writeU32(b, 0, opcode); // header.opcode CIPHER_ENCRYPT (0) / CIPHER_DECRYPT (1)
  writeU32(b, 4, 0); // header.algo: not set by Linux
  writeU32(b, 8, sessionId); // header.session_id (le64)
  writeU32(b, 12, 0);
  writeU32(b, 16, 0); // header.flag
  writeU32(b, 24, 16); // u.sym_req.u.cipher.para.iv_len
  writeU32(b, 28, cryptlen); // .src_data_len
  writeU32(b, 32, dstLen); // .dst_data_len
  writeU32(b, 64, 1); // u.sym_req.op_type = SYM_OP_CIPHER
  return b;
}

const SESSION_SAMPLES: [string, Fields][] = [
  ["cipher", { opcode: Opcode.CIPHER_ENCRYPT, opType: 1, ivLen: 16, srcDataLen: 4096, dstDataLen: 4096 }],
  ["alg-chain", {
    opcode: Opcode.CIPHER_DECRYPT,
    opType: 2,
    ivLen: 16,
    srcDataLen: 100,
    dstDataLen: 64,
    cipherStartSrcOffset: 36,
    lenToCipher: 64,
    hashStartSrcOffset: 0,
    lenToHash: 100,
    aadLen: 20,
    hashResultLen: 32,
  }],
  ["hash", { opcode: Opcode.HASH, srcDataLen: 1000, hashResultLen: 32 }],
  ["mac", { opcode: Opcode.MAC, srcDataLen: 50, hashResultLen: 16 }],
  ["aead", {
    opcode: Opcode.AEAD_ENCRYPT,
    ivLen: 12,
    aadLen: 16,
    srcDataLen: 64,
    dstDataLen: 80,
    tagLen: 16,
  }],
  ["aead", { opcode: Opcode.AEAD_DECRYPT, ivLen: 12, aadLen: 0, srcDataLen: 80, dstDataLen: 64, tagLen: 16 }],
  ...[Opcode.AKCIPHER_ENCRYPT, Opcode.AKCIPHER_DECRYPT, Opcode.AKCIPHER_SIGN, Opcode.AKCIPHER_VERIFY].map((
    opcode,
  ): [string, Fields] => ["akcipher", { opcode, algo: 1, srcDataLen: 256, dstDataLen: 32 }]),
];

function expectError(b: Uint8Array, layout: WireLayout, kind: CryptoWireErrorKind): DataRequest {
  const r = readDataRequest(b, layout, new DataRequest());
  assert.equal(r.error, kind);
  assert.equal(r.kind, "none");
  return r;
}

Deno.test("readDataRequest() decodes the Linux cbc(aes) encrypt and decrypt requests byte for byte", () => {
  for (const opcode of [Opcode.CIPHER_ENCRYPT, Opcode.CIPHER_DECRYPT]) {
    const bytes = linuxCipherRequest(opcode, 0x0102_0304, 4096, 4096);
    const r = readDataRequest(bytes, "legacy", new DataRequest());
    const expected = request({
      opcode,
      sessionIdLo: 0x0102_0304,
      opType: 1,
      ivLen: 16,
      srcDataLen: 4096,
      dstDataLen: 4096,
    });
    Object.assign(expected, { kind: "cipher", length: 72 });
    assert.deepEqual({ ...r }, { ...expected });
    assert.equal(r.sessionId, 0x0102_0304n);
  }
});

Deno.test("readDataRequest() keeps a Linux dst_data_len shorter than src_data_len as sent", () => {
  const r = readDataRequest(linuxCipherRequest(0, 1, 64, 48), "legacy", new DataRequest());
  assert.equal(r.error, null);
  assert.equal(r.srcDataLen, 64);
  assert.equal(r.dstDataLen, 48);
});

Deno.test("writeDataRequest() reproduces the Linux cbc(aes) request exactly", () => {
  const bytes = linuxCipherRequest(Opcode.CIPHER_DECRYPT, 9, 512, 512);
  const r = readDataRequest(bytes, "legacy", new DataRequest());
  const out = new Uint8Array(72).fill(0xff);
  assert.equal(writeDataRequest(r, "legacy", out), 72);
  assert.deepEqual(out, bytes);
});

Deno.test("readDataRequest() decodes the Linux RSA requests (akcipher flf at 24)", () => {
  for (const opcode of [0x400, 0x401, 0x402, 0x403]) {
    const b = new Uint8Array(72);
    writeU32(b, 0, opcode);
    writeU32(b, 4, 1); // algo RSA
    writeU32(b, 8, 42);
    writeU32(b, 24, 256); // akcipher_req.para.src_data_len
    writeU32(b, 28, 20); // .dst_data_len
    const r = readDataRequest(b, "legacy", new DataRequest());
    assert.equal(r.error, null);
    assert.equal(r.kind, "akcipher");
    assert.deepEqual([r.opcode, r.algo, r.sessionIdNumber, r.srcDataLen, r.dstDataLen], [
      opcode,
      1,
      42,
      256,
      20,
    ]);
  }
});

Deno.test("writeDataRequest() and readDataRequest() round-trip every session request in both layouts", () => {
  for (const layout of ["legacy", "revision1"] as const) {
    for (const [kind, fields] of SESSION_SAMPLES) {
      const req = request({ ...fields, sessionIdLo: 0xffff_fffe, sessionIdHi: 0x10, flag: 1 });
      const bytes = encodeDataRequest(req, layout);
      assert.equal(bytes.length, dataRequestLength(req.opcode, req.flag, layout));
      const got = readDataRequest(bytes, layout, new DataRequest());
      Object.assign(req, { kind, length: bytes.length });
      assert.deepEqual({ ...got }, { ...req }, `${kind} ${layout}`);
      assert.deepEqual(encodeDataRequest(got, layout), bytes);
    }
  }
});

Deno.test("dataRequestLength() gives 72 in legacy and 24 + the natural flf size in revision 1", () => {
  const table: [number, number, number][] = [
    [Opcode.CIPHER_ENCRYPT, 48, 76],
    [Opcode.HASH, 8, 16],
    [Opcode.MAC, 8, 16],
    [Opcode.AEAD_DECRYPT, 24, 32],
    [Opcode.AKCIPHER_VERIFY, 8, 28],
  ];
  for (const [opcode, session, stateless] of table) {
    assert.equal(dataRequestLength(opcode, 0, "legacy"), 72);
    assert.equal(dataRequestLength(opcode, 7, "legacy"), 72, "flag is ignored in legacy");
    assert.equal(dataRequestLength(opcode, 1, "revision1"), 24 + session);
    assert.equal(dataRequestLength(opcode, 0, "revision1"), 24 + stateless);
    assert.equal(dataRequestLength(opcode, 2, "revision1"), -1);
  }
  assert.equal(dataRequestLength(Opcode.CIPHER_CREATE_SESSION, 1, "legacy"), -1);
});

Deno.test("dataService() maps data opcodes to their service and everything else to -1", () => {
  assert.equal(dataService(Opcode.CIPHER_DECRYPT), Service.CIPHER);
  assert.equal(dataService(Opcode.HASH), Service.HASH);
  assert.equal(dataService(Opcode.MAC), Service.MAC);
  assert.equal(dataService(Opcode.AEAD_ENCRYPT), Service.AEAD);
  assert.equal(dataService(Opcode.AKCIPHER_SIGN), Service.AKCIPHER);
  for (const op of [0x0002, 0x0101, 0x0404, 0x0500, 0x0501, -1]) assert.equal(dataService(op), -1);
});

Deno.test("readDataRequest() reports every truncation as short-buffer without throwing", () => {
  for (const layout of ["legacy", "revision1"] as const) {
    for (const [, fields] of SESSION_SAMPLES) {
      const bytes = encodeDataRequest(request({ ...fields, flag: 1 }), layout);
      for (let n = 0; n < bytes.length; n++) expectError(bytes.subarray(0, n), layout, "short-buffer");
    }
  }
});

Deno.test("readDataRequest() reports control, IPsec and unknown opcodes as unknown-opcode", () => {
  for (const opcode of [0x0002, 0x0003, 0x0102, 0x0404, 0x0500, 0x0501, 0xffff_ffff]) {
    const b = linuxCipherRequest(opcode, 1, 16, 16);
    const r = expectError(b, "legacy", "unknown-opcode");
    assert.equal(r.errorValue, opcode);
    assert.equal(r.opcode, opcode, "the header is kept for logging");
  }
});

Deno.test("readDataRequest() reports SYM_OP_NONE and unknown op_type as unknown-op-type", () => {
  for (const opType of [0, 3, 0xffff_ffff]) {
    const b = linuxCipherRequest(0, 1, 16, 16);
    writeU32(b, 64, opType);
    expectError(b, "legacy", "unknown-op-type");
    writeU32(b, 16, 1); // revision 1 session mode: same op_type offset
    expectError(b, "revision1", "unknown-op-type");
  }
});

Deno.test("readDataRequest() ignores flag in legacy and rejects flags other than 0 and 1 in revision 1", () => {
  const b = linuxCipherRequest(0, 1, 16, 16);
  writeU32(b, 16, 2);
  assert.equal(readDataRequest(b, "legacy", new DataRequest()).error, null);
  expectError(b, "revision1", "unknown-flag");
  writeU32(b, 16, 1);
  const r = readDataRequest(b, "revision1", new DataRequest());
  assert.equal(r.error, null);
  assert.equal(r.stateless, false);
});

Deno.test("readDataRequest() rejects chaining ranges outside src_data, without overflow", () => {
  const base = SESSION_SAMPLES[1]![1];
  const cases: Fields[] = [
    { cipherStartSrcOffset: 37 }, // 37 + 64 > 100
    { lenToHash: 101 },
    { hashStartSrcOffset: 1 },
    { cipherStartSrcOffset: 0xffff_ffff, lenToCipher: 0xffff_ffff }, // would wrap to 0xfffffffe in u32 arithmetic
    { hashStartSrcOffset: 0xffff_ffff, lenToHash: 1 }, // would wrap to 0
  ];
  for (const patch of cases) {
    const bytes = encodeDataRequest(request({ ...base, ...patch }), "legacy");
    const r = expectError(bytes, "legacy", "invalid-length");
    assert.match(
      r.toError()!.message,
      /^Cannot decode data request: (cipher|hash)_start_src_offset \+ len_to_/,
    );
  }
  const edge = encodeDataRequest(request({ ...base, cipherStartSrcOffset: 36, lenToCipher: 64 }), "legacy");
  assert.equal(
    readDataRequest(edge, "legacy", new DataRequest()).error,
    null,
    "ending exactly at src_data_len",
  );
});

Deno.test("readDataRequest() resets a reused DataRequest before each decode", () => {
  const r = new DataRequest();
  readDataRequest(encodeDataRequest(request({ ...SESSION_SAMPLES[1]![1] }), "legacy"), "legacy", r);
  assert.equal(r.hashResultLen, 32);
  readDataRequest(linuxCipherRequest(0, 3, 32, 32), "legacy", r);
  assert.deepEqual([r.kind, r.hashResultLen, r.aadLen, r.lenToHash], ["cipher", 0, 0, 0]);
  readDataRequest(new Uint8Array(3), "legacy", r);
  assert.deepEqual([r.kind, r.srcDataLen, r.error], ["none", 0, "short-buffer"]);
});

Deno.test("readDataRequest() never throws on random input", () => {
  let seed = 0x9e37_79b9;
  const next = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed >>> 0;
  };
  const opcodes = [0, 1, 0x100, 0x200, 0x300, 0x301, 0x400, 0x401, 0x402, 0x403, 2, 0x500];
  const r = new DataRequest();
  for (let i = 0; i < 20000; i++) {
    const b = new Uint8Array(next() % 110);
    for (let j = 0; j < b.length; j++) b[j] = next() & 0xff;
    if (b.length >= 4) writeU32(b, 0, opcodes[next() % opcodes.length]!);
    if (b.length >= 20) writeU32(b, 16, next() % 3);
    if (b.length >= 68) writeU32(b, 64, next() % 4);
    if (b.length >= 100) writeU32(b, 96, next() % 4);
    readDataRequest(b, next() % 2 === 0 ? "legacy" : "revision1", r);
    assert.ok((r.error === null) === (r.kind !== "none"));
    if (r.error === null) assert.ok(r.length <= b.length);
  }
});

Deno.test("writeDataRequest() rejects unknown opcodes, flags, op_types and short targets", () => {
  const isKind = (kind: CryptoWireErrorKind) => (e: unknown): boolean =>
    e instanceof CryptoWireError && e.kind === kind;
  const out = new Uint8Array(128);
  assert.throws(() => writeDataRequest(request({ opcode: 0x0002 }), "legacy", out), isKind("unknown-opcode"));
  assert.throws(
    () => writeDataRequest(request({ opcode: 0, flag: 5, opType: 1 }), "revision1", out),
    isKind("unknown-flag"),
  );
  assert.throws(
    () => writeDataRequest(request({ opcode: 0, opType: 0 }), "legacy", out),
    isKind("unknown-op-type"),
  );
  assert.throws(
    () => writeDataRequest(request({ opcode: 0, opType: 1 }), "legacy", new Uint8Array(71)),
    isKind("short-buffer"),
  );
  assert.throws(() => encodeDataRequest(request({ opcode: 0x0002 }), "legacy"), isKind("unknown-opcode"));
});
