import assert from "node:assert/strict";
import {
  AkcipherAlgo,
  CipherAlgo,
  CryptoWireError,
  type CryptoWireErrorKind,
  ctrlOutcomeLength,
  type CtrlRequest,
  ctrlRequestLength,
  ctrlVlfPlan,
  decodeCtrlHeader,
  decodeCtrlRequest,
  encodeCtrlRequest,
  Opcode,
  SymHashMode,
  type WireLayout,
} from "../../src/crypto/mod.ts";
import { writeU32 } from "../../src/virtio/le.ts";

const LAYOUTS: WireLayout[] = ["legacy", "revision1"];

function isWireError(kind: CryptoWireErrorKind): (e: unknown) => boolean {
  return (e) => e instanceof CryptoWireError && e.kind === kind;
}

/** Linux `virtio_crypto_alg_skcipher_init_session`: a 72-byte `virtio_crypto_op_ctrl_req` (interop.md §3.2). */
function linuxCreateSession(keyLen: number, op: number): Uint8Array {
  const b = new Uint8Array(72);
  writeU32(b, 0, 0x0002); // header.opcode = CIPHER_CREATE_SESSION
  writeU32(b, 4, 3); // header.algo = AES_CBC
  writeU32(b, 8, 0); // header.flag
  writeU32(b, 12, 0); // header.queue_id
  writeU32(b, 16, 3); // u.sym_create_session.u.cipher.para.algo
  writeU32(b, 20, keyLen); // .keylen
  writeU32(b, 24, op); // .op
  writeU32(b, 64, 1); // u.sym_create_session.op_type = SYM_OP_CIPHER
  return b;
}

const SAMPLES: CtrlRequest[] = [
  {
    kind: "cipher-session",
    header: { opcode: Opcode.CIPHER_CREATE_SESSION, algo: 3, flag: 0, reserved: 0 },
    flf: { algo: CipherAlgo.AES_CBC, keyLen: 32, op: 2 },
  },
  {
    kind: "alg-chain-session",
    header: { opcode: Opcode.CIPHER_CREATE_SESSION, algo: 3, flag: 0, reserved: 1 },
    flf: {
      algChainOrder: 2,
      hashMode: SymHashMode.AUTH,
      cipherHdr: { algo: 3, keyLen: 16, op: 1 },
      algoFlf: { algo: 4, hashResultLen: 32, authKeyLen: 64 },
      aadLen: 12,
    },
  },
  {
    kind: "alg-chain-session",
    header: { opcode: Opcode.CIPHER_CREATE_SESSION, algo: 4, flag: 0, reserved: 0 },
    flf: {
      algChainOrder: 1,
      hashMode: SymHashMode.PLAIN,
      cipherHdr: { algo: 4, keyLen: 24, op: 2 },
      algoFlf: { algo: 6, hashResultLen: 64 },
      aadLen: 0,
    },
  },
  {
    kind: "alg-chain-session",
    header: { opcode: Opcode.CIPHER_CREATE_SESSION, algo: 0, flag: 0, reserved: 0 },
    flf: {
      algChainOrder: 1,
      hashMode: SymHashMode.NESTED,
      cipherHdr: { algo: 0, keyLen: 0, op: 1 },
      algoFlf: { algo: 2, hashResultLen: 20 },
      aadLen: 4,
    },
  },
  {
    kind: "hash-session",
    header: { opcode: Opcode.HASH_CREATE_SESSION, algo: 4, flag: 0, reserved: 0 },
    flf: { algo: 4, hashResultLen: 32 },
  },
  {
    kind: "mac-session",
    header: { opcode: Opcode.MAC_CREATE_SESSION, algo: 26, flag: 0, reserved: 0 },
    flf: { algo: 26, hashResultLen: 16, authKeyLen: 512 },
  },
  {
    kind: "aead-session",
    header: { opcode: Opcode.AEAD_CREATE_SESSION, algo: 1, flag: 0, reserved: 0 },
    flf: { algo: 1, keyLen: 32, tagLen: 16, aadLen: 13, op: 1 },
  },
  {
    kind: "akcipher-session",
    header: { opcode: Opcode.AKCIPHER_CREATE_SESSION, algo: 1, flag: 0, reserved: 0 },
    flf: {
      algo: AkcipherAlgo.RSA,
      keyType: 2,
      keyLen: 1024,
      para: { kind: "rsa", paddingAlgo: 1, hashAlgo: 5 },
    },
  },
  {
    kind: "akcipher-session",
    header: { opcode: Opcode.AKCIPHER_CREATE_SESSION, algo: 2, flag: 0, reserved: 0 },
    flf: { algo: AkcipherAlgo.ECDSA, keyType: 1, keyLen: 97, para: { kind: "ecdsa", curveId: 4 } },
  },
  ...[
    Opcode.CIPHER_DESTROY_SESSION,
    Opcode.HASH_DESTROY_SESSION,
    Opcode.MAC_DESTROY_SESSION,
    Opcode.AEAD_DESTROY_SESSION,
    Opcode.AKCIPHER_DESTROY_SESSION,
  ].map((opcode): CtrlRequest => ({
    kind: "destroy-session",
    header: { opcode, algo: 0, flag: 0, reserved: 0 },
    flf: { sessionId: 0xfedc_ba98_7654_3210n },
  })),
];

