// CVE-2020-14375 (DPDK 2d962bb736): a guest that rewrites the request header or the descriptors while the device
// works on them. A real race cannot be timed reliably in-process, so the guest memory here rewrites itself at the
// device's first access after the header was read: whatever the parser would read a second time is then hostile.
// The parser must copy the header (and the chain its descriptors) once and take every length from the copies.

import assert from "node:assert/strict";
import { CipherAlgo, Status } from "../../src/spec/virtio_crypto.ts";
import { DEFAULT_DATA_LIMITS } from "../../src/crypto/mod.ts";
import { type ParserContext, RequestParser } from "../../src/crypto/request.ts";
import { CryptoOp, type EngineSession } from "../../src/engine/engine.ts";
import type { GuestMemory, GuestRegion, RegionGuestMemory } from "../../src/memory/mod.ts";
import { DATA_GPA, guestRam, RawRing } from "../_fixtures/guest_ram.ts";
import { IV, PT } from "./_helpers.ts";
import { symHeader } from "./_raw_guest.ts";

const QUEUE = 16;
const HEADER = DATA_GPA;
const layout = {
  header: HEADER,
  iv: HEADER + 0x100,
  src: HEADER + 0x200,
  dst: HEADER + 0x300,
  status: HEADER + 0x400,
};

/** Guest memory whose guest rewrites it (once, with `race`) right after the device first read the request header. */
class RacingMemory implements GuestMemory {
  /** Device accesses that touched the header. */
  headerReads = 0;
  /** Whether the guest has rewritten its memory. */
  raced = false;
  readonly #inner: RegionGuestMemory;
  readonly #race: () => void;
  #armed = false;

  constructor(inner: RegionGuestMemory, race: () => void) {
    this.#inner = inner;
    this.#race = race;
  }

  get generation(): number {
    return this.#inner.generation;
  }
  get regions(): readonly GuestRegion[] {
    return this.#inner.regions;
  }

  #access(gpa: number, len: number): void {
    if (this.#armed && !this.raced) {
      this.raced = true;
      this.#race();
    }
    if (gpa < HEADER + 72 && gpa + Math.max(len, 1) > HEADER) {
      this.headerReads++;
      this.#armed = true;
    }
  }

  find(gpa: number, len: number): GuestRegion | undefined {
    this.#access(gpa, len);
    return this.#inner.find(gpa, len);
  }
  regionAt(gpa: number): GuestRegion | undefined {
    this.#access(gpa, 1);
    return this.#inner.regionAt(gpa);
  }
  checkRange(gpa: number, len: number): boolean {
    this.#access(gpa, len);
    return this.#inner.checkRange(gpa, len);
  }
  read(gpa: number, dst: Uint8Array): void {
    this.#access(gpa, dst.length);
    this.#inner.read(gpa, dst);
  }
  write(gpa: number, src: Uint8Array): void {
    this.#access(gpa, src.length);
    this.#inner.write(gpa, src);
  }
  frontendVaToGpa(va: number, len: number): number | undefined {
    return this.#inner.frontendVaToGpa(va, len);
  }
}

const SESSION = {
  params: { service: "cipher", algo: CipherAlgo.AES_CBC, key: new Uint8Array(16), direction: 1 },
  engine: {},
} as unknown as EngineSession;

const CTX: ParserContext = {
  layout: () => "legacy",
  limits: { ...DEFAULT_DATA_LIMITS, maxSize: 16 << 20 },
  session: (id) => id === 1 ? SESSION : undefined,
  statelessAllowed: () => false,
  statelessSession: () => Status.NOTSUPP,
};

/** A Linux-shaped AES-CBC request of session 1, popped from a ring in plain test RAM. */
function popRequest(): {
  mem: RegionGuestMemory;
  ring: RawRing;
  chain: ReturnType<RawRing["popOne"]>["chain"];
} {
  const mem = guestRam();
  mem.write(layout.header, symHeader({ session: 1n, ivLen: 16, srcLen: 64, dstLen: 64 }));
  mem.write(layout.iv, IV);
  mem.write(layout.src, PT);
  const ring = new RawRing(mem, QUEUE);
  ring.desc(
    0,
    { addr: layout.header, len: 72, flags: 1, next: 1 },
    { addr: layout.iv, len: 16, flags: 1, next: 2 },
    { addr: layout.src, len: 64, flags: 1, next: 3 },
    { addr: layout.dst, len: 64, flags: 3, next: 4 },
    { addr: layout.status, len: 1, flags: 2 },
  );
  ring.offer(0);
  return { mem, ring, chain: ring.popOne().chain };
}

/** The guest's hostile rewrite: every length and id in the header and every descriptor. */
function rewrite(mem: RegionGuestMemory, ring: RawRing): void {
  mem.write(
    layout.header,
    symHeader({
      opcode: 0x999,
      session: 0xdeadn,
      opType: 2,
      ivLen: 0xffff_ffff,
      srcLen: 0xffff_ffff,
      dstLen: 1,
    }),
  );
  for (let i = 0; i < 5; i++) ring.desc(i, { addr: 1n << 60n, len: 0xffff_ffff, flags: 1, next: 9 });
}

/** What the parser must have taken from the original request. */
function assertOriginal(parser: RequestParser, op: CryptoOp): void {
  const r = parser.request;
  assert.deepEqual(
    {
      opcode: r.opcode,
      session: r.sessionIdNumber,
      kind: r.kind,
      iv: r.ivLen,
      src: r.srcDataLen,
      dst: r.dstDataLen,
    },
    { opcode: 0, session: 1, kind: "cipher", iv: 16, src: 64, dst: 64 },
  );
  assert.deepEqual(
    {
      iv: op.iv.total,
      src: op.src.total,
      dst: op.dst.total,
      out: parser.outputLen,
      status: parser.statusOffset,
    },
    { iv: 16, src: 64, dst: 64, out: 64, status: 64 },
  );
}

Deno.test("TOCTOU (CVE-2020-14375): a header and descriptors rewritten after the first read do not reach the parse", () => {
  const { mem, ring, chain } = popRequest();
  const racing = new RacingMemory(mem, () => rewrite(mem, ring));
  const parser = new RequestParser(CTX, QUEUE);
  const op = new CryptoOp(QUEUE);
  assert.equal(parser.parse(racing, chain, op), Status.OK);
  assert.ok(racing.raced, "the guest rewrote its memory during the parse");
  assert.equal(racing.headerReads, 1, "the header is read from guest memory exactly once");
  assertOriginal(parser, op);
  // The chain is the device's copy: the rewritten descriptors never reached it.
  assert.deepEqual([...chain.len.subarray(0, chain.count)], [72, 16, 64, 64, 1]);
  assert.deepEqual([...chain.addr.subarray(0, chain.count)], Object.values(layout));
});

Deno.test("TOCTOU (CVE-2020-14375): rewriting guest memory after the parse changes nothing the engine is given", () => {
  const { mem, ring, chain } = popRequest();
  const parser = new RequestParser(CTX, QUEUE);
  const op = new CryptoOp(QUEUE);
  assert.equal(parser.parse(mem, chain, op), Status.OK);
  rewrite(mem, ring);
  const header = new Uint8Array(72);
  mem.read(layout.header, header);
  assert.equal(
    new DataView(header.buffer).getUint32(28, true),
    0xffff_ffff,
    "the guest did rewrite src_data_len",
  );
  assertOriginal(parser, op);
  // Payloads stay in guest memory (in place, by design): the IV range is where it was, 16 bytes long.
  const ivRange = new Uint8Array(16);
  op.iv.copyOut(0, ivRange);
  assert.deepEqual(ivRange, IV);
});
