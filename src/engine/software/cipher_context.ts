/**
 * `CipherContext`: one `EVP_CIPHER_CTX`, keyed once per session, and the per-operation calls the cipher, AEAD
 * and GMAC cores make on it: restart with a new IV, feed AAD, run the cipher over a source span into a
 * destination span range by range (in place when allowed), finish, and read or set the tag.
 *
 * Every per-operation call passes only primitives — the context, `outl` and data as `bigint` addresses, lengths
 * as numbers — which V8 turns into a fast call with no allocation at all (ffi/libcrypto.ts).
 *
 * @module
 */

import { addressOf, EvpCtrl, libcrypto as C, takeOpenSslError } from "../../../ffi/libcrypto.ts";
import { EngineError } from "../engine.ts";
import { MAX_UPDATE, type Sink, type Span } from "./span.ts";
import type { Workspace } from "./workspace.ts";
import { hostAddress } from "./address.ts";
import type { HostMemory } from "../host_memory.ts";

/** What a `CipherContext` is opened with. */
export interface CipherContextOptions {
  readonly ws: Workspace;
  /** The fetched `EVP_CIPHER`. */
  readonly cipher: Deno.PointerObject;
  /** The key; null to leave the context unkeyed (keyed per operation, see `restartKey`). */
  readonly key: Uint8Array | null;
  readonly encrypt: boolean;
  /** Set the key length first (variable-length ciphers: RC4). */
  readonly keyLength?: number;
}

/** An `EVP_CIPHER_CTX` owned by one session. */
export class CipherContext implements Sink {
  /** The `EVP_CIPHER_CTX *` as an address (0n once freed): see ffi/libcrypto.ts for why not a pointer object. */
  #ctx: bigint;
  readonly #ws: Workspace;
  readonly #outl: bigint;
  /** The cipher's IV length when opened (its default nonce length for AEADs: 12 for GCM and ChaCha20-Poly1305). */
  readonly ivLength: number;

  /**
   * Creates the context with cipher, direction, no padding and (optionally) the key.
   *
   * The key goes through the workspace's staging buffer, zeroed right after; OpenSSL keeps its own copy (the key
   * schedule), cleansed by `EVP_CIPHER_CTX_free`.
   *
   * @param options What to open.
   * @throws EngineError `invalid` when OpenSSL rejects the key (XTS with equal halves), `nospc` out of memory.
   */
  constructor(options: CipherContextOptions) {
    const ctx = addressOf(C.EVP_CIPHER_CTX_new());
    if (ctx === 0n) throw new EngineError("nospc", "Cannot create session: EVP_CIPHER_CTX_new failed");
    const { ws, key } = options;
    try {
      let ok =
        C.EVP_CipherInit_ex(ctx, addressOf(options.cipher), 0n, 0n, 0n, options.encrypt ? 1 : 0) === 1 &&
        C.EVP_CIPHER_CTX_set_padding(ctx, 0) === 1;
      if (ok && options.keyLength !== undefined) {
        ok = C.EVP_CIPHER_CTX_set_key_length(ctx, options.keyLength) === 1;
      }
      if (ok && key !== null) ok = C.EVP_CipherInit_ex(ctx, 0n, 0n, ws.stageKey(key), 0n, -1) === 1;
      if (!ok) {
        throw new EngineError(
          "invalid",
          `Cannot create session: OpenSSL rejected the key: ${takeOpenSslError()}`,
        );
      }
    } catch (e) {
      C.EVP_CIPHER_CTX_free(ctx);
      throw e;
    } finally {
      ws.unstageKey();
    }
    this.#ctx = ctx;
    this.#ws = ws;
    this.ivLength = C.EVP_CIPHER_get_iv_length(options.cipher);
    this.#outl = ws.outl;
  }

  /** Whether `free` was called. */
  get freed(): boolean {
    return this.#ctx === 0n;
  }

