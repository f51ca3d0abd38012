/**
 * `Catalog`: what one software engine claims — the algorithm table (`algorithms.ts`) narrowed to what the host's
 * OpenSSL providers can fetch, key length by key length — and the `Capabilities` it reports.
 *
 * @module
 */

import type { AlgorithmInfo, Capabilities } from "../engine.ts";
import {
  type AeadEntry,
  AEADS,
  type CipherEntry,
  CIPHERS,
  type HashEntry,
  HASHES,
  type MacEntry,
  MACS,
  MAX_AUTH_KEY_LEN,
} from "./algorithms.ts";
import { type FetchedAlgorithms, type ProviderSet, sourceText } from "./providers.ts";

/** The claimed algorithms, by specification id, with only the key lengths OpenSSL can serve. */
export class Catalog {
  /** Claimed ciphers. */
  readonly ciphers: ReadonlyMap<number, CipherEntry>;
  /** Claimed hashes. */
  readonly hashes: ReadonlyMap<number, HashEntry>;
  /** Claimed MACs. */
  readonly macs: ReadonlyMap<number, MacEntry>;
  /** Claimed AEADs. */
  readonly aeads: ReadonlyMap<number, AeadEntry>;
  /** The engine's capabilities report. */
  readonly capabilities: Capabilities;

  /**
   * Probes every table entry by fetching its OpenSSL objects.
   *
   * @param fetched The engine's fetched objects (probing fills it).
   * @param providers The loaded providers.
   * @param legacy Whether to claim `legacy` provider algorithms (DES, ARC4) at all.
   */
  constructor(fetched: FetchedAlgorithms, providers: ProviderSet, legacy: boolean) {
    const useLegacy = legacy && providers.legacy;
    this.ciphers = narrow(CIPHERS, (e) => (e.provider === "legacy" && !useLegacy ? [] : e.keyLengths.filter(
      (k) => fetched.get("cipher", e.evpName(k)) !== null,
    )));
    this.hashes = new Map([...HASHES].filter(([, e]) => fetched.get("md", e.evpName) !== null));
    this.macs = narrow(MACS, (e) => e.keyLengths.filter((k) => macAvailable(fetched, e, k)));
    this.aeads = narrow(
      AEADS,
      (e) => e.keyLengths.filter((k) => fetched.get("cipher", e.evpName(k)) !== null),
    );
    this.capabilities = this.#report(providers);
  }

  #report(providers: ProviderSet): Capabilities {
    const info = (
      name: string,
      keyLengths: readonly number[],
      provider: "default" | "legacy",
      note?: string,
    ) =>
      Object.freeze({
        name,
        keyLengths: Object.freeze([...keyLengths]),
        source: sourceText(providers, provider, note),
      });
    const map = <E>(m: ReadonlyMap<number, E>, f: (e: E) => AlgorithmInfo) =>
      new Map([...m].map(([id, e]) => [id, f(e)] as const));
    const cipherKeys = [...this.ciphers.values(), ...this.aeads.values()].flatMap((e) => e.keyLengths);
    const macKeys = [...this.macs.values()].flatMap((e) => e.keyLengths);
    return Object.freeze({
      cipher: map(
        this.ciphers,
        (e) =>
          info(e.name, e.keyLengths, e.provider, e.kind === "ctr64" ? "CTR mode by cryptobridge" : undefined),
      ),
      hash: map(this.hashes, (e) => info(e.name, [], "default")),
      mac: map(
        this.macs,
        (e) => info(e.name, e.keyLengths, e.provider, e.kind === "gmac" ? "on AES-GCM" : undefined),
      ),
      aead: map(this.aeads, (e) => info(e.name, e.keyLengths, "default")),
      akcipher: new Map<number, AlgorithmInfo>(),
      chaining: this.ciphers.size > 0 && (this.hashes.size > 0 || this.macs.size > 0),
      maxCipherKeyLen: Math.max(0, ...cipherKeys),
      maxAuthKeyLen: Math.min(MAX_AUTH_KEY_LEN, Math.max(0, ...macKeys)),
    });
  }
}

/** Keeps the entries with at least one servable key length, narrowed to those lengths. */
function narrow<E extends { readonly keyLengths: readonly number[] }>(
  table: ReadonlyMap<number, E>,
  servable: (entry: E) => readonly number[],
): ReadonlyMap<number, E> {
  const out = new Map<number, E>();
  for (const [id, entry] of table) {
    const keyLengths = servable(entry);
    if (keyLengths.length > 0) out.set(id, { ...entry, keyLengths });
  }
  return out;
}

function macAvailable(fetched: FetchedAlgorithms, entry: MacEntry, keyLen: number): boolean {
  const name = entry.evpName(keyLen);
  switch (entry.kind) {
    case "hmac":
      return fetched.get("mac", "HMAC") !== null && fetched.get("md", name) !== null;
    case "cmac":
      return fetched.get("mac", "CMAC") !== null && fetched.get("cipher", name) !== null;
    case "gmac":
      return fetched.get("cipher", name) !== null;
  }
}
