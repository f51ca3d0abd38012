/**
 * The accelerator's capability table, derived from its virtio-crypto configuration (virtio 1.3 §5.9.4): a
 * service and algorithm are claimed only when both their bits are set, and key lengths only up to
 * `max_cipher_key_len` / `max_auth_key_len`. Names, key lengths, IV and block facts come from the project's one
 * algorithm table (`engine/software/algorithms.ts`, pure data), so an algorithm the project has no facts for
 * (KASUMI, SNOW 3G, ZUC...) is not claimed even when advertised: its requests could not be checked before they
 * reach the device. Asymmetric sessions are not driven on the device (the software engine serves them).
 *
 * What a device advertises is not always what it does: QEMU's built-in back-end advertises SHA-1 hashing and
 * refuses every hash session (guest-lab.md, tier 4). `probeList()` names one session per claim, which the engine
 * creates and destroys once at start; `withoutRefused()` drops what the device refused (see engine.ts).
 *
 * @module
 */

import type { AlgorithmInfo, Capabilities, SessionParams } from "../../engine/mod.ts";
import { AEADS, CIPHERS, HASHES, MACS } from "../../engine/software/algorithms.ts";
import {
  CryptoOpDirection,
  HashAlgo,
  MacAlgo,
  Service,
  SymHashMode,
  VIRTIO_CRYPTO_S_HW_READY,
} from "../../spec/virtio_crypto.ts";
import type { CryptoConfig } from "../../crypto/mod.ts";

/** Digest sizes in bytes, by `VIRTIO_CRYPTO_HASH_*` id (SHAKE: any length up to this). */
export const HASH_SIZES: ReadonlyMap<number, number> = new Map([
  [HashAlgo.MD5, 16],
  [HashAlgo.SHA1, 20],
  [HashAlgo.SHA_224, 28],
  [HashAlgo.SHA_256, 32],
  [HashAlgo.SHA_384, 48],
  [HashAlgo.SHA_512, 64],
  [HashAlgo.SHA3_224, 28],
  [HashAlgo.SHA3_256, 32],
  [HashAlgo.SHA3_384, 48],
  [HashAlgo.SHA3_512, 64],
  [HashAlgo.SHA3_SHAKE128, 256],
  [HashAlgo.SHA3_SHAKE256, 256],
]);

/** MAC sizes in bytes, by `VIRTIO_CRYPTO_MAC_*` id. */
export const MAC_SIZES: ReadonlyMap<number, number> = new Map([
  [MacAlgo.HMAC_MD5, 16],
  [MacAlgo.HMAC_SHA1, 20],
  [MacAlgo.HMAC_SHA_224, 28],
  [MacAlgo.HMAC_SHA_256, 32],
  [MacAlgo.HMAC_SHA_384, 48],
  [MacAlgo.HMAC_SHA_512, 64],
  [MacAlgo.CMAC_3DES, 8],
  [MacAlgo.CMAC_AES, 16],
  [MacAlgo.GMAC_AES, 16],
]);

/**
 * The capabilities a configuration advertises, restricted to what the project can check (see the module doc).
 * Chaining is not claimed: the configuration has no bit for it, so only a probe can tell.
 *
 * @param config The device's configuration.
 * @param source Where the implementation is, for `AlgorithmInfo.source` (e.g. `virtio-crypto 0000:00:04.0`).
 * @returns The table; empty when the device is not HW_READY.
 */
export function capabilitiesFromConfig(config: CryptoConfig, source: string): Capabilities {
  const ready = (config.status & VIRTIO_CRYPTO_S_HW_READY) !== 0;
  const offers = (service: number): boolean => ready && ((config.cryptoServices >>> service) & 1) === 1;
  const bits = (lo: number, hi: number): number[] => {
    const ids: number[] = [];
    for (let id = 1; id < 64; id++) if ((id < 32 ? lo >>> id : hi >>> (id - 32)) & 1) ids.push(id);
    return ids;
  };
  const table = <E extends { readonly name: string }>(
    on: boolean,
    ids: number[],
    known: ReadonlyMap<number, E>,
    keys: (e: E) => readonly number[],
  ): Map<number, AlgorithmInfo> => {
    const out = new Map<number, AlgorithmInfo>();
    if (!on) return out;
    for (const id of ids) {
      const e = known.get(id);
      const keyLengths = e === undefined ? [] : keys(e);
      if (e !== undefined && (keyLengths.length > 0 || keys === noKeys)) {
        out.set(id, { name: e.name, keyLengths, source });
      }
    }
    return out;
  };
  const cipherKeys = (e: { keyLengths: readonly number[] }) =>
    e.keyLengths.filter((k) => k <= config.maxCipherKeyLen);
  const authKeys = (e: { keyLengths: readonly number[] }) =>
    e.keyLengths.filter((k) => k <= config.maxAuthKeyLen);
  return {
    cipher: table(offers(Service.CIPHER), bits(config.cipherAlgoL, config.cipherAlgoH), CIPHERS, cipherKeys),
    hash: table(offers(Service.HASH), bits(config.hashAlgo, 0), HASHES, noKeys),
    mac: table(offers(Service.MAC), bits(config.macAlgoL, config.macAlgoH), MACS, authKeys),
    aead: table(offers(Service.AEAD), bits(config.aeadAlgo, 0), AEADS, cipherKeys),
    akcipher: new Map(),
    chaining: false,
    maxCipherKeyLen: config.maxCipherKeyLen,
    maxAuthKeyLen: config.maxAuthKeyLen,
  };
}

