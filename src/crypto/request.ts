/**
 * `RequestParser`: one data-queue descriptor chain to an engine operation (style.md rule 3: parse, then execute).
 *
 * The request header and `op_flf` are copied out of guest memory once and every length is taken from the copy
 * (TOCTOU, DPDK CVE-2020-14375); payloads (IV, source, destination, AAD, digest) stay in guest memory and are
 * handed to the engine as scatter-gather lists of guest regions, so the engine works in place. Nothing is
 * allocated per request on the session-mode path.
 *
 * Chain shape (interop.md §6 item 6): header | op_flf | device-readable parts | device-writable parts | status, the
 * status being the LAST writable byte; the writable area may be longer than the parts (Linux passes its whole
 * destination scatterlist), the slack is left alone.
 *
 * @module
 */

import type { GuestMemory, GuestRegion } from "../memory/mod.ts";
import { ChainCursor, ChainReader, type DescriptorChain } from "../virtio/mod.ts";
import type { CryptoOp, EngineSession } from "../engine/engine.ts";
import { SgList } from "../engine/sg_list.ts";
import { CryptoOpDirection, Layout, MacAlgo, Status } from "../spec/virtio_crypto.ts";
import { readDataRequest } from "./data_codec.ts";
import { DataRequest } from "./data_request.ts";
import { type DataLimits, planDataVlf, VlfPlan } from "./data_vlf.ts";
import { wireErrorStatus, type WireLayout } from "./wire.ts";

/** Bytes of header + op_flf copied per request: the largest is 24 + 76 (stateless sym). */
const HEADER_COPY = 128;
/** GMAC's IV length: the spec's MAC request has no IV field, so it leads the source data (see README). */
export const GMAC_IV_LEN = 12;

/** What the parser needs to know about the device. */
export interface ParserContext {
  /** Wire layout negotiated (REVISION_1 or not); asked per request, as features may change. */
  layout(): WireLayout;
  /** Limits from the config space. */
  readonly limits: DataLimits;
  /** Looks a session up by id (-1 and unknown ids give undefined). */
  readonly session: (id: number) => EngineSession | undefined;
  /** Whether stateless requests of a service were negotiated (service number). */
  readonly statelessAllowed: (service: number) => boolean;
  /** Creates a one-request session for a stateless request, or returns a status byte when it cannot. */
  readonly statelessSession: (
    req: DataRequest,
    key: Uint8Array,
    authKey: Uint8Array,
  ) => EngineSession | number;
}

/** Parses chains into `CryptoOp`s. One per queue; not re-entrant. */
export class RequestParser {
  /** The decoded request of the last `parse()`. */
  readonly request = new DataRequest();
  /** Offset of the status byte in the writable part, or -1 when the chain has no writable byte. */
  statusOffset = -1;
  /** Bytes the operation writes on success (the used length is this + 1 for the status byte). */
  outputLen = 0;
  /** A session created for this request only (stateless mode); the caller closes it after the operation. */
  temporarySession: EngineSession | null = null;
  readonly #ctx: ParserContext;
  readonly #header = new Uint8Array(new ArrayBuffer(HEADER_COPY));
  // Every legacy-layout request is exactly header + padded op_flf long: copy just that (a view made once).
  readonly #legacyHeader = this.#header.subarray(0, Layout.DATA_HEADER + Layout.DATAQ_OP_SPEC_HDR_LEGACY);
  #headerRead = 0;
  /** Bytes of `#header` that may be non-zero (the longest read since the tail was last zeroed). */
  #headerDirty = HEADER_COPY;
  readonly #plan = new VlfPlan();
  readonly #reader = new ChainReader();
  readonly #cursor = new ChainCursor();
  readonly #parts: Record<"iv" | "src" | "aad" | "dst" | "hash", SgList>;
  readonly #key: Uint8Array;
  readonly #authKey: Uint8Array;

  /**
   * @param ctx The device context.
   * @param maxSegments Most ranges per part (the queue size).
   */
  constructor(ctx: ParserContext, maxSegments: number) {
    this.#ctx = ctx;
    const list = (): SgList => new SgList(maxSegments);
    this.#parts = { iv: list(), src: list(), aad: list(), dst: list(), hash: list() };
    this.#key = new Uint8Array(Math.max(ctx.limits.maxCipherKeyLen, ctx.limits.maxAkcipherKeyLen));
    this.#authKey = new Uint8Array(ctx.limits.maxAuthKeyLen);
  }

