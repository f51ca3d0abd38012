/**
 * The config space a device derives from its engine's capabilities (virtio 1.3 §5.9.4): the masks of what at
 * least one engine serves (style.md §4: "the device advertises only what at least one engine can do").
 *
 * @module
 */

import type { Capabilities } from "../engine/engine.ts";
import { configMasks, type CryptoConfig } from "./config.ts";
import { VIRTIO_CRYPTO_S_HW_READY } from "../spec/virtio_crypto.ts";

/** Device facts that are not capabilities. */
export interface DeviceShape {
  /** `max_dataqueues`. */
  readonly maxDataQueues: number;
  /** `max_size`, in bytes. */
  readonly maxSize: number;
}

/**
 * Builds the config space.
 *
 * @param caps The engine's capabilities.
 * @param shape Queue count and size limit.
 * @returns The config, with HW_READY set.
 */
export function buildCryptoConfig(caps: Capabilities, shape: DeviceShape): CryptoConfig {
  const masks = configMasks({
    cipher: caps.cipher.keys(),
    hash: caps.hash.keys(),
    mac: caps.mac.keys(),
    aead: caps.aead.keys(),
    akcipher: caps.akcipher.keys(),
  });
  return {
    status: VIRTIO_CRYPTO_S_HW_READY,
    maxDataqueues: shape.maxDataQueues,
    ...masks,
    maxCipherKeyLen: caps.maxCipherKeyLen,
    maxAuthKeyLen: caps.maxAuthKeyLen,
    maxSize: BigInt(shape.maxSize),
  };
}
