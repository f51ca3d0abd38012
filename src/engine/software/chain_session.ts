/**
 * `ChainRunner`: algorithm-chaining sessions (a cipher plus a hash or MAC in one request).
 *
 * - CIPHER_THEN_HASH: the cipher turns `src[cipherOffset, +cipherLen)` into `dst` at the same offsets, then the
 *   hash or MAC covers `aad || dst[hashOffset, +hashLen)`.
 * - HASH_THEN_CIPHER: the hash or MAC covers `aad || src[hashOffset, +hashLen)`, then the cipher runs.
 *
 * The result (`resultLen` bytes) goes to `digest`. Bytes of `dst` outside the cipher region are the device's
 * business (it copies them), not the engine's.
 *
 * @module
 */

import { AlgChainOrder, Status } from "../../spec/virtio_crypto.ts";
import type { CryptoOp } from "../engine.ts";
import type { AuthCore } from "./auth_core.ts";
import type { CipherCore } from "./cipher_core.ts";
import { fail } from "./fail.ts";
import type { OpRunner } from "./session.ts";
import { feedSpan } from "./span.ts";
import type { Workspace } from "./workspace.ts";

/** What a `ChainRunner` is built from. */
export interface ChainRunnerOptions {
  readonly ws: Workspace;
  /** `AlgChainOrder.HASH_THEN_CIPHER` or `CIPHER_THEN_HASH`. */
  readonly order: number;
  readonly cipher: CipherCore;
  readonly auth: AuthCore;
  readonly resultLen: number;
}

/** Runs chained operations. */
export class ChainRunner implements OpRunner {
  readonly #ws: Workspace;
  readonly #cipherFirst: boolean;
  readonly #cipher: CipherCore;
  readonly #auth: AuthCore;
  readonly #resultLen: number;

  /**
   * @param options Order, cipher, hash or MAC, result length.
   */
  constructor(options: ChainRunnerOptions) {
    this.#ws = options.ws;
    this.#cipherFirst = options.order === AlgChainOrder.CIPHER_THEN_HASH;
    this.#cipher = options.cipher;
    this.#auth = options.auth;
    this.#resultLen = options.resultLen;
  }

  get keyCopies(): readonly Uint8Array[] {
    return [...this.#cipher.keyCopies, ...this.#auth.keyCopies];
  }

  run(op: CryptoOp): number {
    const { cipherOffset, cipherLen, hashOffset, hashLen } = op;
    const hashed = this.#cipherFirst ? op.dst : op.src;
    if (
      cipherOffset + cipherLen > op.src.total || cipherOffset + cipherLen > op.dst.total ||
      hashOffset + hashLen > hashed.total || op.digest.total < this.#resultLen
    ) return Status.ERR;
    if (!this.#cipherFirst && !this.#authenticate(op)) return fail();
    const ws = this.#ws;
    const status = this.#cipher.crypt(
      ws.srcSpan.set(op.src, cipherOffset, cipherLen),
      ws.dstSpan.set(op.dst, cipherOffset, cipherLen),
      op.iv,
    );
    if (status !== Status.OK) return status;
    return this.#cipherFirst && !this.#authenticate(op) ? fail() : Status.OK;
  }

  /** Hash or MAC over `aad || region`, into `digest`. */
  #authenticate(op: CryptoOp): boolean {
    const ws = this.#ws;
    const auth = this.#auth;
    const region = ws.auxSpan.set(this.#cipherFirst ? op.dst : op.src, op.hashOffset, op.hashLen);
    return auth.begin(op.iv) && feedSpan(ws.srcSpan.set(op.aad, 0, op.aad.total), auth) &&
      feedSpan(region, auth) &&
      auth.finish(ws.auxSpan.set(op.digest, 0, this.#resultLen));
  }

  close(): void {
    this.#cipher.close();
    this.#auth.close();
  }
}
