// Hostile request contents in well-formed chains: each is answered with the exact status byte in the chain's last
// writable byte and used length 1 (0 when the chain has no writable byte), no byte of guest RAM outside the status
// byte changes (canary-filled RAM, compared before and after), and the queue goes on serving (README "Status and
// used length"; the DPDK and QEMU CVEs of interop.md §2.6).

import assert from "node:assert/strict";
import {
  AlgChainOrder,
  CipherAlgo,
  MacAlgo,
  Opcode,
  Status,
  SymHashMode,
} from "../../src/spec/virtio_crypto.ts";
import { writeU32 } from "../../src/virtio/mod.ts";
import { IV, KEY, PT, startDaemon, type TestDaemon } from "./_helpers.ts";
import {
  assertRingServes,
  type Buf,
  cbcBuffers,
  RawGuest,
  statusAt,
  type SymHeader,
  symHeader,
} from "./_raw_guest.ts";

const HMAC_KEY = new Uint8Array(32).fill(0x0b);

interface Rig extends AsyncDisposable {
  readonly t: TestDaemon;
  readonly g: RawGuest;
  /** AES-128-CBC encrypt session. */
  readonly cipher: bigint;
  /** AES-128-CBC + HMAC-SHA256 (32-byte result), encrypt then MAC. */
  readonly chain: bigint;
}

async function setUp(): Promise<Rig> {
  const t = await startDaemon();
  const g = await RawGuest.open(t);
  const cipher = await g.createSession();
  const chain = await g.createSession({
    kind: "chain",
    cipherAlg: CipherAlgo.AES_CBC,
    direction: 1,
    key: KEY,
    hashAlg: MacAlgo.HMAC_SHA_256,
    hashResultLen: 32,
    authKey: HMAC_KEY,
    addLen: 0,
    hashMode: SymHashMode.AUTH,
    algChainOrder: AlgChainOrder.CIPHER_THEN_HASH,
  });
  return {
    t,
    g,
    cipher,
    chain,
    async [Symbol.asyncDispose](): Promise<void> {
      g.close();
      await t[Symbol.asyncDispose]();
    },
  };
}

/** A status byte (initialised to 0xee, a value no status has). */
function statusBuf(g: RawGuest): Buf {
  const b = { gpa: g.alloc(1), len: 1, write: true };
  g.ram.view(b.gpa, 1)[0] = 0xee;
  return b;
}

/**
 * Runs `bufs` as a chain (direct, then indirect) and checks: status byte `status` at `statusAt`, used length `len`,
 * no other byte of guest RAM written; then that the queue still serves. `build` lays the request out afresh each
 * time (after the canary refill) and returns the chain and its status buffer (or null: no writable byte).
 */
async function assertAnswered(
  r: Rig,
  build: () => { bufs: Buf[]; status: Buf | null },
  expected: { status: number; len: number },
): Promise<void> {
  for (const indirect of [false, true]) {
    r.g.reset();
    const { bufs, status } = build();
    const c = await r.g.run(r.g.chain(bufs, { indirect }), status === null ? [] : [status]);
    const got = { status: status === null ? -1 : statusAt(r.g, status), len: c.len, stray: c.strayWrites };
    const want = { status: status === null ? -1 : expected.status, len: expected.len, stray: [] };
    assert.deepEqual(got, want, `${indirect ? "indirect" : "direct"} chain`);
    await assertRingServes(r.g, r.cipher);
  }
}

/** header | IV (16) | source (`srcBytes`) | dst (`dstBytes`, W) | status (W), with `h` as the header. */
function cipherChain(r: Rig, h: SymHeader, srcBytes = 64, dstBytes = 64): { bufs: Buf[]; status: Buf } {
  const g = r.g;
  const hdr = symHeader(h);
  const bufs: Buf[] = [
    { gpa: g.put(hdr), len: 72 },
    { gpa: g.put(IV), len: 16 },
    { gpa: g.put(PT.subarray(0, Math.min(srcBytes, 64))), len: srcBytes },
  ];
  if (dstBytes > 0) bufs.push({ gpa: g.alloc(dstBytes), len: dstBytes, write: true });
  const status = statusBuf(g);
  bufs.push(status);
  return { bufs, status };
}

const ERR = { status: Status.ERR, len: 1 };

Deno.test("request: a header shorter than 72 bytes answers ERR", async () => {
  await using r = await setUp();
  for (const n of [1, 24, 40, 64, 65, 71]) {
    await assertAnswered(r, () => {
      const hdr = symHeader({ session: r.cipher, ivLen: 16, srcLen: 64, dstLen: 64 }).subarray(0, n);
      const status = statusBuf(r.g);
      return { bufs: [{ gpa: r.g.put(hdr), len: n }, status], status };
    }, ERR);
  }
});

