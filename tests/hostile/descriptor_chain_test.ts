// Hostile descriptor chains, written by hand into real memfd guest RAM on vring 0 after a normal handshake. A
// malformed chain is completed with used length 0 (there is no status byte the device may trust), nothing in guest
// RAM changes besides the used ring, the reason is logged, and the queue goes on serving (README "Status and used
// length", design.md "Reliability rules").

import assert from "node:assert/strict";
import { VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE } from "../../src/virtio/mod.ts";
import { type RawDesc, writeDescs } from "../_fixtures/guest_ram.ts";
import { assertLogged, startDaemon, type TestDaemon } from "./_helpers.ts";
import { assertRingServes, type Buf, cbcBuffers, QSIZE, RawGuest, statusAt } from "./_raw_guest.ts";

const N = VIRTQ_DESC_F_NEXT;
const W = VIRTQ_DESC_F_WRITE;
const I = VIRTQ_DESC_F_INDIRECT;

/** A daemon, a raw guest on it with an AES-CBC session, and canary-filled RAM. */
async function setUp(): Promise<{ t: TestDaemon; g: RawGuest; sid: bigint } & AsyncDisposable> {
  const t = await startDaemon();
  const g = await RawGuest.open(t);
  const sid = await g.createSession();
  g.reset();
  return {
    t,
    g,
    sid,
    async [Symbol.asyncDispose](): Promise<void> {
      g.close();
      await t[Symbol.asyncDispose]();
    },
  };
}

/** Descriptors for `bufs`, linked in order from table index `base` (the last one without NEXT). */
function linked(bufs: readonly Buf[], base = 0): RawDesc[] {
  return bufs.map((b, i) => ({
    addr: b.gpa,
    len: b.len,
    flags: (b.write ? W : 0) | (i + 1 < bufs.length ? N : 0),
    next: i + 1 < bufs.length ? base + i + 1 : 0,
  }));
}

/**
 * Runs the chain at `head` and checks the reaction to a malformed chain: used element `{ head, 0 }`, no byte of
 * guest RAM written (not even the status byte), the reason in the log, and the queue still serving.
 */
async function assertRefused(
  s: { t: TestDaemon; g: RawGuest; sid: bigint },
  head: number,
  why: RegExp,
): Promise<void> {
  const since = s.t.logs.length;
  const c = await s.g.run(head);
  assert.deepEqual({ id: c.id, len: c.len, stray: c.strayWrites }, { id: head, len: 0, stray: [] });
  assertLogged(s.t, new RegExp(`malformed chain ${head} on vring 0: .*${why.source}`), since);
  await assertRingServes(s.g, s.sid);
}

Deno.test("chain: a next index >= queue size (DPDK 16d2e718b8), direct and inside an indirect table", async () => {
  await using s = await setUp();
  for (const bad of [QSIZE, 0xffff]) {
    s.g.reset();
    const r = cbcBuffers(s.g, s.sid);
    const descs = linked(r.bufs);
    descs[2] = { ...descs[2]!, next: bad };
    s.g.ring.desc(0, ...descs);
    await assertRefused(s, 0, new RegExp(`next index must be < ${QSIZE}: current value is ${bad}`));
  }
  s.g.reset();
  const r = cbcBuffers(s.g, s.sid);
  const descs = linked(r.bufs);
  descs[1] = { ...descs[1]!, next: 5 }; // the table has 5 entries: 0..4
  writeDescs(s.g.ring.mem, s.g.indirectGpa, descs);
  s.g.ring.desc(2, { addr: s.g.indirectGpa, len: 16 * descs.length, flags: I });
  await assertRefused(s, 2, /next index must be < 5: current value is 5/);
});