Deno.test("decodeCtrlRequest() decodes the Linux cbc(aes) create-session request byte for byte", () => {
  for (const keyLen of [16, 24, 32]) {
    for (const op of [1, 2]) {
      const req = decodeCtrlRequest(linuxCreateSession(keyLen, op), "legacy");
      assert.deepEqual(req, {
        kind: "cipher-session",
        header: { opcode: 2, algo: 3, flag: 0, reserved: 0 },
        flf: { algo: 3, keyLen, op },
      });
      assert.deepEqual(ctrlVlfPlan(req), [{ role: "cipher_key", length: keyLen, direction: "device-read" }]);
      assert.equal(ctrlOutcomeLength(req), 16);
    }
  }
});

Deno.test("encodeCtrlRequest() reproduces the Linux cbc(aes) create-session request exactly", () => {
  for (const keyLen of [16, 24, 32]) {
    for (const op of [1, 2]) {
      const bytes = linuxCreateSession(keyLen, op);
      assert.deepEqual(encodeCtrlRequest(decodeCtrlRequest(bytes, "legacy"), "legacy"), bytes);
    }
  }
});

Deno.test("decodeCtrlRequest() decodes the Linux destroy-session request byte for byte", () => {
  const b = new Uint8Array(72);
  writeU32(b, 0, 0x0003); // CIPHER_DESTROY_SESSION
  writeU32(b, 16, 0x8765_4321); // u.destroy_session.session_id (le64)
  writeU32(b, 20, 0x1);
  const req = decodeCtrlRequest(b, "legacy");
  assert.deepEqual(req, {
    kind: "destroy-session",
    header: { opcode: 3, algo: 0, flag: 0, reserved: 0 },
    flf: { sessionId: 0x1_8765_4321n },
  });
  assert.deepEqual(ctrlVlfPlan(req), []);
  assert.equal(ctrlOutcomeLength(req), 1);
  assert.deepEqual(encodeCtrlRequest(req, "legacy"), b);
});

Deno.test("decodeCtrlRequest() decodes the Linux RSA create-session request", () => {
  const b = new Uint8Array(72);
  writeU32(b, 0, 0x0404); // AKCIPHER_CREATE_SESSION
  writeU32(b, 4, 1); // header.algo RSA
  writeU32(b, 16, 1); // akcipher para.algo RSA
  writeU32(b, 20, 2); // keytype PRIVATE
  writeU32(b, 24, 610); // keylen
  writeU32(b, 28, 1); // rsa.padding_algo PKCS1
  writeU32(b, 32, 5); // rsa.hash_algo SHA1
  const req = decodeCtrlRequest(b, "legacy");
  assert.equal(req.kind, "akcipher-session");
  assert.deepEqual(req.flf, {
    algo: 1,
    keyType: 2,
    keyLen: 610,
    para: { kind: "rsa", paddingAlgo: 1, hashAlgo: 5 },
  });
  assert.deepEqual(ctrlVlfPlan(req), [{ role: "akcipher_key", length: 610, direction: "device-read" }]);
});