  /**
   * Parses `chain` into `op`.
   *
   * @param mem Guest memory.
   * @param chain A popped chain (possibly with `error`).
   * @param op The operation to fill (reset first).
   * @returns `Status.OK` when `op` is ready to submit, else the status byte to answer with.
   */
  parse(mem: GuestMemory, chain: DescriptorChain, op: CryptoOp): number {
    op.reset();
    this.temporarySession = null;
    this.outputLen = 0;
    this.statusOffset = chain.error === null && chain.writableBytes > 0 ? chain.writableBytes - 1 : -1;
    if (this.statusOffset < 0) return Status.ERR;
    const req = this.#decode(mem, chain);
    // A request cut short inside its header or op_flf is malformed, whatever the zero-filled tail decodes to (an
    // op_type of 0 would read as SYM_OP_NONE and answer NOTSUPP).
    if (this.#headerRead < Layout.DATA_HEADER || this.#headerRead < req.length) return Status.ERR;
    if (req.error !== null) return wireErrorStatus(req.error);
    // The hot path (Linux's cbc(aes), QEMU's only data traffic) maps its parts straight into the operation, and
    // its plan is known: iv and src read, dst written. Others are planned part by part (planDataVlf).
    const direct = req.kind === "cipher" && !req.stateless;
    let readTotal: number, writeTotal: number;
    if (direct) {
      readTotal = req.ivLen + req.srcDataLen;
      writeTotal = req.dstDataLen;
      // planDataVlf's two bounds (length-overflow, too-large), both answered ERR.
      const total = readTotal + writeTotal;
      if (total > 0xffff_ffff || total > this.#ctx.limits.maxSize) return Status.ERR;
    } else {
      const plan = planDataVlf(req, this.#ctx.limits, this.#plan);
      if (plan.error !== null) return wireErrorStatus(plan.error);
      readTotal = plan.readTotal;
      writeTotal = plan.writeTotal;
    }
    // The chain must hold the parts the request announces (CVE-2020-14374: lengths come from the request,
    // never from descriptor sizes), plus the status byte.
    if (req.length + readTotal > chain.readableBytes || writeTotal + 1 > chain.writableBytes) {
      return Status.ERR;
    }
    const status = direct ? this.#mapCipher(mem, chain, op) : this.#mapParts(mem, chain, req.length);
    if (status !== Status.OK) return status;
    const session = this.#session(req);
    if (typeof session === "number") return session;
    op.session = session;
    if (!direct) return this.#compose(op, session);
    return session.params.service === "cipher" ? Status.OK : Status.INVSESS;
  }

  // Session-mode cipher: iv and src follow the header, dst starts the writable part. The engine writes exactly
  // src_data_len bytes, so only that much of dst is mapped, and a shorter dst is refused (CVE-2023-3180 class).
  #mapCipher(mem: GuestMemory, chain: DescriptorChain, op: CryptoOp): number {
    const req = this.request;
    if (req.dstDataLen < req.srcDataLen) return Status.ERR;
    const ok = this.#push(mem, chain, false, req.length, req.ivLen, op.iv) &&
      this.#push(mem, chain, false, req.length + req.ivLen, req.srcDataLen, op.src) &&
      this.#push(mem, chain, true, 0, req.srcDataLen, op.dst);
    this.outputLen = req.srcDataLen;
    return ok ? Status.OK : Status.ERR;
  }

  #decode(mem: GuestMemory, chain: DescriptorChain): DataRequest {
    const legacy = this.#ctx.layout() === "legacy";
    const n = this.#reader.readInto(mem, chain, 0, legacy ? this.#legacyHeader : this.#header);
    this.#headerRead = n;
    // Zero the tail instead of taking a subarray (no allocation); a request longer than what was read is refused
    // in parse() (`#headerRead`, then the length check against `readableBytes`). Only what an earlier, longer
    // read left there: requests of one layout read the same length, so usually nothing.
    if (n < this.#headerDirty) this.#header.fill(0, n, this.#headerDirty);
    this.#headerDirty = n;
    return readDataRequest(this.#header, legacy ? "legacy" : "revision1", this.request);
  }

  #session(req: DataRequest): EngineSession | number {
    if (!req.stateless) return this.#ctx.session(req.sessionIdNumber) ?? Status.INVSESS;
    const service = req.opcode >>> 8;
    if (!this.#ctx.statelessAllowed(service)) return Status.NOTSUPP;
    const s = this.#ctx.statelessSession(
      req,
      this.#key.subarray(0, req.keyLen),
      this.#authKey.subarray(0, req.authKeyLen),
    );
    this.#key.fill(0);
    this.#authKey.fill(0);
    if (typeof s !== "number") this.temporarySession = s;
    return s;
  }

  // Walks the plan: readable parts after the header, writable parts from 0; payload parts become range lists,
  // keys (stateless) are copied out.
  #mapParts(mem: GuestMemory, chain: DescriptorChain, headerLen: number): number {
    const p = this.#parts;
    p.iv.clear();
    p.src.clear();
    p.aad.clear();
    p.dst.clear();
    p.hash.clear();
    let readOff = headerLen;
    let writeOff = 0;
    const plan = this.#plan;
    for (let i = 0; i < plan.count; i++) {
      const part = plan.parts[i]!;
      const writable = part.direction === "device-write";
      const off = writable ? writeOff : readOff;
      const target = this.#target(part.role);
      if (target === null) this.#copyKey(mem, chain, off, part.length, part.role === "auth_key");
      else if (!this.#push(mem, chain, writable, off, part.length, target)) return Status.ERR;
      if (writable) writeOff += part.length;
      else readOff += part.length;
    }
    return Status.OK;
  }

  #target(role: string): SgList | null {
    const p = this.#parts;
    switch (role) {
      case "iv":
        return p.iv;
      case "src_data":
      case "signature":
      case "signed_data":
        return p.src;
      case "aad":
        return p.aad;
      case "dst_data":
        return p.dst;
      case "hash_result":
        return p.hash;
      default:
        return null; // a key
    }
  }

  #copyKey(mem: GuestMemory, chain: DescriptorChain, off: number, len: number, auth: boolean): void {
    const dst = auth ? this.#authKey : this.#key;
    // Lengths were checked against the limits (the buffers' sizes) by planDataVlf.
    let pos = 0;
    const c = this.#cursor;
    c.start(chain, false, off, len);
    while (c.next()) {
      const r = mem.find(c.gpa, c.length);
      if (r === undefined) mem.read(c.gpa, dst.subarray(pos, pos + c.length));
      else dst.set(r.bytes.subarray(c.gpa - r.gpa, c.gpa - r.gpa + c.length), pos);
      pos += c.length;
    }
  }