Deno.test("request: an unknown opcode or op_type answers NOTSUPP", async () => {
  await using r = await setUp();
  const cases: SymHeader[] = [
    { opcode: 0x999, session: r.cipher },
    { opcode: 0xffff_ffff, session: r.cipher },
    { opcode: Opcode.CIPHER_CREATE_SESSION, session: r.cipher }, // a control-queue opcode
    { opcode: Opcode.AKCIPHER_CREATE_SESSION, session: r.cipher },
    { session: r.cipher, opType: 0, ivLen: 16, srcLen: 64, dstLen: 64 }, // SYM_OP_NONE
    { session: r.cipher, opType: 3, ivLen: 16, srcLen: 64, dstLen: 64 },
  ];
  for (const h of cases) {
    await assertAnswered(r, () => cipherChain(r, h), { status: Status.NOTSUPP, len: 1 });
  }
});

Deno.test("request: src_data_len larger than the readable descriptors (CVE-2020-14374) answers ERR", async () => {
  await using r = await setUp();
  for (const srcLen of [65, 128, 0x7fff_ffff]) {
    await assertAnswered(r, () => cipherChain(r, { session: r.cipher, ivLen: 16, srcLen, dstLen: 64 }), ERR);
  }
  // The source descriptor holds 32 bytes, the header claims 64.
  await assertAnswered(
    r,
    () => cipherChain(r, { session: r.cipher, ivLen: 16, srcLen: 64, dstLen: 64 }, 32),
    ERR,
  );
});

Deno.test("request: a destination smaller than the source (CVE-2023-3180 class) answers ERR and writes nothing", async () => {
  await using r = await setUp();
  // dst_data_len 32 < src_data_len 64, and a 32-byte destination buffer
  await assertAnswered(
    r,
    () => cipherChain(r, { session: r.cipher, ivLen: 16, srcLen: 64, dstLen: 32 }, 64, 32),
    ERR,
  );
  // dst_data_len 64 but only 32 writable bytes before the status byte
  await assertAnswered(
    r,
    () => cipherChain(r, { session: r.cipher, ivLen: 16, srcLen: 64, dstLen: 64 }, 64, 32),
    ERR,
  );
  // no destination at all: the status byte is the only writable byte
  await assertAnswered(
    r,
    () => cipherChain(r, { session: r.cipher, ivLen: 16, srcLen: 64, dstLen: 64 }, 64, 0),
    ERR,
  );
  // dst_data_len 0 with src 64
  await assertAnswered(
    r,
    () => cipherChain(r, { session: r.cipher, ivLen: 16, srcLen: 64, dstLen: 0 }, 64, 0),
    ERR,
  );
});

Deno.test("request: huge iv_len, and lengths whose sum overflows 32 bits (CVE-2017-5931 class), answer ERR", async () => {
  await using r = await setUp();
  const cases: SymHeader[] = [
    { session: r.cipher, ivLen: 0xffff_ffff, srcLen: 64, dstLen: 64 },
    { session: r.cipher, ivLen: 0x8000_0000, srcLen: 0x8000_0000, dstLen: 16 }, // wraps to 16 in u32
    { session: r.cipher, ivLen: 16, srcLen: 0xffff_fff0, dstLen: 0x20 }, // wraps to 0x10 + 16
    { session: r.cipher, ivLen: 16, srcLen: 64, dstLen: 0xffff_ffc0 }, // 16 + 64 + dst wraps to 16
  ];
  for (const h of cases) await assertAnswered(r, () => cipherChain(r, h), ERR);
});

Deno.test("request: an IV of the wrong length for the session's cipher answers ERR", async () => {
  await using r = await setUp();
  // 8 bytes of IV then 64 of source: the chain holds them, AES-CBC needs 16.
  await assertAnswered(
    r,
    () => cipherChain(r, { session: r.cipher, ivLen: 8, srcLen: 64, dstLen: 64 }, 72),
    ERR,
  );
});

Deno.test("request: an unknown or closed session id answers INVSESS", async () => {
  await using r = await setUp();
  const closed = await r.g.createSession();
  r.g.peer.send(
    27,
    (() => {
      const b = new Uint8Array(8);
      writeU32(b, 0, Number(closed));
      return b;
    })(),
  );
  await r.g.peer.features();
  for (const session of [0n, 999n, closed, 0xffff_ffff_ffff_ffffn, 1n << 53n]) {
    await assertAnswered(r, () => cipherChain(r, { session, ivLen: 16, srcLen: 64, dstLen: 64 }), {
      status: Status.INVSESS,
      len: 1,
    });
  }
});

