/**
 * Capability tables: whether an engine serves a session's parameters, and the union of two engines' tables
 * (what a device may advertise when a router sits in front of both).
 *
 * @module
 */

import type { AlgorithmInfo, Capabilities, SessionParams } from "./engine.ts";

const SYM_HASH_MODE_PLAIN = 1;

/**
 * Whether `caps` claims the algorithms and key lengths a session needs.
 *
 * @param caps An engine's capabilities.
 * @param params The session.
 * @returns True when the engine should be asked for it.
 */
export function supports(caps: Capabilities, params: SessionParams): boolean {
  switch (params.service) {
    case "cipher":
      return claims(caps.cipher, params.algo, params.key.length);
    case "hash":
      return caps.hash.has(params.algo);
    case "mac":
      return claims(caps.mac, params.algo, params.key.length);
    case "aead":
      return claims(caps.aead, params.algo, params.key.length);
    case "akcipher":
      return caps.akcipher.has(params.algo);
    case "chain": {
      const auth = params.auth.hashMode === SYM_HASH_MODE_PLAIN
        ? caps.hash.has(params.auth.algo)
        : claims(caps.mac, params.auth.algo, params.auth.key.length);
      return caps.chaining && claims(caps.cipher, params.cipher.algo, params.cipher.key.length) && auth;
    }
  }
}

function claims(table: ReadonlyMap<number, AlgorithmInfo>, algo: number, keyLen: number): boolean {
  const info = table.get(algo);
  return info !== undefined && (info.keyLengths.length === 0 || info.keyLengths.includes(keyLen));
}

/**
 * The union of two capability tables; where both claim an algorithm, the first's entry is kept (the accelerator's
 * name and source show which engine serves it first).
 *
 * @param first The preferred engine's table.
 * @param second The other's.
 * @returns The merged table.
 */
export function mergeCapabilities(first: Capabilities, second: Capabilities): Capabilities {
  const merge = (a: ReadonlyMap<number, AlgorithmInfo>, b: ReadonlyMap<number, AlgorithmInfo>) =>
    new Map([...b, ...a]);
  return {
    cipher: merge(first.cipher, second.cipher),
    hash: merge(first.hash, second.hash),
    mac: merge(first.mac, second.mac),
    aead: merge(first.aead, second.aead),
    akcipher: merge(first.akcipher, second.akcipher),
    chaining: first.chaining || second.chaining,
    maxCipherKeyLen: Math.max(first.maxCipherKeyLen, second.maxCipherKeyLen),
    maxAuthKeyLen: Math.max(first.maxAuthKeyLen, second.maxAuthKeyLen),
  };
}