Deno.test("chain: descriptor loops end (DPDK c7e7244b82), direct and inside an indirect table", async () => {
  await using s = await setUp();
  const r = cbcBuffers(s.g, s.sid);
  // 0 -> 1 -> 2 -> 0 -> ...: readable descriptors only, so only the loop bound can end the walk.
  s.g.ring.desc(0, ...linked(r.bufs.slice(0, 3)).map((d, i) => ({ ...d, flags: N, next: (i + 1) % 3 })));
  await assertRefused(s, 0, /chain is longer than the queue size 16 \(a descriptor loop\?\)/);
  // A self-loop
  s.g.reset();
  const r2 = cbcBuffers(s.g, s.sid);
  s.g.ring.desc(5, { addr: r2.bufs[0]!.gpa, len: 72, flags: N, next: 5 });
  await assertRefused(s, 5, /longer than the queue size 16/);
  // Inside an indirect table of 3 entries: 0 -> 1 -> 2 -> 1 -> ...
  s.g.reset();
  const r3 = cbcBuffers(s.g, s.sid);
  const table = linked(r3.bufs.slice(0, 3));
  table[2] = { ...table[2]!, flags: N, next: 1 };
  writeDescs(s.g.ring.mem, s.g.indirectGpa, table);
  s.g.ring.desc(1, { addr: s.g.indirectGpa, len: 48, flags: I });
  await assertRefused(s, 1, /chain is longer than its indirect table of 3/);
});

Deno.test("chain: an indirect table longer than the queue size is refused (chain TTL = queue size)", async () => {
  await using s = await setUp();
  const r = cbcBuffers(s.g, s.sid);
  // 19 readable 4-byte pieces of the header, IV and source, then dst and status: 21 buffers > 16.
  const pieces: Buf[] = [];
  for (let off = 0; off < 72 + 16 - 12; off += 4) pieces.push({ gpa: r.bufs[0]!.gpa + off, len: 4 });
  const bufs = [...pieces, r.dst, r.status];
  assert.ok(bufs.length > QSIZE);
  writeDescs(s.g.ring.mem, s.g.indirectGpa, linked(bufs));
  s.g.ring.desc(0, { addr: s.g.indirectGpa, len: 16 * bufs.length, flags: I });
  await assertRefused(s, 0, /chain is longer than the queue size 16/);
});

Deno.test("chain: buffers past the end of guest memory (CVE-2018-1059 class) are never touched", async () => {
  await using s = await setUp();
  const cases: [(r: ReturnType<typeof cbcBuffers>) => Buf[], RegExp][] = [
    // source runs 48 bytes past the end of RAM
    [
      (r) => [r.bufs[0]!, r.bufs[1]!, { gpa: s.g.end(-16), len: 64 }, r.dst, r.status],
      /buffer 2 at 0x[0-9a-f]+\+64/,
    ],
    // destination starts right after RAM
    [(r) => [...r.bufs.slice(0, 3), { gpa: s.g.end(), len: 64, write: true }, r.status], /buffer 3/],
    // status byte below RAM
    [(r) => [...r.bufs.slice(0, 4), { gpa: s.g.ram.region.gpa - 1, len: 1, write: true }], /buffer 4/],
    // a 256 MiB length from inside 1 MiB of RAM
    [
      (r) => [r.bufs[0]!, { gpa: r.bufs[1]!.gpa, len: 0x1000_0000 }, r.dst, r.status],
      /buffer 1 .*\+268435456/,
    ],
  ];
  for (const [shape, why] of cases) {
    for (const indirect of [false, true]) {
      s.g.reset();
      const bufs = shape(cbcBuffers(s.g, s.sid));
      await assertRefused(
        s,
        s.g.chain(bufs, { indirect }),
        new RegExp(`${why.source}.* is not all guest memory`),
      );
    }
  }
});

Deno.test("chain: addresses above 2^53 are refused before any arithmetic on them", async () => {
  await using s = await setUp();
  for (const addr of [1n << 53n, 1n << 60n, 0xffff_ffff_ffff_fff0n]) {
    s.g.reset();
    const r = cbcBuffers(s.g, s.sid);
    const descs = linked(r.bufs);
    descs[3] = { ...descs[3]!, addr }; // the destination
    s.g.ring.desc(0, ...descs);
    await assertRefused(s, 0, /address of descriptor 3 is above 2\^53/);
  }
  // An indirect table above 2^53
  s.g.ring.desc(0, { addr: 1n << 60n, len: 80, flags: I });
  await assertRefused(s, 0, /table 0x[0-9a-f]+\+80 is not inside one guest region/);
});

