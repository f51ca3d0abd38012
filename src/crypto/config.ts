/**
 * `struct virtio_crypto_config`, the device configuration space (virtio 1.3 §5.9.4): 56 bytes, little-endian.
 * Offset 44 is `akcipher_algo` since virtio 1.3 (it was `reserved` in virtio 1.1/1.2).
 *
 * @module
 */

import { Layout, Service } from "../spec/virtio_crypto.ts";
import { readU32, readU64, writeU32, writeU64 } from "../virtio/le.ts";
import { outputBuffer, requireBytes } from "./_wire_util.ts";

/** `struct virtio_crypto_config` (virtio 1.3 §5.9.4), field by field. */
export interface CryptoConfig {
  /** `status` @0: `VIRTIO_CRYPTO_S_HW_READY` (bit 0) is the only defined bit. */
  readonly status: number;
  /** `max_dataqueues` @4: 1..65535. */
  readonly maxDataqueues: number;
  /** `crypto_services` @8: bit `VIRTIO_CRYPTO_SERVICE_*` set per offered service. */
  readonly cryptoServices: number;
  /** `cipher_algo_l` @12: `VIRTIO_CRYPTO_CIPHER_*` bits 0-31. */
  readonly cipherAlgoL: number;
  /** `cipher_algo_h` @16: `VIRTIO_CRYPTO_CIPHER_*` bits 32-63. */
  readonly cipherAlgoH: number;
  /** `hash_algo` @20: `VIRTIO_CRYPTO_HASH_*` bits. */
  readonly hashAlgo: number;
  /** `mac_algo_l` @24: `VIRTIO_CRYPTO_MAC_*` bits 0-31. */
  readonly macAlgoL: number;
  /** `mac_algo_h` @28: `VIRTIO_CRYPTO_MAC_*` bits 32-63. */
  readonly macAlgoH: number;
  /** `aead_algo` @32: `VIRTIO_CRYPTO_AEAD_*` bits. */
  readonly aeadAlgo: number;
  /** `max_cipher_key_len` @36, in bytes. */
  readonly maxCipherKeyLen: number;
  /** `max_auth_key_len` @40, in bytes. */
  readonly maxAuthKeyLen: number;
  /** `akcipher_algo` @44: `VIRTIO_CRYPTO_AKCIPHER_*` bits (`reserved` before virtio 1.3). */
  readonly akcipherAlgo: number;
  /** `max_size` @48 (le64): the largest `op_vlf` content of one data request, in bytes (QEMU: `UINT64_MAX`). */
  readonly maxSize: bigint;
}

/** The algorithm mask fields of {@linkcode CryptoConfig}, as built by {@linkcode configMasks}. */
export type CryptoConfigMasks = Pick<
  CryptoConfig,
  | "cryptoServices"
  | "cipherAlgoL"
  | "cipherAlgoH"
  | "hashAlgo"
  | "macAlgoL"
  | "macAlgoH"
  | "aeadAlgo"
  | "akcipherAlgo"
>;

/** Algorithm ids per service, the input of {@linkcode configMasks}. A service with no entry is not offered. */
export interface CryptoAlgorithmSets {
  /** `VIRTIO_CRYPTO_CIPHER_*` ids (0-63). */
  readonly cipher?: Iterable<number>;
  /** `VIRTIO_CRYPTO_HASH_*` ids (0-31). */
  readonly hash?: Iterable<number>;
  /** `VIRTIO_CRYPTO_MAC_*` ids (0-63). */
  readonly mac?: Iterable<number>;
  /** `VIRTIO_CRYPTO_AEAD_*` ids (0-31). */
  readonly aead?: Iterable<number>;
  /** `VIRTIO_CRYPTO_AKCIPHER_*` ids (0-31). */
  readonly akcipher?: Iterable<number>;
}

/**
 * Decodes `struct virtio_crypto_config`.
 *
 * @param bytes At least 56 bytes of configuration space.
 * @returns The fields.
 * @throws {CryptoWireError} `short-buffer` when `bytes` is shorter than 56.
 *
 * @example QEMU's cryptodev-vhost-user configuration
 * ```ts
 * import { decodeConfig, encodeConfig } from "./config.ts";
 * import assert from "node:assert/strict";
 *
 * const cfg = {
 *   status: 1, maxDataqueues: 1, cryptoServices: 0x7, cipherAlgoL: 0x8, cipherAlgoH: 0, hashAlgo: 0x4,
 *   macAlgoL: 0, macAlgoH: 0, aeadAlgo: 0, maxCipherKeyLen: 64, maxAuthKeyLen: 512, akcipherAlgo: 0,
 *   maxSize: 0xffff_ffff_ffff_ffffn,
 * };
 * assert.deepEqual(decodeConfig(encodeConfig(cfg)), cfg);
 * ```
 */
export function decodeConfig(bytes: Uint8Array): CryptoConfig {
  requireBytes(bytes, Layout.CONFIG, "virtio_crypto_config");
  return {
    status: readU32(bytes, 0),
    maxDataqueues: readU32(bytes, 4),
    cryptoServices: readU32(bytes, 8),
    cipherAlgoL: readU32(bytes, 12),
    cipherAlgoH: readU32(bytes, 16),
    hashAlgo: readU32(bytes, 20),
    macAlgoL: readU32(bytes, 24),
    macAlgoH: readU32(bytes, 28),
    aeadAlgo: readU32(bytes, 32),
    maxCipherKeyLen: readU32(bytes, 36),
    maxAuthKeyLen: readU32(bytes, 40),
    akcipherAlgo: readU32(bytes, 44),
    maxSize: readU64(bytes, 48),
  };
}

