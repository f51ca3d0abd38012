import assert from "node:assert/strict";
import {
  CryptoWireError,
  DataRequest,
  DEFAULT_DATA_LIMITS,
  encodeDataRequest,
  MAX_DATA_VLF_PARTS,
  Opcode,
  planDataVlf,
  readDataRequest,
  SymHashMode,
  VlfPlan,
  type WireLayout,
} from "../../src/crypto/mod.ts";

type Fields = Partial<
  Pick<
    DataRequest,
    { [K in keyof DataRequest]: DataRequest[K] extends number ? K : never }[keyof DataRequest]
  >
>;

/** Encodes `fields`, decodes them back (as the device would) and plans the vlf. */
function plan(fields: Fields, layout: WireLayout = "legacy", limits = DEFAULT_DATA_LIMITS): VlfPlan {
  const req = Object.assign(new DataRequest(), fields);
  const decoded = readDataRequest(encodeDataRequest(req, layout), layout, new DataRequest());
  assert.equal(decoded.error, null);
  return planDataVlf(decoded, limits, new VlfPlan());
}

/** The plan as "role:length:r|w" strings. */
function parts(p: VlfPlan): string[] {
  return p.parts.slice(0, p.count).map((x) =>
    `${x.role}:${x.length}:${x.direction === "device-read" ? "r" : "w"}`
  );
}

const CHAIN: Fields = {
  opcode: Opcode.CIPHER_ENCRYPT,
  opType: 2,
  ivLen: 16,
  srcDataLen: 64,
  dstDataLen: 64,
  lenToCipher: 64,
  lenToHash: 64,
  aadLen: 8,
  hashResultLen: 20,
};

Deno.test("planDataVlf() plans the Linux cbc(aes) request: iv, src → dst", () => {
  const p = plan({ opcode: Opcode.CIPHER_DECRYPT, opType: 1, ivLen: 16, srcDataLen: 4096, dstDataLen: 4096 });
  assert.equal(p.error, null);
  assert.deepEqual(parts(p), ["iv:16:r", "src_data:4096:r", "dst_data:4096:w"]);
  assert.deepEqual([p.readTotal, p.writeTotal], [4112, 4096]);
});

Deno.test("planDataVlf() plans every session-mode request in spec order", () => {
  assert.deepEqual(parts(plan(CHAIN)), [
    "iv:16:r",
    "src_data:64:r",
    "aad:8:r",
    "dst_data:64:w",
    "hash_result:20:w",
  ]);
  assert.deepEqual(parts(plan({ opcode: Opcode.HASH, srcDataLen: 100, hashResultLen: 32 })), [
    "src_data:100:r",
    "hash_result:32:w",
  ]);
  assert.deepEqual(parts(plan({ opcode: Opcode.MAC, srcDataLen: 10, hashResultLen: 16 })), [
    "src_data:10:r",
    "hash_result:16:w",
  ]);
  assert.deepEqual(
    parts(
      plan({
        opcode: Opcode.AEAD_ENCRYPT,
        ivLen: 12,
        aadLen: 20,
        srcDataLen: 64,
        dstDataLen: 80,
        tagLen: 16,
      }),
    ),
    ["iv:12:r", "src_data:64:r", "aad:20:r", "dst_data:80:w"],
  );
  for (const opcode of [Opcode.AKCIPHER_ENCRYPT, Opcode.AKCIPHER_DECRYPT, Opcode.AKCIPHER_SIGN]) {
    assert.deepEqual(parts(plan({ opcode, srcDataLen: 256, dstDataLen: 256 })), [
      "src_data:256:r",
      "dst_data:256:w",
    ]);
  }
});

Deno.test("planDataVlf() splits an AKCIPHER_VERIFY src into signature and signed data, with nothing to write", () => {
  const p = plan({ opcode: Opcode.AKCIPHER_VERIFY, srcDataLen: 256, dstDataLen: 32 });
  assert.deepEqual(parts(p), ["signature:256:r", "signed_data:32:r"]);
  assert.deepEqual([p.readTotal, p.writeTotal], [288, 0]);
});

Deno.test("planDataVlf() plans stateless cipher and chaining requests with their keys first", () => {
  const r1 = "revision1";
  const cipher = plan(
    { opcode: 0, opType: 1, cipherAlgo: 3, keyLen: 32, op: 1, ivLen: 16, srcDataLen: 32, dstDataLen: 32 },
    r1,
  );
  assert.deepEqual(parts(cipher), ["cipher_key:32:r", "iv:16:r", "src_data:32:r", "dst_data:32:w"]);
  const chain = plan({ ...CHAIN, sessAadLen: 8, keyLen: 16, authKeyLen: 20, hashMode: SymHashMode.AUTH }, r1);
  assert.deepEqual(parts(chain), [
    "cipher_key:16:r",
    "auth_key:20:r",
    "iv:16:r",
    "aad:8:r",
    "src_data:64:r",
    "dst_data:64:w",
    "hash_result:20:w",
  ]);
  assert.equal(chain.count, MAX_DATA_VLF_PARTS);
});