  #push(
    mem: GuestMemory,
    chain: DescriptorChain,
    writable: boolean,
    off: number,
    len: number,
    list: SgList,
  ): boolean {
    if (this.#pushWithin(mem, chain, writable, off, len, list)) return true;
    const c = this.#cursor;
    if (!c.start(chain, writable, off, len)) return false;
    while (c.next()) {
      let gpa = c.gpa;
      let left = c.length;
      // Common case: the piece lies in one region (found through the memory's last-hit cache).
      const whole = mem.find(gpa, left);
      if (whole !== undefined) {
        if (list.count === list.capacity) return false;
        list.push(whole, gpa - whole.gpa, left, gpa);
        continue;
      }
      // A descriptor may span adjacent regions: split it so every range lies in one mapping.
      while (left > 0) {
        const r: GuestRegion | undefined = mem.regionAt(gpa);
        if (r === undefined) return false;
        const n = Math.min(left, r.gpa + r.size - gpa);
        if (list.count === list.capacity) return false;
        list.push(r, gpa - r.gpa, n, gpa);
        gpa += n;
        left -= n;
      }
    }
    return true;
  }

  // The usual part (Linux and DPDK give each its own descriptor): inside one descriptor and one region, pushed
  // without the cursor. False leaves everything else, and every refusal, to #push's general walk.
  #pushWithin(
    mem: GuestMemory,
    chain: DescriptorChain,
    writable: boolean,
    off: number,
    len: number,
    list: SgList,
  ): boolean {
    let i = writable ? chain.readableCount : 0;
    const end = writable ? chain.count : chain.readableCount;
    let skip = off;
    while (i < end && skip >= chain.len[i]!) skip -= chain.len[i++]!;
    if (len === 0 || i === end || skip + len > chain.len[i]! || list.count === list.capacity) return false;
    const gpa = chain.addr[i]! + skip;
    const r = mem.find(gpa, len);
    if (r === undefined) return false;
    list.push(r, gpa - r.gpa, len, gpa);
    return true;
  }

  // Puts the parts where the engine expects them for the session's service (table in engine.ts's CryptoOp).
  #compose(op: CryptoOp, session: EngineSession): number {
    const req = this.request;
    const p = this.#parts;
    const params = session.params;
    switch (req.kind) {
      case "cipher":
        if (params.service !== "cipher") return Status.INVSESS;
        return this.#cipher(op);
      case "hash":
        if (params.service !== "hash" || req.hashResultLen !== params.resultLen) {
          return params.service === "hash" ? Status.ERR : Status.INVSESS;
        }
        return this.#digest(op, 0);
      case "mac":
        if (params.service !== "mac" || req.hashResultLen !== params.resultLen) {
          return params.service === "mac" ? Status.ERR : Status.INVSESS;
        }
        return this.#digest(op, params.algo === MacAlgo.GMAC_AES ? GMAC_IV_LEN : 0);
      case "aead":
        if (params.service !== "aead") return Status.INVSESS;
        if (req.tagLen !== params.tagLen) return Status.ERR;
        return this.#aead(op, params.direction === CryptoOpDirection.DECRYPT);
      case "alg-chain":
        if (params.service !== "chain") return Status.INVSESS;
        if (req.hashResultLen !== params.auth.resultLen) return Status.ERR;
        return this.#chain(op);
      case "akcipher":
        if (params.service !== "akcipher") return Status.INVSESS;
        op.src.pushRange(p.src, 0, p.src.total);
        op.dst.pushRange(p.dst, 0, p.dst.total);
        this.outputLen = p.dst.total;
        return Status.OK;
      default:
        return Status.ERR;
    }
  }

  #cipher(op: CryptoOp): number {
    const p = this.#parts;
    const srcLen = p.src.total;
    // The engine writes exactly src_data_len bytes; a shorter destination cannot hold them (CVE-2023-3180 class).
    if (p.dst.total < srcLen) return Status.ERR;
    op.iv.pushRange(p.iv, 0, p.iv.total);
    op.src.pushRange(p.src, 0, srcLen);
    op.dst.pushRange(p.dst, 0, srcLen);
    this.outputLen = srcLen;
    return Status.OK;
  }

  #digest(op: CryptoOp, ivLen: number): number {
    const p = this.#parts;
    if (p.src.total < ivLen) return Status.ERR;
    op.iv.pushRange(p.src, 0, ivLen);
    op.src.pushRange(p.src, ivLen, p.src.total - ivLen);
    op.digest.pushRange(p.hash, 0, p.hash.total);
    this.outputLen = p.hash.total;
    return Status.OK;
  }

  // AEAD: encrypt writes ciphertext || tag into dst_data; decrypt reads ciphertext || tag from src_data
  // (the Linux AEAD convention; the spec: "dst_data_len ... at least src_data_len + tag_len").
  #aead(op: CryptoOp, decrypt: boolean): number {
    const p = this.#parts;
    const tagLen = this.request.tagLen;
    const textLen = decrypt ? p.src.total - tagLen : p.src.total;
    if (textLen < 0 || p.dst.total < textLen + (decrypt ? 0 : tagLen)) return Status.ERR;
    op.iv.pushRange(p.iv, 0, p.iv.total);
    op.aad.pushRange(p.aad, 0, p.aad.total);
    op.src.pushRange(p.src, 0, textLen);
    op.dst.pushRange(p.dst, 0, textLen);
    if (decrypt) op.digest.pushRange(p.src, textLen, tagLen);
    else op.digest.pushRange(p.dst, textLen, tagLen);
    this.outputLen = decrypt ? textLen : textLen + tagLen;
    return Status.OK;
  }

  #chain(op: CryptoOp): number {
    const p = this.#parts;
    const req = this.request;
    const srcLen = p.src.total;
    if (p.dst.total < srcLen) return Status.ERR;
    op.iv.pushRange(p.iv, 0, p.iv.total);
    op.aad.pushRange(p.aad, 0, p.aad.total);
    op.src.pushRange(p.src, 0, srcLen);
    op.dst.pushRange(p.dst, 0, srcLen);
    op.digest.pushRange(p.hash, 0, p.hash.total);
    op.cipherOffset = req.cipherStartSrcOffset;
    op.cipherLen = req.lenToCipher;
    op.hashOffset = req.hashStartSrcOffset;
    op.hashLen = req.lenToHash;
    copyPassThrough(op, srcLen);
    this.outputLen = srcLen + p.hash.total;
    return Status.OK;
  }
}

// Source bytes outside the cipher region reach the destination unchanged (an ESP header, say); the engine only
// transforms the cipher region. Rare and small, so a plain copy through a host buffer is fine here.
function copyPassThrough(op: CryptoOp, srcLen: number): void {
  const start = op.cipherOffset;
  const end = op.cipherOffset + op.cipherLen;
  if (start > 0) copyRange(op, 0, start);
  if (end < srcLen) copyRange(op, end, srcLen - end);
}

function copyRange(op: CryptoOp, at: number, len: number): void {
  const tmp = new Uint8Array(len);
  op.src.copyOut(at, tmp);
  op.dst.copyIn(at, tmp);
}
