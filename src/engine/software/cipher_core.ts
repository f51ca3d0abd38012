/**
 * Cipher cores: what runs one cipher pass of a cipher session or of a chain. `EvpCipherCore` serves every
 * cipher OpenSSL has as such (AES ECB/CBC/CTR/XTS, DES, 3DES ECB/CBC, ARC4); `Ctr64Core` (`ctr64_core.ts`) builds
 * 3DES-CTR.
 *
 * @module
 */

import { Status } from "../../spec/virtio_crypto.ts";
import type { SgList } from "../sg_list.ts";
import type { CipherEntry } from "./algorithms.ts";
import { CipherContext } from "./cipher_context.ts";
import { fail } from "./fail.ts";
import { KeyCopy } from "./key_copy.ts";
import { contiguousAddress, MAX_UPDATE, overlapsPartially, type Span } from "./span.ts";
import type { Workspace } from "./workspace.ts";

/** One cipher pass: `src` → `dst` under the session's key and direction, with the operation's IV. */
export interface CipherCore {
  /**
   * Encrypts or decrypts `src` into `dst` (same length; in place when they are the same bytes).
   *
   * @param src Input span.
   * @param dst Output span.
   * @param iv The operation's IV list (ignored by modes without IV).
   * @returns `Status.OK`, or `Status.ERR` (bad length, bad IV length, partial overlap, OpenSSL failure).
   */
  crypt(src: Span, dst: Span, iv: SgList): number;
  /** Engine-owned key copies (test hook: zeroed after `close`). */
  readonly keyCopies: readonly Uint8Array[];
  /** Frees OpenSSL state and zeroes key copies. */
  close(): void;
}

/** What a cipher core is built from. */
export interface CipherCoreOptions {
  readonly ws: Workspace;
  readonly entry: CipherEntry;
  /** The fetched `EVP_CIPHER` for the key length. */
  readonly cipher: Deno.PointerObject;
  readonly key: Uint8Array;
  readonly encrypt: boolean;
}

/** A cipher that OpenSSL runs directly. */
export class EvpCipherCore implements CipherCore {
  readonly #ws: Workspace;
  readonly #ctx: CipherContext;
  readonly #unit: number;
  readonly #minLen: number;
  readonly #ivLen: number;
  readonly #whole: boolean;
  /** ARC4 only: the key, set again per operation to restart the key stream. */
  readonly #key: KeyCopy | null;
  /** CBC: OpenSSL's chaining IV, written per operation instead of an `EVP_CipherInit_ex` (null: not trusted). */
  readonly #chainingIv: Uint8Array | null;
  /** An operation failed: the next one restarts through `EVP_CipherInit_ex`, which resets the whole context. */
  #dirty = false;

  /**
   * @param options Entry, fetched cipher, key, direction.
   * @throws EngineError `invalid` when OpenSSL rejects the key.
   */
  constructor(options: CipherCoreOptions) {
    const { entry, key } = options;
    this.#ws = options.ws;
    const rekey = entry.kind === "rekey";
    this.#ctx = new CipherContext({
      ws: options.ws,
      cipher: options.cipher,
      key,
      encrypt: options.encrypt,
      ...(rekey ? { keyLength: key.length } : {}),
    });
    this.#key = rekey ? new KeyCopy(key) : null;
    this.#unit = entry.unit;
    this.#minLen = entry.minLen;
    this.#ivLen = entry.ivLen;
    this.#whole = entry.kind === "whole";
    // CBC (the block modes with an IV): restart by writing the IV where OpenSSL chains through it.
    const cbc = entry.kind === "block" && entry.ivLen > 0;
    this.#chainingIv = cbc ? this.#ctx.chainingIv(entry.ivLen, options.ws.iv) : null;
  }

  /** Engine-owned key copies (ARC4 only). */
  get keyCopies(): readonly Uint8Array[] {
    return this.#key === null ? [] : [this.#key.bytes];
  }

  crypt(src: Span, dst: Span, iv: SgList): number {
    const len = src.length;
    if (len % this.#unit !== 0 || len < this.#minLen || overlapsPartially(src, dst)) return Status.ERR;
    if (!this.#restart(iv)) return fail();
    if (len === 0) return Status.OK;
    const ok = this.#whole ? this.#cryptWhole(src, dst) : this.#ctx.crypt(src, dst, this.#unit);
    if (ok) return Status.OK;
    this.#dirty = true; // what a failed update left in the context is unknown: the next request re-inits
    return fail();
  }

  /** Sets the operation's IV (or, for ARC4, the key again); ECB needs nothing. */
  #restart(iv: SgList): boolean {
    if (this.#key !== null) return this.#ctx.restartKey(this.#key.address, 0n);
    if (this.#ivLen === 0) return true;
    if (iv.total !== this.#ivLen) return false;
    const live = this.#chainingIv;
    if (live !== null && !this.#dirty) {
      copyIv(iv, live, this.#ivLen, this.#ws);
      return true;
    }
    this.#dirty = false;
    return this.#ctx.restartIv(this.#ws.ivAddress(iv, this.#ivLen));
  }

  /** XTS: the message is one data unit, so one EVP call; gather it when it spans ranges. */
  #cryptWhole(src: Span, dst: Span): boolean {
    const len = src.length;
    if (len > MAX_UPDATE) return false;
    const input = contiguousAddress(src);
    const out = contiguousAddress(dst);
    if (input >= 0n && out >= 0n) return this.#ctx.update(out, input, len);
    const bounce = this.#ws.bounce(len);
    if (bounce === null) return false;
    this.#ws.gather(src, bounce.bytes);
    const ok = this.#ctx.update(bounce.address, bounce.address, len);
    if (ok) this.#ws.scatter(dst, bounce.bytes);
    bounce.bytes.fill(0, 0, len);
    return ok;
  }

  close(): void {
    this.#ctx.free();
    this.#key?.wipe();
  }
}

// The IV of one request into OpenSSL's chaining IV: a byte loop when it lies in one range (the usual request;
// cheaper than a cursor or a `subarray` view), else through the workspace's cursor.
function copyIv(iv: SgList, to: Uint8Array, len: number, ws: Workspace): void {
  if (iv.count === 1) {
    const bytes = iv.memory[0]!.bytes;
    const at = iv.offset[0]!;
    for (let i = 0; i < len; i++) to[i] = bytes[at + i]!;
    return;
  }
  ws.srcCursor.seek(iv, 0);
  ws.srcCursor.read(to, 0, len);
}
