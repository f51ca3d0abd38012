/**
 * 3DES-CTR, built here because OpenSSL has no `DES-EDE3-CTR`.
 *
 * Counter mode as NIST SP 800-38A §6.5 defines it: the key stream is the forward cipher (TDEA, keying option 1,
 * `DES-EDE3-ECB`) applied to the counter blocks T1, T2, ...; the output is the input XOR the key stream, and the
 * unused tail of the last key-stream block is dropped, so any length works and encryption equals decryption.
 * T1 is the operation's 8-byte IV; T(j+1) = T(j) + 1 taken as one 64-bit big-endian integer modulo 2^64 (the
 * "standard incrementing function" of SP 800-38A Appendix B.1 over the whole block, m = b = 64), which is what
 * Linux's `ctr(des3_ede)` does. Each operation starts again from its own IV; no counter state crosses operations.
 *
 * @module
 */

import { Status } from "../../spec/virtio_crypto.ts";
import type { SgList } from "../sg_list.ts";
import type { CipherCore } from "./cipher_core.ts";
import { fail } from "./fail.ts";
import { CipherContext } from "./cipher_context.ts";
import { overlapsPartially, type Span } from "./span.ts";
import type { Workspace } from "./workspace.ts";

const BLOCK = 8;

/** What a `Ctr64Core` is built from. */
export interface Ctr64CoreOptions {
  readonly ws: Workspace;
  /** The fetched ECB cipher (`DES-EDE3-ECB`). */
  readonly cipher: Deno.PointerObject;
  readonly key: Uint8Array;
}

/** Counter mode with a 64-bit block on an ECB cipher context. */
export class Ctr64Core implements CipherCore {
  readonly #ws: Workspace;
  readonly #ctx: CipherContext;
  readonly #stream: DataView;

  /**
   * @param options Workspace, ECB cipher, key.
   * @throws EngineError `invalid` when OpenSSL rejects the key.
   */
  constructor(options: Ctr64CoreOptions) {
    this.#ws = options.ws;
    // CTR uses the forward cipher in both directions.
    this.#ctx = new CipherContext({
      ws: options.ws,
      cipher: options.cipher,
      key: options.key,
      encrypt: true,
    });
    const ks = options.ws.keystream.bytes;
    this.#stream = new DataView(ks.buffer, ks.byteOffset, ks.byteLength);
  }

  /** No engine-owned key copy: OpenSSL holds the key schedule. */
  get keyCopies(): readonly Uint8Array[] {
    return [];
  }

  crypt(src: Span, dst: Span, iv: SgList): number {
    if (iv.total !== BLOCK || overlapsPartially(src, dst)) return Status.ERR;
    const ws = this.#ws;
    ws.srcCursor.seek(iv, 0);
    ws.srcCursor.read(ws.block.bytes, 0, BLOCK);
    const t = ws.block.bytes;
    let hi = ((t[0]! << 24) | (t[1]! << 16) | (t[2]! << 8) | t[3]!) >>> 0;
    let lo = ((t[4]! << 24) | (t[5]! << 16) | (t[6]! << 8) | t[7]!) >>> 0;
    ws.srcCursor.seek(src.list, src.start);
    ws.dstCursor.seek(dst.list, dst.start);
    const room = ws.keystream.bytes.length;
    for (let left = src.length; left > 0;) {
      const chunk = Math.min(left, room);
      const blocks = Math.ceil(chunk / BLOCK);
      for (let b = 0; b < blocks; b++) {
        this.#stream.setUint32(b * BLOCK, hi);
        this.#stream.setUint32(b * BLOCK + 4, lo);
        lo = (lo + 1) >>> 0;
        if (lo === 0) hi = (hi + 1) >>> 0;
      }
      const ks = ws.keystream;
      if (!this.#ctx.update(ks.address, ks.address, blocks * BLOCK)) return fail();
      this.#xor(chunk);
      left -= chunk;
    }
    ws.keystream.bytes.fill(0, 0, Math.min(src.length + BLOCK, room)); // no key stream outlives its operation
    return Status.OK;
  }

  /** dst = src XOR key stream for the next `n` bytes of both cursors. */
  #xor(n: number): void {
    const sc = this.#ws.srcCursor;
    const dc = this.#ws.dstCursor;
    const ks = this.#ws.keystream.bytes;
    for (let k = 0; k < n;) {
      const run = Math.min(sc.avail, dc.avail, n - k);
      const from = sc.bytes;
      const to = dc.bytes;
      const s0 = sc.offset;
      const d0 = dc.offset;
      for (let j = 0; j < run; j++) to[d0 + j] = from[s0 + j]! ^ ks[k + j]!;
      sc.advance(run);
      dc.advance(run);
      k += run;
    }
  }

  close(): void {
    this.#ctx.free();
    this.#ws.keystream.bytes.fill(0);
  }
}
