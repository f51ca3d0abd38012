/**
 * `VirtqueueError`: the one error class of the split-ring layer (style.md rule 6).
 *
 * The kinds fall in three groups, and the group decides the reaction (style.md rule 5):
 * - ring errors (`invalid-avail-index`, `invalid-head-index`, `invalid-ring-address`) are thrown by `SplitQueue` and
 *   stop that queue;
 * - chain errors (every other device-side kind) are stored in `DescriptorChain.error`: the chain still completes
 *   and the queue goes on with the next avail entry;
 * - `invalid-queue-size` and `invalid-ring-address` are also thrown by the setters that validate front-end input
 *   (SET_VRING_NUM, SET_VRING_ADDR), and `invalid-used-index` / `invalid-used-id` by the driver side when a device
 *   misbehaves.
 *
 * @module
 */

/** What was wrong with a virtqueue, a descriptor chain, or a used ring. */
export type VirtqueueErrorKind =
  // Ring errors: the queue stops.
  | "invalid-avail-index"
  | "invalid-head-index"
  | "invalid-ring-address"
  // Chain errors: the chain completes with an error, the queue goes on.
  | "invalid-descriptor-index"
  | "chain-too-long"
  | "chain-overflow"
  | "address-out-of-range"
  | "invalid-indirect-table"
  | "nested-indirect"
  | "read-after-write"
  // Configuration from the front-end.
  | "invalid-queue-size"
  // Driver side: the device broke the used ring.
  | "invalid-used-index"
  | "invalid-used-id";

/** The chain-error kinds: set in `DescriptorChain.error`, never thrown by `SplitQueue.popChain()`. */
export const CHAIN_ERROR_KINDS: ReadonlySet<VirtqueueErrorKind> = new Set<VirtqueueErrorKind>([
  "invalid-descriptor-index",
  "chain-too-long",
  "chain-overflow",
  "address-out-of-range",
  "invalid-indirect-table",
  "nested-indirect",
  "read-after-write",
]);

/**
 * A malformed virtqueue or descriptor chain (VIRTIO v1.2, 2.7). Thrown for ring errors, stored in
 * `DescriptorChain.error` for chain errors.
 *
 * @example Telling a chain error from a ring error
 * ```ts
 * import assert from "node:assert/strict";
 * import { CHAIN_ERROR_KINDS, VirtqueueError } from "./errors.ts";
 * const e = new VirtqueueError("chain-too-long", "Cannot read descriptor chain 3: chain is longer than the queue");
 * assert.ok(CHAIN_ERROR_KINDS.has(e.kind));
 * ```
 */
export class VirtqueueError extends Error {
  override name = "VirtqueueError";
  /** What was wrong. */
  readonly kind: VirtqueueErrorKind;

  /**
   * @param kind What was wrong.
   * @param message A std-style message: "Cannot <action>: <reason>: current value is <x>".
   * @param options The cause, where there is one.
   */
  constructor(kind: VirtqueueErrorKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.kind = kind;
  }
}
