/**
 * `GmacCore`: GMAC-AES (NIST SP 800-38D §3: GCM with an empty plaintext, the message taken as AAD) on an AES-GCM
 * cipher context keyed once per session.
 *
 * The specification's MAC request has no IV field; this engine takes GMAC's IV from `op.iv` (12 bytes is the
 * recommended length; 1 to 128 bytes are accepted, as for GCM). The device fills `op.iv` from the leading bytes
 * of the request's source (see `CryptoOp` and docs/engine.md).
 *
 * @module
 */

import type { SgList } from "../sg_list.ts";
import type { AuthCore } from "./auth_core.ts";
import { CipherContext } from "./cipher_context.ts";
import { contiguousAddress, type Span } from "./span.ts";
import type { Workspace } from "./workspace.ts";

/** Longest GCM IV the OpenSSL provider takes (`GCM_IV_MAX_SIZE`). */
export const GCM_IV_MAX = 128;

/** What a `GmacCore` is built from. */
export interface GmacCoreOptions {
  readonly ws: Workspace;
  /** The fetched `AES-*-GCM` cipher. */
  readonly cipher: Deno.PointerObject;
  readonly key: Uint8Array;
}

/** A GMAC computation. */
export class GmacCore implements AuthCore {
  readonly #ws: Workspace;
  readonly #ctx: CipherContext;
  #ivLen: number;

  /**
   * @param options Workspace, GCM cipher, key.
   * @throws EngineError `invalid` when OpenSSL rejects the key.
   */
  constructor(options: GmacCoreOptions) {
    this.#ws = options.ws;
    this.#ctx = new CipherContext({
      ws: options.ws,
      cipher: options.cipher,
      key: options.key,
      encrypt: true,
    });
    this.#ivLen = this.#ctx.ivLength;
  }

  /** Full GMAC length: 16 bytes. */
  get size(): number {
    return 16;
  }

  /** No engine-owned key copy: OpenSSL holds the key. */
  get keyCopies(): readonly Uint8Array[] {
    return [];
  }

  begin(iv: SgList): boolean {
    const len = iv.total;
    if (len < 1 || len > GCM_IV_MAX) return false;
    if (len !== this.#ivLen) {
      if (!this.#ctx.setIvLength(len)) return false;
      this.#ivLen = len;
    }
    return this.#ctx.restartIv(this.#ws.ivAddress(iv, len));
  }

  feed(base: bigint, offset: number, length: number): boolean {
    return this.#ctx.feed(base, offset, length);
  }

  finish(out: Span): boolean {
    if (!this.#ctx.finish()) return false;
    const direct = contiguousAddress(out);
    if (direct >= 0n) return this.#ctx.getTag(direct, out.length);
    if (!this.#ctx.getTag(this.#ws.tag.address, out.length)) return false;
    this.#ws.scatter(out, this.#ws.tag.bytes);
    return true;
  }

  close(): void {
    this.#ctx.free();
  }
}