  /**
   * Restarts with a new IV, keeping key and direction (`EVP_CipherInit_ex(ctx, NULL, NULL, NULL, iv, -1)`).
   *
   * @param iv Address of the IV (its length is the context's current IV length).
   * @returns False when OpenSSL failed.
   */
  restartIv(iv: bigint): boolean {
    return C.EVP_CipherInit_ex(this.#ctx, 0n, 0n, 0n, iv, -1) === 1;
  }

  /**
   * The IV that CBC chains through, as OpenSSL's provider holds it (`EVP_CIPHER_CTX_iv_noconst`): writing the
   * next request's IV there restarts the chain as `restartIv` does, without the call, whose parameter look-ups
   * (`OSSL_PARAM_locate`, `strcmp`) were ~14% of a 64 B request. Trusted only if two IVs set through `restartIv`
   * both show up in it; else null (keep using `restartIv`). Valid until `free()`. Only for whole-block CBC with
   * padding off: its context then holds nothing else between requests (no partial block, no counter position).
   *
   * @param len The IV length.
   * @param probe Scratch of at least `len` bytes (engine memory), zeroed afterwards.
   * @returns A view of the live IV, or null.
   */
  chainingIv(len: number, probe: HostMemory): Uint8Array | null {
    const ivNoconst = C.EVP_CIPHER_CTX_iv_noconst;
    const pointer = ivNoconst === null || len === 0 ? null : ivNoconst(this.#ctx);
    if (pointer === null) return null;
    const live = new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(pointer, len));
    let trusted = true;
    for (const pattern of [0x5a, 0xc3]) {
      for (let i = 0; i < len; i++) probe.bytes[i] = (pattern + 7 * i) & 0xff;
      trusted &&= this.restartIv(probe.address) && live.every((b, i) => b === probe.bytes[i]);
    }
    probe.bytes.fill(0, 0, len);
    return trusted ? live : null;
  }

  /**
   * Restarts with key and IV (ARC4 restarts its key stream; CCM re-keys after a nonce length change).
   *
   * @param key Address of the key.
   * @param iv Address of the IV, or 0n.
   * @returns False when OpenSSL failed.
   */
  restartKey(key: bigint, iv: bigint): boolean {
    return C.EVP_CipherInit_ex(this.#ctx, 0n, 0n, key, iv, -1) === 1;
  }

  /**
   * Sets the AEAD nonce length (`EVP_CTRL_AEAD_SET_IVLEN`); takes effect at the next restart.
   *
   * @param len Nonce length in bytes.
   * @returns False when OpenSSL refused it.
   */
  setIvLength(len: number): boolean {
    return C.EVP_CIPHER_CTX_ctrl(this.#ctx, EvpCtrl.AEAD_SET_IVLEN, len, 0n) === 1;
  }

  /**
   * Sets the expected tag before decryption, or (address 0n) only the tag length (CCM).
   *
   * @param address Address of the tag, or 0n.
   * @param len Tag length.
   * @returns False when OpenSSL refused it.
   */
  setTag(address: bigint, len: number): boolean {
    return C.EVP_CIPHER_CTX_ctrl(this.#ctx, EvpCtrl.AEAD_SET_TAG, len, address) === 1;
  }

  /**
   * Reads the tag after encryption.
   *
   * @param address Where to write it.
   * @param len Tag length (GCM: the leading bytes of the full tag).
   * @returns False when OpenSSL failed.
   */
  getTag(address: bigint, len: number): boolean {
    return C.EVP_CIPHER_CTX_ctrl(this.#ctx, EvpCtrl.AEAD_GET_TAG, len, address) === 1;
  }

  /**
   * One `EVP_CipherUpdate`. For AEADs, `out` 0n feeds AAD, and `out` and `input` 0n set CCM's message length.
   *
   * @param out Output address, or 0n.
   * @param input Input address, or 0n.
   * @param len Length (at most `MAX_UPDATE`).
   * @returns False when OpenSSL failed (CCM decryption: the tag did not match).
   */
  update(out: bigint, input: bigint, len: number): boolean {
    return C.EVP_CipherUpdate(this.#ctx, out, this.#outl, input, len) === 1;
  }

  /** `Sink`: feeds a run of AAD. */
  feed(base: bigint, offset: number, length: number): boolean {
    return C.EVP_CipherUpdate(this.#ctx, 0n, this.#outl, hostAddress(base, offset), length) === 1;
  }

  /**
   * `EVP_CipherFinal_ex`: computes (encryption) or checks (decryption) the AEAD tag.
   *
   * @returns False when OpenSSL failed; for a GCM/ChaCha20-Poly1305 decryption, the tag did not match.
   */
  finish(): boolean {
    return C.EVP_CipherFinal_ex(this.#ctx, this.#ws.block.address, this.#outl) === 1;
  }

  /**
   * Runs the cipher over `src` into `dst` (same length), one `EVP_CipherUpdate` per contiguous run of both.
   *
   * A single range on both sides (the common request) is one call, in place or not. Otherwise runs are cut at
   * every range boundary of either list and at block multiples; a block that straddles a boundary is gathered
   * into the workspace block, processed there and scattered, so EVP always gets whole blocks and never buffers
   * (its output then lands exactly where its input came from).
   *
   * @param src Input span; its length is a multiple of `unit` (the caller's check).
   * @param dst Output span, same length.
   * @param unit Block size for ECB/CBC, 1 for stream modes.
   * @returns False when OpenSSL failed.
   */
  crypt(src: Span, dst: Span, unit: number): boolean {
    const s = src.list;
    const d = dst.list;
    if (s.count === 1 && d.count === 1 && src.length <= MAX_UPDATE) {
      const out = hostAddress(d.memory[0]!.address, d.offset[0]! + dst.start);
      const input = hostAddress(s.memory[0]!.address, s.offset[0]! + src.start);
      return C.EVP_CipherUpdate(this.#ctx, out, this.#outl, input, src.length) === 1;
    }
    return this.#cryptSegmented(src, dst, unit);
  }

  #cryptSegmented(src: Span, dst: Span, unit: number): boolean {
    const ws = this.#ws;
    const sc = ws.srcCursor;
    const dc = ws.dstCursor;
    const block = ws.block;
    sc.seek(src.list, src.start);
    dc.seek(dst.list, dst.start);
    for (let left = src.length; left > 0;) {
      let n = Math.min(sc.avail, dc.avail, left, MAX_UPDATE);
      n -= n % unit;
      if (n > 0) {
        if (!this.update(dc.address(), sc.address(), n)) return false;
        sc.advance(n);
        dc.advance(n);
      } else {
        n = unit;
        sc.read(block.bytes, 0, n);
        if (!this.update(block.address, block.address, n)) return false;
        dc.write(block.bytes, 0, n);
      }
      left -= n;
    }
    return true;
  }

  /** Frees the context (OpenSSL cleanses the key schedule). Idempotent. */
  free(): void {
    if (this.#ctx !== 0n) C.EVP_CIPHER_CTX_free(this.#ctx);
    this.#ctx = 0n;
  }
}