function noKeys(): readonly number[] {
  return [];
}

/** One session the engine creates (and destroys) at start to see whether the device really serves a claim. */
export interface Probe {
  /** What the claim is, for logs: `AES-CBC/16`. */
  readonly label: string;
  /** The session. */
  readonly params: SessionParams;
}

/** Most key lengths probed one by one; a longer list (HMAC: 0..512) is probed at one length. */
const MAX_PROBED_LENGTHS = 4;

/**
 * The probes for a table: every cipher and AEAD key length (there are at most a few), one key length per MAC
 * (HMAC takes any), one session per hash, and one chaining session (the first cipher with the first hash)
 * when both services are claimed.
 *
 * @param caps The advertised table.
 * @returns The probes, in order.
 */
export function probeList(caps: Capabilities): Probe[] {
  const probes: Probe[] = [];
  for (const [algo, info] of caps.cipher) {
    for (const k of probedLengths(info.keyLengths)) {
      probes.push({
        label: `${info.name}/${k}`,
        params: { service: "cipher", algo, key: probeKey(k), direction: CryptoOpDirection.ENCRYPT },
      });
    }
  }
  for (const [algo, info] of caps.hash) {
    probes.push({
      label: info.name,
      params: { service: "hash", algo, resultLen: HASH_SIZES.get(algo) ?? 16 },
    });
  }
  for (const [algo, info] of caps.mac) {
    for (const k of probedLengths(info.keyLengths)) {
      const resultLen = MAC_SIZES.get(algo) ?? 16;
      probes.push({
        label: `${info.name}/${k}`,
        params: { service: "mac", algo, key: probeKey(k), resultLen },
      });
    }
  }
  for (const [algo, info] of caps.aead) {
    for (const k of probedLengths(info.keyLengths)) {
      probes.push({
        label: `${info.name}/${k}`,
        params: {
          service: "aead",
          algo,
          key: probeKey(k),
          tagLen: 16,
          aadLen: 0,
          direction: CryptoOpDirection.ENCRYPT,
        },
      });
    }
  }
  return probes;
}

/**
 * A chaining probe (cipher then hash) built from a table's first cipher and first hash, or null when the table
 * lacks either.
 *
 * @param caps The table after the other probes.
 * @returns The probe, or null.
 */
export function chainProbe(caps: Capabilities): Probe | null {
  const cipher = [...caps.cipher][0];
  const hash = [...caps.hash][0];
  if (cipher === undefined || hash === undefined) return null;
  const keyLen = cipher[1].keyLengths[0]!;
  return {
    label: `chain ${cipher[1].name}+${hash[1].name}`,
    params: {
      service: "chain",
      order: 2,
      cipher: { algo: cipher[0], key: probeKey(keyLen), direction: CryptoOpDirection.ENCRYPT },
      auth: {
        hashMode: SymHashMode.PLAIN,
        algo: hash[0],
        resultLen: HASH_SIZES.get(hash[0]) ?? 16,
        key: new Uint8Array(0),
      },
      aadLen: 0,
    },
  };
}

function probedLengths(lengths: readonly number[]): readonly number[] {
  if (lengths.length <= MAX_PROBED_LENGTHS) return lengths;
  return [lengths.includes(32) ? 32 : lengths[lengths.length - 1]!];
}

/** A probe key: distinct bytes, so XTS's halves differ and no DES weak key appears. */
function probeKey(length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 7 + 1) & 0xff);
}

/**
 * The table without what the device refused: a refused cipher, MAC or AEAD key length is dropped (the algorithm
 * goes when no length is left), a refused hash goes.
 *
 * @param caps The advertised table.
 * @param refused The refused probes.
 * @returns The narrowed table (chaining unchanged).
 */
export function withoutRefused(caps: Capabilities, refused: readonly Probe[]): Capabilities {
  const drop = (table: ReadonlyMap<number, AlgorithmInfo>, service: string): Map<number, AlgorithmInfo> => {
    const out = new Map<number, AlgorithmInfo>();
    for (const [algo, info] of table) {
      const gone = refused.filter((p) =>
        p.params.service === service && "algo" in p.params && p.params.algo === algo
      );
      if (service === "hash") {
        if (gone.length === 0) out.set(algo, info);
        continue;
      }
      const goneLengths = new Set(gone.map((p) => "key" in p.params ? p.params.key.length : -1));
      const probedAll = info.keyLengths.length <= MAX_PROBED_LENGTHS;
      const keyLengths = probedAll ? info.keyLengths.filter((k) => !goneLengths.has(k)) : info.keyLengths;
      if (keyLengths.length > 0 && (probedAll || gone.length === 0)) out.set(algo, { ...info, keyLengths });
    }
    return out;
  };
  return {
    ...caps,
    cipher: drop(caps.cipher, "cipher"),
    hash: drop(caps.hash, "hash"),
    mac: drop(caps.mac, "mac"),
    aead: drop(caps.aead, "aead"),
  };
}
