/**
 * `StreamAeadRunner`: AES-GCM and ChaCha20-Poly1305 sessions. One cipher context is keyed per session; each
 * operation sets its nonce, (decryption) the expected tag, feeds the AAD, streams `src` → `dst` range by range
 * (in place allowed), and finishes. A decryption whose tag does not match answers BADMSG and zeroes the
 * destination: the plaintext streamed there before the check is never released.
 *
 * Operation layout (`CryptoOp`): `iv` = nonce (GCM: 1..128 bytes, 12 recommended; ChaCha20-Poly1305: 12), `src` =
 * input without tag, `dst` = output (`src.total` bytes), `aad`, `digest` = tag (`tagLen` bytes: written on
 * encryption, read on decryption).
 *
 * @module
 */

import { Status } from "../../spec/virtio_crypto.ts";
import type { CryptoOp } from "../engine.ts";
import type { SgList } from "../sg_list.ts";
import { fail } from "./fail.ts";
import { CipherContext } from "./cipher_context.ts";
import type { OpRunner } from "./session.ts";
import { contiguousAddress, feedSpan, overlapsPartially, type Span, zeroSpan } from "./span.ts";
import type { Workspace } from "./workspace.ts";

/** What a stream AEAD runner is built from. */
export interface AeadRunnerOptions {
  readonly ws: Workspace;
  /** The fetched AEAD cipher. */
  readonly cipher: Deno.PointerObject;
  readonly key: Uint8Array;
  readonly encrypt: boolean;
  readonly tagLen: number;
  /** Accepted nonce lengths. */
  readonly nonceMin: number;
  readonly nonceMax: number;
}

/** Runs GCM and ChaCha20-Poly1305 operations. */
export class StreamAeadRunner implements OpRunner {
  readonly #ws: Workspace;
  readonly #ctx: CipherContext;
  readonly #encrypt: boolean;
  readonly #tagLen: number;
  readonly #nonceMin: number;
  readonly #nonceMax: number;
  #nonceLen: number;

  /**
   * @param options Cipher, key, direction, tag and nonce lengths.
   * @throws EngineError `invalid` when OpenSSL rejects the key.
   */
  constructor(options: AeadRunnerOptions) {
    this.#ws = options.ws;
    this.#ctx = new CipherContext(options);
    this.#encrypt = options.encrypt;
    this.#tagLen = options.tagLen;
    this.#nonceMin = options.nonceMin;
    this.#nonceMax = options.nonceMax;
    this.#nonceLen = this.#ctx.ivLength;
  }

  /** No engine-owned key copy: OpenSSL holds the key. */
  get keyCopies(): readonly Uint8Array[] {
    return [];
  }

  run(op: CryptoOp): number {
    const ws = this.#ws;
    const ctx = this.#ctx;
    const len = op.src.total;
    if (op.dst.total < len || op.digest.total < this.#tagLen) return Status.ERR;
    const src = ws.srcSpan.set(op.src, 0, len);
    const dst = ws.dstSpan.set(op.dst, 0, len);
    const tag = ws.auxSpan.set(op.digest, 0, this.#tagLen);
    if (overlapsPartially(src, dst) || !this.#restart(op.iv)) return fail();
    if (!this.#encrypt && !this.#expectTag(tag)) return fail();
    if (!feedSpan(ws.auxSpan.set(op.aad, 0, op.aad.total), ctx)) return fail();
    if (len > 0 && !ctx.crypt(src, dst, 1)) return this.#reject(dst, Status.ERR);
    if (!ctx.finish()) return this.#encrypt ? fail() : this.#reject(dst, Status.BADMSG);
    if (this.#encrypt && !this.#emitTag(ws.auxSpan.set(op.digest, 0, this.#tagLen))) return fail();
    return Status.OK;
  }

  #restart(iv: SgList): boolean {
    const len = iv.total;
    if (len < this.#nonceMin || len > this.#nonceMax) return false;
    if (len !== this.#nonceLen) {
      if (!this.#ctx.setIvLength(len)) return false;
      this.#nonceLen = len;
    }
    return this.#ctx.restartIv(this.#ws.ivAddress(iv, len));
  }

  /** Hands the expected tag to OpenSSL (it copies it at once, before `dst` is written). */
  #expectTag(tag: Span): boolean {
    let address = contiguousAddress(tag);
    if (address < 0n) {
      this.#ws.gather(tag, this.#ws.tag.bytes);
      address = this.#ws.tag.address;
    }
    return this.#ctx.setTag(address, tag.length);
  }

  #emitTag(tag: Span): boolean {
    const address = contiguousAddress(tag);
    if (address >= 0n) return this.#ctx.getTag(address, tag.length);
    if (!this.#ctx.getTag(this.#ws.tag.address, tag.length)) return false;
    this.#ws.scatter(tag, this.#ws.tag.bytes);
    return true;
  }

  /** A failed decryption: no plaintext leaves the engine. */
  #reject(dst: Span, status: number): number {
    zeroSpan(dst);
    fail();
    return status;
  }

  close(): void {
    this.#ctx.free();
  }
}
