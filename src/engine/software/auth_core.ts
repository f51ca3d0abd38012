/**
 * Authentication cores: what computes one hash or MAC for a hash session, a MAC session or a chain. A core is a
 * `Sink` (fed one contiguous run at a time), started by `begin` and ended by `finish`.
 *
 * Implementations: `DigestCore` (hashes, SHAKE), `MacCore` (HMAC, CMAC through `EVP_MAC`), `GmacCore` (GMAC on
 * the GCM cipher).
 *
 * @module
 */

import type { SgList } from "../sg_list.ts";
import type { Sink, Span } from "./span.ts";

/** One hash or MAC computation at a time, with the session's key and result length. */
export interface AuthCore extends Sink {
  /**
   * Starts a computation.
   *
   * @param iv The operation's IV list: GMAC's IV; ignored by the others.
   * @returns False when OpenSSL failed or the IV is unusable.
   */
  begin(iv: SgList): boolean;
  /**
   * Ends the computation and writes the result.
   *
   * @param out Where the result goes: exactly the session's result length.
   * @returns False when OpenSSL failed.
   */
  finish(out: Span): boolean;
  /** Engine-owned key copies (test hook). */
  readonly keyCopies: readonly Uint8Array[];
  /** Frees OpenSSL state (which cleanses the key). */
  close(): void;
}