/**
 * Encodes `struct virtio_crypto_config`.
 *
 * @param config The fields.
 * @param target Where to write (at least 56 bytes); a new array when omitted.
 * @returns The 56 bytes written.
 * @throws {CryptoWireError} `short-buffer` when `target` is shorter than 56.
 */
export function encodeConfig(config: CryptoConfig, target?: Uint8Array): Uint8Array {
  const b = outputBuffer(target, Layout.CONFIG, "virtio_crypto_config");
  writeU32(b, 0, config.status);
  writeU32(b, 4, config.maxDataqueues);
  writeU32(b, 8, config.cryptoServices);
  writeU32(b, 12, config.cipherAlgoL);
  writeU32(b, 16, config.cipherAlgoH);
  writeU32(b, 20, config.hashAlgo);
  writeU32(b, 24, config.macAlgoL);
  writeU32(b, 28, config.macAlgoH);
  writeU32(b, 32, config.aeadAlgo);
  writeU32(b, 36, config.maxCipherKeyLen);
  writeU32(b, 40, config.maxAuthKeyLen);
  writeU32(b, 44, config.akcipherAlgo);
  writeU64(b, 48, config.maxSize);
  return b;
}

/**
 * Builds `crypto_services` and the algorithm masks from sets of algorithm ids (virtio 1.3 §5.9.3: each id is also a
 * bit number). A service is offered when its set is given and not empty. The `NO_*` ids (0) set bit 0, as the
 * specification defines it; leave them out of the sets unless a driver should see them.
 *
 * @param sets Algorithm ids per service.
 * @returns `cryptoServices` plus every mask field.
 * @throws {RangeError} for an id outside the mask's width (64 bits for cipher/MAC, 32 for the others).
 *
 * @example AES-CBC and HMAC-SHA256
 * ```ts
 * import { configMasks } from "./config.ts";
 * import { CipherAlgo, MacAlgo } from "../spec/virtio_crypto.ts";
 * import assert from "node:assert/strict";
 *
 * const m = configMasks({ cipher: [CipherAlgo.AES_CBC], mac: [MacAlgo.HMAC_SHA_256, MacAlgo.CMAC_AES] });
 * assert.equal(m.cryptoServices, 0b101);
 * assert.equal(m.cipherAlgoL, 1 << 3);
 * assert.equal(m.macAlgoL, (1 << 4) | (1 << 26));
 * ```
 */
export function configMasks(sets: CryptoAlgorithmSets): CryptoConfigMasks {
  const [cipherAlgoL, cipherAlgoH] = mask64("cipher", sets.cipher);
  const [macAlgoL, macAlgoH] = mask64("mac", sets.mac);
  const hashAlgo = mask32("hash", sets.hash);
  const aeadAlgo = mask32("aead", sets.aead);
  const akcipherAlgo = mask32("akcipher", sets.akcipher);
  let cryptoServices = 0;
  if ((cipherAlgoL | cipherAlgoH) !== 0) cryptoServices |= 1 << Service.CIPHER;
  if (hashAlgo !== 0) cryptoServices |= 1 << Service.HASH;
  if ((macAlgoL | macAlgoH) !== 0) cryptoServices |= 1 << Service.MAC;
  if (aeadAlgo !== 0) cryptoServices |= 1 << Service.AEAD;
  if (akcipherAlgo !== 0) cryptoServices |= 1 << Service.AKCIPHER;
  return { cryptoServices, cipherAlgoL, cipherAlgoH, hashAlgo, macAlgoL, macAlgoH, aeadAlgo, akcipherAlgo };
}

/**
 * Whether the configuration offers `algo` of `service`: the service bit and the algorithm bit are both set (the check
 * Linux's `virtcrypto_algo_is_supported` makes).
 *
 * @param config The configuration.
 * @param service A `VIRTIO_CRYPTO_SERVICE_*` number.
 * @param algo An algorithm id of that service.
 * @returns `true` when both bits are set.
 */
export function configOffers(config: CryptoConfigMasks, service: number, algo: number): boolean {
  if (service < 0 || service > 31 || ((config.cryptoServices >>> service) & 1) === 0) return false;
  switch (service) {
    case Service.CIPHER:
      return bit64(config.cipherAlgoL, config.cipherAlgoH, algo);
    case Service.HASH:
      return bit64(config.hashAlgo, 0, algo);
    case Service.MAC:
      return bit64(config.macAlgoL, config.macAlgoH, algo);
    case Service.AEAD:
      return bit64(config.aeadAlgo, 0, algo);
    case Service.AKCIPHER:
      return bit64(config.akcipherAlgo, 0, algo);
    default:
      return false;
  }
}

function bit64(lo: number, hi: number, bit: number): boolean {
  if (!Number.isInteger(bit) || bit < 0 || bit > 63) return false;
  return bit < 32 ? ((lo >>> bit) & 1) === 1 : ((hi >>> (bit - 32)) & 1) === 1;
}

function mask64(what: string, ids: Iterable<number> | undefined): [number, number] {
  let lo = 0;
  let hi = 0;
  for (const id of ids ?? []) {
    if (!Number.isInteger(id) || id < 0 || id > 63) {
      throw new RangeError(`Cannot set ${what} algorithm bit: id must be in 0..63: current value is ${id}`);
    }
    if (id < 32) lo = (lo | (1 << id)) >>> 0;
    else hi = (hi | (1 << (id - 32))) >>> 0;
  }
  return [lo, hi];
}

function mask32(what: string, ids: Iterable<number> | undefined): number {
  let m = 0;
  for (const id of ids ?? []) {
    if (!Number.isInteger(id) || id < 0 || id > 31) {
      throw new RangeError(`Cannot set ${what} algorithm bit: id must be in 0..31: current value is ${id}`);
    }
    m = (m | (1 << id)) >>> 0;
  }
  return m;
}
