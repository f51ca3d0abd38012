/**
 * `RequestParser` on the session-mode cipher path (Linux's cbc(aes), QEMU's only data traffic), which plans its
 * parts inline instead of through `planDataVlf`: it must answer exactly as the general plan does, ERR for parts
 * beyond the device's `max_size` or past 2^32 (CVE-2020-14374 class: lengths come from the request).
 *
 * @module
 */

import assert from "node:assert/strict";
import { CipherAlgo, Status } from "../../src/spec/virtio_crypto.ts";
import {
  DataRequest,
  DEFAULT_DATA_LIMITS,
  planDataVlf,
  readDataRequest,
  VlfPlan,
} from "../../src/crypto/mod.ts";
import { type ParserContext, RequestParser } from "../../src/crypto/request.ts";
import { CryptoOp, type EngineSession } from "../../src/engine/engine.ts";
import { DATA_GPA, guestRam, RawRing } from "../_fixtures/guest_ram.ts";
import { symHeader } from "./_raw_guest.ts";

const SESSION = {
  params: { service: "cipher", algo: CipherAlgo.AES_CBC, key: new Uint8Array(16), direction: 1 },
  engine: {},
} as unknown as EngineSession;

function context(maxSize: number): ParserContext {
  return {
    layout: () => "legacy",
    limits: { ...DEFAULT_DATA_LIMITS, maxSize },
    session: (id) => id === 1 ? SESSION : undefined,
    statelessAllowed: () => false,
    statelessSession: () => Status.NOTSUPP,
  };
}

/** Parses one request with these header lengths; the chain always holds 16 + 64 readable and 64 + 1 writable. */
function parse(maxSize: number, ivLen: number, srcLen: number, dstLen: number): number {
  const mem = guestRam();
  mem.write(DATA_GPA, symHeader({ session: 1n, ivLen, srcLen, dstLen }));
  const ring = new RawRing(mem, 16);
  ring.desc(
    0,
    { addr: DATA_GPA, len: 72, flags: 1, next: 1 },
    { addr: DATA_GPA + 0x100, len: 16 + 64, flags: 1, next: 2 },
    { addr: DATA_GPA + 0x200, len: 64 + 1, flags: 2 },
  );
  ring.offer(0);
  const { chain } = ring.popOne();
  return new RequestParser(context(maxSize), 16).parse(mem, chain, new CryptoOp(16));
}

/** What the general plan answers for the same header. */
function planned(maxSize: number, ivLen: number, srcLen: number, dstLen: number): string | null {
  const req = readDataRequest(symHeader({ session: 1n, ivLen, srcLen, dstLen }), "legacy", new DataRequest());
  return planDataVlf(req, { ...DEFAULT_DATA_LIMITS, maxSize }, new VlfPlan()).error;
}

Deno.test("RequestParser, session cipher: parts up to max_size are mapped, one byte more is ERR", () => {
  const total = 16 + 64 + 64;
  assert.equal(planned(total, 16, 64, 64), null);
  assert.equal(parse(total, 16, 64, 64), Status.OK);
  assert.equal(planned(total - 1, 16, 64, 64), "too-large");
  assert.equal(parse(total - 1, 16, 64, 64), Status.ERR);
});

Deno.test("RequestParser, session cipher: lengths summing past 2^32 are ERR, as the general plan's length-overflow", () => {
  const max = 0xffff_ffff;
  assert.equal(planned(Number.MAX_SAFE_INTEGER, 16, max, max), "length-overflow");
  assert.equal(parse(Number.MAX_SAFE_INTEGER, 16, max, max), Status.ERR);
  // Within max_size and 2^32 but longer than the chain: ERR from the chain check.
  assert.equal(parse(1 << 20, 16, 4096, 4096), Status.ERR);
});
