/**
 * A key the engine must keep itself, in engine-owned memory, because OpenSSL needs it again per operation
 * (ARC4 restarts its key stream, CCM re-keys to change its nonce length). Every other key lives only inside
 * OpenSSL's contexts, whose `*_free` cleanses it.
 *
 * @module
 */

import { allocHostMemory, type HostMemory } from "../host_memory.ts";

/**
 * Symbol of the internal test hook that lists the engine-owned memory holding key material, so a test can check
 * it is zeroed after `closeSession` (not part of the public API).
 */
export const keyMaterial: unique symbol = Symbol("cryptobridge.software.keyMaterial");

/** A key copy in off-heap memory; `wipe` zeroes it. */
export class KeyCopy {
  readonly #memory: HostMemory;
  /** Key length in bytes. */
  readonly length: number;

  /**
   * @param key The key to copy (not kept).
   */
  constructor(key: Uint8Array) {
    this.#memory = allocHostMemory(Math.max(1, key.length));
    this.#memory.bytes.set(key);
    this.length = key.length;
  }

  /** Host address of the key, for FFI `usize` parameters. */
  get address(): bigint {
    return this.#memory.address;
  }

  /** The memory holding the key (test hook only). */
  get bytes(): Uint8Array {
    return this.#memory.bytes;
  }

  /** Zeroes the copy. */
  wipe(): void {
    this.#memory.bytes.fill(0);
  }
}
