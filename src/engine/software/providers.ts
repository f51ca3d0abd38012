/**
 * OpenSSL providers and algorithm objects: loads the `default` and `legacy` providers once per process and
 * fetches the `EVP_CIPHER`, `EVP_MD` and `EVP_MAC` objects an engine uses.
 *
 * Providers go into OpenSSL's default library context. Loading one explicitly turns off the implicit loading of
 * `default`, so both are loaded here. `legacy` (DES, RC4) may be missing (`ossl-modules/legacy.so` is in
 * Debian's libssl3, not in every build); the engine then simply claims less.
 *
 * @module
 */

import { cString, libcrypto as C, openSslVersion } from "../../../ffi/libcrypto.ts";
import type { ProviderName } from "./algorithms.ts";

/** Which providers are loaded, and the OpenSSL version text. */
export interface ProviderSet {
  readonly default: boolean;
  readonly legacy: boolean;
  /** For example `OpenSSL 3.0.19 27 Jan 2026`. */
  readonly version: string;
}

let loaded: ProviderSet | undefined;

/**
 * Loads the providers (once per process; later calls return the first answer).
 *
 * @returns What is available.
 * @throws Error when the `default` provider cannot be loaded: the engine cannot work without it.
 */
export function loadProviders(): ProviderSet {
  if (loaded !== undefined) return loaded;
  // OSSL_PROVIDER handles are kept loaded for the life of the process: other engines may share them.
  const def = C.OSSL_PROVIDER_load(null, cString("default")) !== null;
  if (!def) throw new Error("Cannot load the OpenSSL default provider: libcrypto.so.3 is unusable");
  const legacy = C.OSSL_PROVIDER_load(null, cString("legacy")) !== null;
  C.ERR_clear_error();
  loaded = { default: def, legacy, version: openSslVersion().split(" ").slice(0, 2).join(" ") };
  return loaded;
}

/** The text `AlgorithmInfo.source` carries, such as `OpenSSL 3.0.19 (default provider)`. */
export function sourceText(set: ProviderSet, provider: ProviderName, note?: string): string {
  return `${set.version} (${provider} provider${note === undefined ? "" : `, ${note}`})`;
}

type Kind = "cipher" | "md" | "mac";

/**
 * The OpenSSL algorithm objects one engine has fetched, by kind and name; freed together by `close`.
 *
 * Fetching once and passing the object to `EVP_CipherInit_ex`/`EVP_DigestInit_ex` avoids an implicit fetch (a
 * name lookup and lock) per session or per operation.
 */
export class FetchedAlgorithms {
  readonly #objects = new Map<string, Deno.PointerObject | null>();

  /**
   * Fetches (or returns the cached) object.
   *
   * @param kind `cipher`, `md` or `mac`.
   * @param name The OpenSSL name, such as `AES-128-CBC`.
   * @returns The object, or null when no loaded provider has it.
   */
  get(kind: Kind, name: string): Deno.PointerObject | null {
    const key = `${kind}:${name}`;
    if (this.#objects.has(key)) return this.#objects.get(key)!;
    const fetch = kind === "cipher" ? C.EVP_CIPHER_fetch : kind === "md" ? C.EVP_MD_fetch : C.EVP_MAC_fetch;
    const object = fetch(null, cString(name), null);
    if (object === null) C.ERR_clear_error();
    this.#objects.set(key, object);
    return object;
  }

  /** Frees every fetched object (sessions hold their own references through their contexts). */
  close(): void {
    for (const [key, object] of this.#objects) {
      if (object === null) continue;
      if (key.startsWith("cipher:")) C.EVP_CIPHER_free(object);
      else if (key.startsWith("md:")) C.EVP_MD_free(object);
      else C.EVP_MAC_free(object);
    }
    this.#objects.clear();
  }
}