Deno.test("planDataVlf() plans stateless hash, MAC, AEAD and akcipher requests", () => {
  const r1 = "revision1";
  assert.deepEqual(parts(plan({ opcode: Opcode.HASH, hashAlgo: 4, srcDataLen: 5, hashResultLen: 32 }, r1)), [
    "src_data:5:r",
    "hash_result:32:w",
  ]);
  assert.deepEqual(
    parts(plan({ opcode: Opcode.MAC, macAlgo: 4, authKeyLen: 64, srcDataLen: 5, hashResultLen: 32 }, r1)),
    [
      "auth_key:64:r",
      "src_data:5:r",
      "hash_result:32:w",
    ],
  );
  const aead = plan({
    opcode: Opcode.AEAD_DECRYPT,
    keyLen: 16,
    ivLen: 12,
    aadLen: 4,
    srcDataLen: 32,
    dstDataLen: 16,
  }, r1);
  assert.deepEqual(parts(aead), ["key:16:r", "iv:12:r", "src_data:32:r", "aad:4:r", "dst_data:16:w"]);
  const verify = plan({
    opcode: Opcode.AKCIPHER_VERIFY,
    akcipherAlgo: 1,
    keyLen: 270,
    srcDataLen: 256,
    dstDataLen: 20,
  }, r1);
  assert.deepEqual(parts(verify), ["akcipher_key:270:r", "signature:256:r", "signed_data:20:r"]);
});

Deno.test("planDataVlf() rejects stateless keys over the limits", () => {
  const r1 = "revision1";
  const limits = { ...DEFAULT_DATA_LIMITS, maxCipherKeyLen: 32, maxAuthKeyLen: 64, maxAkcipherKeyLen: 512 };
  const cases: Fields[] = [
    { opcode: 0, opType: 1, keyLen: 33 },
    { ...CHAIN, keyLen: 16, authKeyLen: 65, hashMode: SymHashMode.AUTH, sessAadLen: 8 },
    { ...CHAIN, keyLen: 0xffff_ffff, hashMode: SymHashMode.AUTH, sessAadLen: 8 },
    { opcode: Opcode.MAC, authKeyLen: 65 },
    { opcode: Opcode.AEAD_ENCRYPT, keyLen: 33 },
    { opcode: Opcode.AKCIPHER_DECRYPT, akcipherAlgo: 1, keyLen: 513 },
  ];
  for (const c of cases) {
    const p = plan(c, r1, limits);
    assert.equal(p.error, "key-too-long");
    const err = p.toError();
    assert.ok(err instanceof CryptoWireError);
    assert.match(
      err.message,
      /^Cannot decode data request op_vlf: (auth_)?key_len must be <= \d+: current value is \d+$/,
    );
  }
});

Deno.test("planDataVlf() reports vlf totals of 2^32 bytes or more as length-overflow", () => {
  const max = 0xffff_ffff;
  const p = plan({ opcode: 0, opType: 1, ivLen: max, srcDataLen: max, dstDataLen: max });
  assert.equal(p.error, "length-overflow");
  assert.equal(p.errorValue, 3 * max, "summed exactly, no u32 wrap-around");
  assert.equal(plan({ opcode: Opcode.HASH, srcDataLen: max, hashResultLen: 1 }).error, "length-overflow");
  assert.equal(plan({ opcode: Opcode.HASH, srcDataLen: max - 1, hashResultLen: 1 }).error, null);
});

Deno.test("planDataVlf() enforces max_size on the sum of all parts", () => {
  const limits = { ...DEFAULT_DATA_LIMITS, maxSize: 4096 + 16 + 4096 };
  const fields: Fields = { opcode: 0, opType: 1, ivLen: 16, srcDataLen: 4096, dstDataLen: 4096 };
  assert.equal(plan(fields, "legacy", limits).error, null);
  const p = plan({ ...fields, dstDataLen: 4097 }, "legacy", limits);
  assert.equal(p.error, "too-large");
  assert.equal(
    p.toError()?.message,
    "Cannot decode data request op_vlf: op_vlf length (max_size) must be <= 8208: current value is 8209",
  );
});

Deno.test("planDataVlf() gives a failed request a failed, empty plan", () => {
  const req = readDataRequest(new Uint8Array(5), "legacy", new DataRequest());
  const p = planDataVlf(req, DEFAULT_DATA_LIMITS, new VlfPlan());
  assert.equal(p.error, "short-buffer");
  assert.equal(p.count, 0);
  assert.equal(planDataVlf(new DataRequest(), DEFAULT_DATA_LIMITS, new VlfPlan()).error, "unknown-opcode");
});

Deno.test("VlfPlan is reused: planDataVlf() resets it and add() refuses an eighth part", () => {
  const p = new VlfPlan();
  const req = readDataRequest(
    encodeDataRequest(Object.assign(new DataRequest(), CHAIN), "legacy"),
    "legacy",
    new DataRequest(),
  );
  const first = p.parts[0];
  planDataVlf(req, DEFAULT_DATA_LIMITS, p);
  planDataVlf(req, DEFAULT_DATA_LIMITS, p);
  assert.equal(p.count, 5);
  assert.equal(p.parts[0], first, "the same slot objects are reused");
  assert.equal(p.toError(), null);
  p.reset();
  for (let i = 0; i < MAX_DATA_VLF_PARTS; i++) p.add("src_data", 1, "device-read");
  assert.throws(() => p.add("src_data", 1, "device-read"), RangeError);
});
