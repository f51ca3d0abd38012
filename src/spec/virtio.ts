/**
 * Transport feature bits (VIRTIO v1.2, 6 "Reserved Feature Bits"): the bits every virtio device shares, as bit
 * numbers and as `bigint` masks. Feature words stay `bigint` everywhere (style.md rule 12).
 *
 * @module
 */

/**
 * `VIRTIO_F_NOTIFY_ON_EMPTY` (24, legacy; VIRTIO v1.2, 6.3): notify the driver when the device runs out of
 * available buffers, even when notifications are suppressed. DPDK's crypto back-end offers it.
 */
export const VIRTIO_F_NOTIFY_ON_EMPTY = 24;
/** `VIRTIO_F_ANY_LAYOUT` (27, legacy; VIRTIO v1.2, 6.3): the device accepts any descriptor layout. */
export const VIRTIO_F_ANY_LAYOUT = 27;
/** `VIRTIO_F_INDIRECT_DESC` (28; VIRTIO v1.2, 6): the driver may use indirect descriptor tables (2.7.5.3). */
export const VIRTIO_F_INDIRECT_DESC = 28;
/** `VIRTIO_RING_F_INDIRECT_DESC`: the Linux, QEMU and DPDK name of `VIRTIO_F_INDIRECT_DESC`. */
export const VIRTIO_RING_F_INDIRECT_DESC = VIRTIO_F_INDIRECT_DESC;
/** `VIRTIO_F_EVENT_IDX` (29; VIRTIO v1.2, 6): `used_event`/`avail_event` suppress notifications (2.7.7, 2.7.10). */
export const VIRTIO_F_EVENT_IDX = 29;
/** `VIRTIO_RING_F_EVENT_IDX`: the Linux, QEMU and DPDK name of `VIRTIO_F_EVENT_IDX`. */
export const VIRTIO_RING_F_EVENT_IDX = VIRTIO_F_EVENT_IDX;
/** `VIRTIO_F_VERSION_1` (32; VIRTIO v1.2, 6): virtio 1.x, little-endian rings. */
export const VIRTIO_F_VERSION_1 = 32;
/** `VIRTIO_F_ACCESS_PLATFORM` (33; VIRTIO v1.2, 6): device memory access goes through a platform IOMMU. */
export const VIRTIO_F_ACCESS_PLATFORM = 33;
/** `VIRTIO_F_RING_PACKED` (34; VIRTIO v1.2, 6): packed virtqueues. Not implemented here. */
export const VIRTIO_F_RING_PACKED = 34;
/** `VIRTIO_F_IN_ORDER` (35; VIRTIO v1.2, 6): buffers are used in order. Never offered (style.md rule 13). */
export const VIRTIO_F_IN_ORDER = 35;
/** `VIRTIO_F_ORDER_PLATFORM` (36; VIRTIO v1.2, 6): memory accesses are ordered as the platform requires. */
export const VIRTIO_F_ORDER_PLATFORM = 36;
/** `VIRTIO_F_NOTIFICATION_DATA` (38; VIRTIO v1.2, 6): driver notifications carry extra data. */
export const VIRTIO_F_NOTIFICATION_DATA = 38;

/**
 * The mask of one feature bit.
 *
 * @param bit Bit number, 0..63.
 * @returns `1n << bit`.
 * @throws RangeError when `bit` is not an integer in 0..63.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { featureMask, VIRTIO_F_VERSION_1 } from "./virtio.ts";
 * assert.equal(featureMask(VIRTIO_F_VERSION_1), 0x1_0000_0000n);
 * ```
 */
export function featureMask(bit: number): bigint {
  if (!Number.isInteger(bit) || bit < 0 || bit > 63) {
    throw new RangeError(`Cannot build feature mask: bit must be in 0..63: current value is ${bit}`);
  }
  return 1n << BigInt(bit);
}

/**
 * Whether a feature word has a bit set.
 *
 * @param features A 64-bit feature word (device, driver, or negotiated features).
 * @param bit Bit number, 0..63.
 * @returns `true` when the bit is set.
 * @throws RangeError when `bit` is not an integer in 0..63.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hasFeature, VIRTIO_F_EVENT_IDX_MASK, VIRTIO_F_EVENT_IDX } from "./virtio.ts";
 * assert.ok(hasFeature(VIRTIO_F_EVENT_IDX_MASK, VIRTIO_F_EVENT_IDX));
 * ```
 */
export function hasFeature(features: bigint, bit: number): boolean {
  return (features & featureMask(bit)) !== 0n;
}

/** Mask of `VIRTIO_F_NOTIFY_ON_EMPTY`. */
export const VIRTIO_F_NOTIFY_ON_EMPTY_MASK: bigint = 1n << 24n;
/** Mask of `VIRTIO_F_ANY_LAYOUT`. */
export const VIRTIO_F_ANY_LAYOUT_MASK: bigint = 1n << 27n;
/** Mask of `VIRTIO_F_INDIRECT_DESC`. */
export const VIRTIO_F_INDIRECT_DESC_MASK: bigint = 1n << 28n;
/** Mask of `VIRTIO_F_EVENT_IDX`. */
export const VIRTIO_F_EVENT_IDX_MASK: bigint = 1n << 29n;
/** Mask of `VIRTIO_F_VERSION_1`. */
export const VIRTIO_F_VERSION_1_MASK: bigint = 1n << 32n;
/** Mask of `VIRTIO_F_ACCESS_PLATFORM`. */
export const VIRTIO_F_ACCESS_PLATFORM_MASK: bigint = 1n << 33n;
/** Mask of `VIRTIO_F_RING_PACKED`. */
export const VIRTIO_F_RING_PACKED_MASK: bigint = 1n << 34n;
/** Mask of `VIRTIO_F_IN_ORDER`. */
export const VIRTIO_F_IN_ORDER_MASK: bigint = 1n << 35n;
/** Mask of `VIRTIO_F_ORDER_PLATFORM`. */
export const VIRTIO_F_ORDER_PLATFORM_MASK: bigint = 1n << 36n;
/** Mask of `VIRTIO_F_NOTIFICATION_DATA`. */
export const VIRTIO_F_NOTIFICATION_DATA_MASK: bigint = 1n << 38n;

/**
 * The transport features this split-ring implementation handles, for a device to offer: indirect descriptors,
 * event indices and virtio 1.x. Not `IN_ORDER` (completions come out of order, style.md rule 13), not
 * `RING_PACKED`, not `NOTIFICATION_DATA`. Whether `ACCESS_PLATFORM` may be offered is the transport's decision.
 */
export const SPLIT_QUEUE_FEATURES: bigint = VIRTIO_F_INDIRECT_DESC_MASK | VIRTIO_F_EVENT_IDX_MASK |
  VIRTIO_F_VERSION_1_MASK;