Deno.test("encodeCtrlRequest() and decodeCtrlRequest() round-trip every request kind in both layouts", () => {
  for (const layout of LAYOUTS) {
    for (const req of SAMPLES) {
      const bytes = encodeCtrlRequest(req, layout);
      assert.equal(bytes.length, ctrlRequestLength(req.header.opcode, layout));
      assert.deepEqual(decodeCtrlRequest(bytes, layout), req, `${req.kind} ${layout}`);
    }
  }
});

Deno.test("ctrlRequestLength() pads every op_flf to 56 in the legacy layout and uses natural sizes in revision 1", () => {
  const natural: [number, number][] = [
    [Opcode.CIPHER_CREATE_SESSION, 56],
    [Opcode.HASH_CREATE_SESSION, 8],
    [Opcode.MAC_CREATE_SESSION, 16],
    [Opcode.AEAD_CREATE_SESSION, 24],
    [Opcode.AKCIPHER_CREATE_SESSION, 56],
    [Opcode.CIPHER_DESTROY_SESSION, 8],
    [Opcode.AKCIPHER_DESTROY_SESSION, 8],
  ];
  for (const [opcode, size] of natural) {
    assert.equal(ctrlRequestLength(opcode, "legacy"), 72);
    assert.equal(ctrlRequestLength(opcode, "revision1"), 16 + size);
  }
  assert.equal(ctrlRequestLength(Opcode.CIPHER_ENCRYPT, "legacy"), -1);
  assert.equal(ctrlRequestLength(0x0500, "revision1"), -1);
});

Deno.test("encodeCtrlRequest() puts the hash flf right after the header, zero-padded to 72 in legacy", () => {
  const req = SAMPLES.find((r) => r.kind === "hash-session")!;
  const legacy = encodeCtrlRequest(req, "legacy");
  assert.equal(legacy.length, 72);
  assert.deepEqual([...legacy.subarray(16, 24)], [4, 0, 0, 0, 32, 0, 0, 0]);
  assert.ok(legacy.subarray(24).every((x) => x === 0));
  assert.deepEqual(encodeCtrlRequest(req, "revision1"), legacy.subarray(0, 24));
});

Deno.test("ctrlVlfPlan() lists the keys each create-session request carries", () => {
  const plans = SAMPLES.slice(0, 9).map((r) => ctrlVlfPlan(r).map((p) => `${p.role}:${p.length}`).join(","));
  assert.deepEqual(plans, [
    "cipher_key:32",
    "cipher_key:16,auth_key:64",
    "cipher_key:24",
    "cipher_key:0",
    "",
    "auth_key:512",
    "key:32",
    "akcipher_key:1024",
    "akcipher_key:97",
  ]);
});

Deno.test("decodeCtrlHeader() reads opcode, algo, flag and reserved (queue_id)", () => {
  const b = new Uint8Array(16);
  [0x0302, 2, 7, 9].forEach((w, i) => writeU32(b, i * 4, w));
  assert.deepEqual(decodeCtrlHeader(b), { opcode: 0x0302, algo: 2, flag: 7, reserved: 9 });
});

Deno.test("decodeCtrlRequest() rejects every truncation of a request with short-buffer", () => {
  for (const layout of LAYOUTS) {
    for (const req of SAMPLES) {
      const bytes = encodeCtrlRequest(req, layout);
      for (let n = 0; n < bytes.length; n++) {
        assert.throws(() => decodeCtrlRequest(bytes.subarray(0, n), layout), isWireError("short-buffer"));
      }
    }
  }
});

Deno.test("decodeCtrlRequest() rejects data-queue and unknown opcodes", () => {
  for (const opcode of [0x0000, 0x0001, 0x0100, 0x0004, 0x0406, 0x0502, 0xffff_ffff]) {
    const b = linuxCreateSession(16, 1);
    writeU32(b, 0, opcode);
    assert.throws(() => decodeCtrlRequest(b, "legacy"), isWireError("unknown-opcode"));
  }
});

Deno.test("decodeCtrlRequest() rejects SYM_OP_NONE and unknown op_type", () => {
  for (const opType of [0, 3, 0x100]) {
    const b = linuxCreateSession(16, 1);
    writeU32(b, 64, opType);
    assert.throws(() => decodeCtrlRequest(b, "legacy"), isWireError("unknown-op-type"));
  }
});