Deno.test("chain: indirect tables of a length not a multiple of 16, empty, past RAM, with NEXT, or nested", async () => {
  await using s = await setUp();
  const put = (): RawDesc[] => {
    s.g.reset();
    const descs = linked(cbcBuffers(s.g, s.sid).bufs);
    writeDescs(s.g.ring.mem, s.g.indirectGpa, descs);
    return descs;
  };
  for (const len of [24, 79, 8, 0]) {
    put();
    s.g.ring.desc(0, { addr: s.g.indirectGpa, len, flags: I });
    await assertRefused(
      s,
      0,
      new RegExp(`table length must be a non-zero multiple of 16: current value is ${len}`),
    );
  }
  put();
  s.g.ring.desc(0, { addr: s.g.end(-32), len: 80, flags: I });
  await assertRefused(s, 0, /is not inside one guest region/);
  put();
  s.g.ring.desc(0, { addr: s.g.indirectGpa, len: 80, flags: I | N, next: 1 });
  await assertRefused(s, 0, /descriptor has both INDIRECT and NEXT/);
  // Nested: entry 1 of the table is itself INDIRECT (pointing back at the table)
  const descs = put();
  descs[1] = { addr: s.g.indirectGpa, len: 80, flags: I };
  writeDescs(s.g.ring.mem, s.g.indirectGpa, descs);
  s.g.ring.desc(0, { addr: s.g.indirectGpa, len: 80, flags: I });
  await assertRefused(s, 0, /indirect table entry 1 is INDIRECT/);
  // Nested, with a table length that is not a multiple of 16 either
  descs[1] = { addr: s.g.indirectGpa + 0x100, len: 24, flags: I };
  writeDescs(s.g.ring.mem, s.g.indirectGpa, descs);
  await assertRefused(s, 0, /indirect table entry 1 is INDIRECT/);
});

Deno.test("chain: a device-writable descriptor before a readable one is refused", async () => {
  await using s = await setUp();
  const r = cbcBuffers(s.g, s.sid);
  // header, dst (W), IV, source, status (W)
  const bufs = [r.bufs[0]!, r.dst, r.bufs[1]!, r.bufs[2]!, r.status];
  for (const indirect of [false, true]) {
    await assertRefused(
      s,
      s.g.chain(bufs, { indirect }),
      /device-readable descriptor 2 follows a device-writable one/,
    );
  }
});

Deno.test("chain: descriptor lengths summing to 2^32 or more are refused (no 32-bit wrap)", async () => {
  await using s = await setUp();
  const r = cbcBuffers(s.g, s.sid);
  // Two 2 GiB buffers inside... nothing: the total is refused before the buffers are looked at.
  const bufs = [r.bufs[0]!, { gpa: r.bufs[1]!.gpa, len: 0x8000_0000 }, {
    gpa: r.bufs[2]!.gpa,
    len: 0x8000_0000,
  }, r.status];
  await assertRefused(s, s.g.chain(bufs), /byte total must be below 2\^32/);
});

Deno.test("chain: a request header split over descriptors and zero-length descriptors are served (control)", async () => {
  await using s = await setUp();
  const r = cbcBuffers(s.g, s.sid);
  const h = r.bufs[0]!.gpa;
  const bufs: Buf[] = [
    { gpa: h, len: 24 },
    { gpa: h, len: 0 }, // carries nothing
    { gpa: h + 24, len: 48 },
    ...r.bufs.slice(1),
  ];
  const c = await s.g.run(s.g.chain(bufs), [r.dst, r.status]);
  assert.deepEqual({ len: c.len, stray: c.strayWrites, status: statusAt(s.g, r.status) }, {
    len: 65,
    stray: [],
    status: 0,
  });
});
