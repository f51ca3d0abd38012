/**
 * `MacCore`: HMAC and CMAC through `EVP_MAC`, keyed once per session. Each operation restarts with
 * `EVP_MAC_init(ctx, NULL, 0, NULL)`, which keeps the key (HMAC re-uses its padded key states, CMAC its
 * subkeys).
 *
 * @module
 */

import { addressOf, libcrypto as C, takeOpenSslError } from "../../../ffi/libcrypto.ts";
import { EngineError } from "../engine.ts";
import type { AuthCore } from "./auth_core.ts";
import { OsslParams } from "./ossl_params.ts";
import { contiguousAddress, type Span } from "./span.ts";
import type { Workspace } from "./workspace.ts";
import { hostAddress, sizeT } from "./address.ts";

/** What a `MacCore` is built from. */
export interface MacCoreOptions {
  readonly ws: Workspace;
  /** The fetched `EVP_MAC` (`HMAC` or `CMAC`). */
  readonly mac: Deno.PointerObject;
  /** The MAC's algorithm parameter: `digest` (HMAC) or `cipher` (CMAC), and its value. */
  readonly param: { readonly key: "digest" | "cipher"; readonly value: string };
  readonly key: Uint8Array;
}

/** An HMAC or CMAC computation. */
export class MacCore implements AuthCore {
  readonly #ws: Workspace;
  #ctx: bigint;
  readonly #size: number;
  readonly #sizeBig: bigint;
  /** The algorithm parameter; kept referenced while its address may be in use. */
  readonly #params: OsslParams;

  /**
   * @param options Workspace, MAC, algorithm parameter, key.
   * @throws EngineError `invalid` when OpenSSL rejects the key, `nospc` when out of memory.
   */
  constructor(options: MacCoreOptions) {
    const { ws, key } = options;
    const ctx = addressOf(C.EVP_MAC_CTX_new(options.mac));
    if (ctx === 0n) throw new EngineError("nospc", "Cannot create session: EVP_MAC_CTX_new failed");
    const params = new OsslParams([options.param]);
    try {
      if (C.EVP_MAC_init(ctx, ws.stageKey(key), BigInt(key.length), params.address) !== 1) {
        throw new EngineError(
          "invalid",
          `Cannot create session: OpenSSL rejected the key: ${takeOpenSslError()}`,
        );
      }
    } catch (e) {
      C.EVP_MAC_CTX_free(ctx);
      throw e;
    } finally {
      ws.unstageKey();
    }
    this.#ws = ws;
    this.#ctx = ctx;
    this.#params = params;
    this.#size = Number(C.EVP_MAC_CTX_get_mac_size(ctx));
    this.#sizeBig = BigInt(this.#size);
  }

  /** Full MAC length in bytes. */
  get size(): number {
    return this.#size;
  }

  /** No engine-owned key copy: OpenSSL holds the key. */
  get keyCopies(): readonly Uint8Array[] {
    return [];
  }

  begin(): boolean {
    return C.EVP_MAC_init(this.#ctx, 0n, 0n, 0n) === 1;
  }

  feed(base: bigint, offset: number, length: number): boolean {
    return C.EVP_MAC_update(this.#ctx, hostAddress(base, offset), sizeT(length)) === 1;
  }

  finish(out: Span): boolean {
    const ws = this.#ws;
    if (out.length === this.#size) {
      const direct = contiguousAddress(out);
      if (direct >= 0n) return C.EVP_MAC_final(this.#ctx, direct, ws.outlSize, this.#sizeBig) === 1;
    }
    // A truncated MAC, or a result split over ranges: through engine scratch.
    if (C.EVP_MAC_final(this.#ctx, ws.tag.address, ws.outlSize, this.#sizeBig) !== 1) return false;
    ws.scatter(out, ws.tag.bytes);
    return true;
  }

  close(): void {
    if (this.#ctx !== 0n) C.EVP_MAC_CTX_free(this.#ctx);
    this.#ctx = 0n;
  }
}
