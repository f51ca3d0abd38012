/**
 * `DigestCore`: a hash (MD5, SHA-1, SHA-2, SHA-3) or an extendable-output function (SHAKE128/256) on one
 * `EVP_MD_CTX` kept for the session.
 *
 * @module
 */

import { addressOf, libcrypto as C } from "../../../ffi/libcrypto.ts";
import { EngineError } from "../engine.ts";
import type { AuthCore } from "./auth_core.ts";
import { contiguousAddress, type Span } from "./span.ts";
import type { Workspace } from "./workspace.ts";
import { hostAddress, sizeT } from "./address.ts";

/** What a `DigestCore` is built from. */
export interface DigestCoreOptions {
  readonly ws: Workspace;
  /** The fetched `EVP_MD`. */
  readonly md: Deno.PointerObject;
  /** SHAKE: the result length is free; otherwise the digest is truncated to the result length. */
  readonly xof: boolean;
}

/** A hash computation. */
export class DigestCore implements AuthCore {
  readonly #ws: Workspace;
  readonly #md: bigint;
  #ctx: bigint;
  readonly #xof: boolean;
  readonly #size: number;

  /**
   * @param options Workspace, digest, XOF flag.
   * @throws EngineError `nospc` when OpenSSL is out of memory.
   */
  constructor(options: DigestCoreOptions) {
    this.#ctx = addressOf(C.EVP_MD_CTX_new());
    if (this.#ctx === 0n) throw new EngineError("nospc", "Cannot create session: EVP_MD_CTX_new failed");
    this.#ws = options.ws;
    this.#md = addressOf(options.md);
    this.#xof = options.xof;
    this.#size = C.EVP_MD_get_size(options.md);
  }

  /** Digest size in bytes (SHAKE: its default output length). */
  get size(): number {
    return this.#size;
  }

  /** No key. */
  get keyCopies(): readonly Uint8Array[] {
    return [];
  }

  begin(): boolean {
    return C.EVP_DigestInit_ex(this.#ctx, this.#md, 0n) === 1;
  }

  feed(base: bigint, offset: number, length: number): boolean {
    return C.EVP_DigestUpdate(this.#ctx, hostAddress(base, offset), sizeT(length)) === 1;
  }

  finish(out: Span): boolean {
    if (this.#xof || out.length === this.#size) {
      const direct = contiguousAddress(out);
      if (direct >= 0n) return this.#final(direct, out.length);
    }
    // A truncated digest, or a result split over ranges: through engine scratch.
    const ws = this.#ws;
    const scratch = this.#xof ? ws.bounce(out.length) : ws.tag;
    if (scratch === null || !this.#final(scratch.address, out.length)) return false;
    ws.scatter(out, scratch.bytes);
    return true;
  }

  #final(address: bigint, len: number): boolean {
    if (this.#xof) return C.EVP_DigestFinalXOF(this.#ctx, address, sizeT(len)) === 1;
    return C.EVP_DigestFinal_ex(this.#ctx, address, 0n) === 1;
  }

  close(): void {
    if (this.#ctx !== 0n) C.EVP_MD_CTX_free(this.#ctx);
    this.#ctx = 0n;
  }
}
