/**
 * `CcmRunner`: AES-CCM sessions (NIST SP 800-38C, RFC 3610).
 *
 * CCM fixes the nonce length L and tag length M in the key setup (`CRYPTO_ccm128_init`), takes the AAD in one
 * call and the message in one call. So each operation sets the nonce length and tag, re-keys from the session's
 * engine-owned key copy, and processes AAD and message in one EVP call each; AAD or message spanning several
 * ranges is gathered into the workspace bounce buffer (at most `MAX_GATHER` bytes in all, else ERR). A
 * decryption whose tag does not match answers BADMSG and leaves zeros in the destination.
 *
 * Nonce convention: the engine takes `op.iv` as exactly the nonce bytes (7 to 13); the device passes the
 * request's `iv_len` IV bytes as the nonce (see `CryptoOp` for why the draft's reserved-byte note is not used).
 *
 * @module
 */

import { Status } from "../../spec/virtio_crypto.ts";
import type { CryptoOp } from "../engine.ts";
import { fail } from "./fail.ts";
import { CipherContext } from "./cipher_context.ts";
import { KeyCopy } from "./key_copy.ts";
import type { OpRunner } from "./session.ts";
import { contiguousAddress, MAX_UPDATE, overlapsPartially, type Span, zeroSpan } from "./span.ts";
import { MAX_GATHER, type Workspace } from "./workspace.ts";
import { hostAddress } from "./address.ts";

/** What a `CcmRunner` is built from. */
export interface CcmRunnerOptions {
  readonly ws: Workspace;
  /** The fetched `AES-*-CCM` cipher. */
  readonly cipher: Deno.PointerObject;
  readonly key: Uint8Array;
  readonly encrypt: boolean;
  readonly tagLen: number;
}

/** Runs CCM operations. */
export class CcmRunner implements OpRunner {
  readonly #ws: Workspace;
  readonly #ctx: CipherContext;
  readonly #key: KeyCopy;
  readonly #encrypt: boolean;
  readonly #tagLen: number;

  /**
   * @param options Cipher, key, direction, tag length.
   * @throws EngineError `invalid` when OpenSSL rejects the key.
   */
  constructor(options: CcmRunnerOptions) {
    this.#ws = options.ws;
    // Keyed once here so a bad key fails at session creation; every operation keys again.
    this.#ctx = new CipherContext(options);
    this.#key = new KeyCopy(options.key);
    this.#encrypt = options.encrypt;
    this.#tagLen = options.tagLen;
  }

  /** The key copy CCM re-keys from. */
  get keyCopies(): readonly Uint8Array[] {
    return [this.#key.bytes];
  }

  run(op: CryptoOp): number {
    const ws = this.#ws;
    const len = op.src.total;
    const nonceLen = op.iv.total;
    if (
      len > MAX_UPDATE || op.dst.total < len || op.digest.total < this.#tagLen || nonceLen < 7 ||
      nonceLen > 13
    ) {
      return Status.ERR;
    }
    const src = ws.srcSpan.set(op.src, 0, len);
    const dst = ws.dstSpan.set(op.dst, 0, len);
    const tag = ws.auxSpan.set(op.digest, 0, this.#tagLen);
    if (overlapsPartially(src, dst) || !this.#restart(op, tag)) return fail();
    if (!this.#ctx.update(0n, 0n, len)) return fail(); // the message length goes into B0, before the AAD
    const status = this.#process(op, src, dst);
    if (status !== Status.OK) {
      zeroSpan(dst);
      fail();
      return status;
    }
    return this.#encrypt && !this.#emitTag(ws.auxSpan.set(op.digest, 0, this.#tagLen)) ? fail() : Status.OK;
  }

  /** Nonce length, tag (value on decryption, length on encryption), then key and nonce. */
  #restart(op: CryptoOp, tag: Span): boolean {
    const ws = this.#ws;
    const ctx = this.#ctx;
    if (!ctx.setIvLength(op.iv.total)) return false;
    let tagAddress = 0n;
    if (!this.#encrypt) {
      tagAddress = contiguousAddress(tag);
      if (tagAddress < 0n) {
        ws.gather(tag, ws.tag.bytes);
        tagAddress = ws.tag.address;
      }
    }
    return ctx.setTag(tagAddress, this.#tagLen) &&
      ctx.restartKey(this.#key.address, ws.ivAddress(op.iv, op.iv.total));
  }

  /** AAD in one call, then the message in one call (decryption checks the tag here). */
  #process(op: CryptoOp, src: Span, dst: Span): number {
    const ws = this.#ws;
    const aadLen = op.aad.total;
    const len = src.length;
    let aad = aadLen === 0 ? -1n : contiguousAddress(ws.auxSpan.set(op.aad, 0, aadLen));
    let input = contiguousAddress(src);
    let out = contiguousAddress(dst);
    const gatherMessage = len > 0 && (input < 0n || out < 0n);
    const need = (aad < 0n ? aadLen : 0) + (gatherMessage ? len : 0);
    const bounce = need > 0 ? ws.bounce(need) : null;
    if (need > MAX_GATHER || (need > 0 && bounce === null)) return Status.ERR;
    if (aad < 0n && aadLen > 0) {
      ws.gather(ws.auxSpan.set(op.aad, 0, aadLen), bounce!.bytes);
      aad = bounce!.address;
    }
    if (aadLen > 0 && !this.#ctx.update(0n, aad, aadLen)) return Status.ERR;
    const at = aad === bounce?.address ? aadLen : 0;
    if (gatherMessage) {
      ws.srcCursor.seek(src.list, src.start);
      ws.srcCursor.read(bounce!.bytes, at, len);
      input = out = hostAddress(bounce!.address, at);
    } else if (len === 0) {
      input = out = ws.block.address; // CCM computes the tag only when given non-NULL in and out
    }
    const ok = this.#ctx.update(out, input, len);
    if (ok && gatherMessage) this.#scatter(dst, bounce!.bytes, at);
    bounce?.bytes.fill(0, 0, need);
    return ok ? Status.OK : this.#encrypt ? Status.ERR : Status.BADMSG;
  }

  #scatter(dst: Span, from: Uint8Array, at: number): void {
    this.#ws.dstCursor.seek(dst.list, dst.start);
    this.#ws.dstCursor.write(from, at, dst.length);
  }

  #emitTag(tag: Span): boolean {
    const address = contiguousAddress(tag);
    if (address >= 0n) return this.#ctx.getTag(address, tag.length);
    if (!this.#ctx.getTag(this.#ws.tag.address, tag.length)) return false;
    this.#ws.scatter(tag, this.#ws.tag.bytes);
    return true;
  }

  close(): void {
    this.#ctx.free();
    this.#key.wipe();
  }
}