Deno.test("decodeCtrlRequest() rejects key lengths over the limits", () => {
  assert.throws(() => decodeCtrlRequest(linuxCreateSession(65, 1), "legacy"), isWireError("key-too-long"));
  assert.throws(
    () => decodeCtrlRequest(linuxCreateSession(0xffff_ffff, 1), "legacy"),
    (e) => e instanceof CryptoWireError && e.kind === "key-too-long" && e.message.includes("4294967295"),
  );
  const strict = { maxCipherKeyLen: 16, maxAuthKeyLen: 32, maxAkcipherKeyLen: 600 };
  assert.throws(
    () => decodeCtrlRequest(linuxCreateSession(24, 1), "legacy", strict),
    isWireError("key-too-long"),
  );
  for (const [i, kind] of [[1, "auth"], [5, "mac"], [6, "aead"], [7, "rsa"]] as const) {
    assert.throws(
      () => decodeCtrlRequest(encodeCtrlRequest(SAMPLES[i]!, "revision1"), "revision1", strict),
      isWireError("key-too-long"),
      kind,
    );
  }
  // PLAIN chaining has no auth key: its unused algo_flf words are not checked as one
  assert.equal(
    decodeCtrlRequest(encodeCtrlRequest(SAMPLES[2]!, "legacy"), "legacy", { ...strict, maxCipherKeyLen: 24 })
      .kind,
    "alg-chain-session",
  );
});

Deno.test("decodeCtrlRequest() checks MAC and akcipher keys against QEMU's limits by default", () => {
  const mac = encodeCtrlRequest(SAMPLES[5]!, "legacy");
  writeU32(mac, 24, 513);
  assert.throws(() => decodeCtrlRequest(mac, "legacy"), isWireError("key-too-long"));
  const rsa = encodeCtrlRequest(SAMPLES[7]!, "legacy");
  writeU32(rsa, 24, 1025);
  assert.throws(() => decodeCtrlRequest(rsa, "legacy"), isWireError("key-too-long"));
});

Deno.test("encodeCtrlRequest() refuses a kind whose opcode does not match and a short target", () => {
  const cipher = SAMPLES[0]!;
  assert.throws(
    () =>
      encodeCtrlRequest(
        { ...cipher, header: { ...cipher.header, opcode: Opcode.HASH_CREATE_SESSION } },
        "legacy",
      ),
    isWireError("unknown-opcode"),
  );
  const destroy = SAMPLES[9]!;
  assert.throws(
    () =>
      encodeCtrlRequest(
        { ...destroy, header: { ...destroy.header, opcode: Opcode.CIPHER_CREATE_SESSION } },
        "legacy",
      ),
    isWireError("unknown-opcode"),
  );
  assert.throws(() => encodeCtrlRequest(cipher, "legacy", new Uint8Array(71)), isWireError("short-buffer"));
});

Deno.test("encodeCtrlRequest() zeroes padding when writing into a dirty target", () => {
  const target = new Uint8Array(80).fill(0xff);
  const out = encodeCtrlRequest(SAMPLES[0]!, "legacy", target);
  assert.equal(out.length, 72);
  assert.deepEqual([...out.subarray(28, 64)], new Array(36).fill(0));
  assert.deepEqual([...target.subarray(72)], new Array(8).fill(0xff));
});

Deno.test("decodeCtrlRequest() throws only CryptoWireError on random input", () => {
  let seed = 0x1234_5678;
  const next = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed >>> 0;
  };
  const opcodes = [2, 0x102, 0x202, 0x302, 0x404, 3, 0x405, 0, 0x500];
  for (let i = 0; i < 5000; i++) {
    const b = new Uint8Array(next() % 90);
    for (let j = 0; j < b.length; j++) b[j] = next() & 0xff;
    if (b.length >= 4) writeU32(b, 0, opcodes[next() % opcodes.length]!);
    if (b.length >= 68 && next() % 2 === 0) writeU32(b, 64, next() % 4);
    try {
      decodeCtrlRequest(b, next() % 2 === 0 ? "legacy" : "revision1");
    } catch (e) {
      assert.ok(e instanceof CryptoWireError, String(e));
    }
  }
});