Deno.test("request: a session of another service answers INVSESS", async () => {
  await using r = await setUp();
  // a cipher request in the chaining session
  await assertAnswered(r, () => cipherChain(r, { session: r.chain, ivLen: 16, srcLen: 64, dstLen: 64 }), {
    status: Status.INVSESS,
    len: 1,
  });
  // a hash request (src_data_len@24, hash_result_len@28) in the cipher session
  await assertAnswered(r, () => {
    const h = new Uint8Array(72);
    writeU32(h, 0, Opcode.HASH);
    writeU32(h, 8, Number(r.cipher));
    writeU32(h, 24, 64);
    writeU32(h, 28, 32);
    const hash = { gpa: r.g.alloc(32), len: 32, write: true };
    const status = statusBuf(r.g);
    return { bufs: [{ gpa: r.g.put(h), len: 72 }, { gpa: r.g.put(PT), len: 64 }, hash, status], status };
  }, { status: Status.INVSESS, len: 1 });
  // a chaining request in the cipher session
  await assertAnswered(r, () => chainChain(r, r.cipher, [0, 64, 0, 64, 0, 32], 32), {
    status: Status.INVSESS,
    len: 1,
  });
});

/** A chaining request: header | IV | source (64) | dst (64, W) | hash (`hashBytes`, W) | status. */
function chainChain(
  r: Rig,
  session: bigint,
  chain: readonly [number, number, number, number, number, number],
  hashBytes: number,
): { bufs: Buf[]; status: Buf } {
  const g = r.g;
  const hdr = symHeader({ session, opType: 2, ivLen: 16, srcLen: 64, dstLen: 64, chain });
  const bufs: Buf[] = [
    { gpa: g.put(hdr), len: 72 },
    { gpa: g.put(IV), len: 16 },
    { gpa: g.put(PT), len: 64 },
    { gpa: g.alloc(64), len: 64, write: true },
  ];
  if (hashBytes > 0) bufs.push({ gpa: g.alloc(hashBytes), len: hashBytes, write: true });
  const status = statusBuf(g);
  bufs.push(status);
  return { bufs, status };
}

Deno.test("request: chaining with hash_result_len past the writable part, or not the session's, answers ERR", async () => {
  await using r = await setUp();
  // Control: the well-formed request is served (64 + 32 bytes written, plus the status byte).
  r.g.reset();
  const ok = chainChain(r, r.chain, [0, 64, 0, 64, 0, 32], 32);
  const c = await r.g.run(r.g.chain(ok.bufs), ok.bufs.filter((b) => b.write));
  assert.deepEqual({ status: statusAt(r.g, ok.status), len: c.len, stray: c.strayWrites }, {
    status: Status.OK,
    len: 97,
    stray: [],
  });
  // hash_result_len 32, but only 16 writable bytes for it
  await assertAnswered(r, () => chainChain(r, r.chain, [0, 64, 0, 64, 0, 32], 16), ERR);
  // hash_result_len 0xffffffff
  await assertAnswered(r, () => chainChain(r, r.chain, [0, 64, 0, 64, 0, 0xffff_ffff], 32), ERR);
  // hash_result_len 16: not the session's 32 (room for it is there)
  await assertAnswered(r, () => chainChain(r, r.chain, [0, 64, 0, 64, 0, 16], 32), ERR);
});

Deno.test("request: chaining offsets outside src_data answer ERR", async () => {
  await using r = await setUp();
  const cases: [number, number, number, number, number, number][] = [
    [60, 16, 0, 64, 0, 32], // cipher region ends at 76 > 64
    [0, 64, 1, 64, 0, 32], // hash region ends at 65
    [0xffff_fff0, 0x20, 0, 64, 0, 32], // wraps to 0x10 in u32
    [0, 64, 0xffff_ffff, 1, 0, 32],
  ];
  for (const chain of cases) await assertAnswered(r, () => chainChain(r, r.chain, chain, 32), ERR);
});

Deno.test("request: a chain with no writable descriptor completes with used length 0 and writes nothing", async () => {
  await using r = await setUp();
  await assertAnswered(r, () => {
    const all = cbcBuffers(r.g, r.cipher).bufs;
    return { bufs: all.slice(0, 3), status: null };
  }, { status: -1, len: 0 });
  // only a header
  await assertAnswered(r, () => {
    const hdr = symHeader({ session: r.cipher, ivLen: 16, srcLen: 64, dstLen: 64 });
    return { bufs: [{ gpa: r.g.put(hdr), len: 72 }], status: null };
  }, { status: -1, len: 0 });
});
