/**
 * Split-virtqueue layout (VIRTIO v1.2, 2.7): field offsets, flags, alignment and sizes of the descriptor table, the
 * available ring and the used ring, plus the `virtq_need_event` helper (Appendix A, virtio_queue.h). Every field is
 * little-endian (VIRTIO v1.2, 2.7.3 is the legacy exception, not supported here).
 *
 * @module
 */

import type { GuestMemory } from "../memory/mod.ts";

/** Largest queue size: the highest power of 2 that fits in a u16 index (VIRTIO v1.2, 2.7). */
export const MAX_QUEUE_SIZE = 32768;

// Descriptor table (VIRTIO v1.2, 2.7.5): struct virtq_desc { le64 addr; le32 len; le16 flags; le16 next; }

/** Size of one `struct virtq_desc`. */
export const VIRTQ_DESC_SIZE = 16;
/** Offset of `addr` (le64, guest-physical) in a descriptor. */
export const VIRTQ_DESC_ADDR = 0;
/** Offset of `len` (le32) in a descriptor. */
export const VIRTQ_DESC_LEN = 8;
/** Offset of `flags` (le16) in a descriptor. */
export const VIRTQ_DESC_FLAGS = 12;
/** Offset of `next` (le16) in a descriptor. */
export const VIRTQ_DESC_NEXT = 14;
/** `VIRTQ_DESC_F_NEXT`: the buffer continues in the descriptor named by `next` (VIRTIO v1.2, 2.7.5). */
export const VIRTQ_DESC_F_NEXT = 1;
/** `VIRTQ_DESC_F_WRITE`: the buffer is device write-only, otherwise device read-only (VIRTIO v1.2, 2.7.5). */
export const VIRTQ_DESC_F_WRITE = 2;
/** `VIRTQ_DESC_F_INDIRECT`: the buffer is a table of descriptors (VIRTIO v1.2, 2.7.5.3). */
export const VIRTQ_DESC_F_INDIRECT = 4;

// Available ring (VIRTIO v1.2, 2.7.6): { le16 flags; le16 idx; le16 ring[size]; le16 used_event; }

/** Offset of the avail ring's `flags`. */
export const VIRTQ_AVAIL_FLAGS = 0;
/** Offset of the avail ring's `idx` (free-running, wraps at 65536). */
export const VIRTQ_AVAIL_IDX = 2;
/** Offset of the avail ring's `ring[0]`; entries are le16 descriptor heads. */
export const VIRTQ_AVAIL_RING = 4;
/** `VRING_AVAIL_F_NO_INTERRUPT` (spec: `VIRTQ_AVAIL_F_NO_INTERRUPT`): no used notifications wanted (2.7.7). */
export const VRING_AVAIL_F_NO_INTERRUPT = 1;

// Used ring (VIRTIO v1.2, 2.7.8):
//   { le16 flags; le16 idx; struct virtq_used_elem { le32 id; le32 len; } ring[size]; le16 avail_event; }

/** Offset of the used ring's `flags`. */
export const VIRTQ_USED_FLAGS = 0;
/** Offset of the used ring's `idx` (free-running, wraps at 65536). */
export const VIRTQ_USED_IDX = 2;
/** Offset of the used ring's `ring[0]`. */
export const VIRTQ_USED_RING = 4;
/** Size of one `struct virtq_used_elem`. */
export const VIRTQ_USED_ELEM_SIZE = 8;
/** Offset of `id` (le32, the chain's head index) in a used element. */
export const VIRTQ_USED_ELEM_ID = 0;
/** Offset of `len` (le32, bytes written to the writable part) in a used element. */
export const VIRTQ_USED_ELEM_LEN = 4;
/** `VRING_USED_F_NO_NOTIFY` (spec: `VIRTQ_USED_F_NO_NOTIFY`): no available notifications wanted (2.7.10). */
export const VRING_USED_F_NO_NOTIFY = 1;

// Alignment (VIRTIO v1.2, 2.7, table; 2.7.1: the driver MUST align each part)

/** Alignment of the descriptor table. */
export const DESC_TABLE_ALIGN = 16;
/** Alignment of the available ring. */
export const AVAIL_RING_ALIGN = 2;
/** Alignment of the used ring. */
export const USED_RING_ALIGN = 4;

/**
 * Whether `size` is a valid queue size: a power of 2 in 1..32768 (VIRTIO v1.2, 2.7).
 *
 * @param size Candidate queue size.
 * @returns `true` when valid.
 */
export function isValidQueueSize(size: number): boolean {
  return Number.isInteger(size) && size >= 1 && size <= MAX_QUEUE_SIZE && (size & (size - 1)) === 0;
}

/**
 * Bytes of a descriptor table: `16 * size` (VIRTIO v1.2, 2.7).
 *
 * @param size Queue size.
 * @returns The table's size in bytes.
 */
export function descTableSize(size: number): number {
  return VIRTQ_DESC_SIZE * size;
}

/**
 * Bytes of an available ring, `used_event` included: `6 + 2 * size` (VIRTIO v1.2, 2.7).
 *
 * @param size Queue size.
 * @returns The ring's size in bytes.
 */
export function availRingSize(size: number): number {
  return 6 + 2 * size;
}

/**
 * Bytes of a used ring, `avail_event` included: `6 + 8 * size` (VIRTIO v1.2, 2.7).
 *
 * @param size Queue size.
 * @returns The ring's size in bytes.
 */
export function usedRingSize(size: number): number {
  return 6 + VIRTQ_USED_ELEM_SIZE * size;
}

/**
 * Offset of `used_event` in the available ring: just after `ring[size]` (Appendix A, `virtq_used_event`).
 *
 * @param size Queue size.
 * @returns Byte offset from the start of the available ring.
 */
export function usedEventOffset(size: number): number {
  return VIRTQ_AVAIL_RING + 2 * size;
}

/**
 * Offset of `avail_event` in the used ring: just after `ring[size]` (Appendix A, `virtq_avail_event`).
 *
 * @param size Queue size.
 * @returns Byte offset from the start of the used ring.
 */
export function availEventOffset(size: number): number {
  return VIRTQ_USED_RING + VIRTQ_USED_ELEM_SIZE * size;
}

/**
 * `virtq_need_event` (Appendix A): whether moving an index from `oldIdx` to `newIdx` crossed `eventIdx`, i.e.
 * whether the entry at `eventIdx` is among those just added, all in u16 wrapping arithmetic.
 *
 * @param eventIdx `used_event` (device side) or `avail_event` (driver side).
 * @param newIdx The index after the update.
 * @param oldIdx The index at the previous notification decision.
 * @returns `true` when a notification is needed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { virtqNeedEvent } from "./ring.ts";
 * assert.ok(virtqNeedEvent(0, 1, 0)); // the first buffer was used and the driver asked for entry 0
 * assert.ok(!virtqNeedEvent(5, 3, 0)); // entry 5 is not used yet
 * ```
 */
export function virtqNeedEvent(eventIdx: number, newIdx: number, oldIdx: number): boolean {
  return ((newIdx - eventIdx - 1) & 0xffff) < ((newIdx - oldIdx) & 0xffff);
}

/** Guest-physical addresses of the three parts of a split virtqueue (SET_VRING_ADDR, after VA→GPA translation). */
export interface RingAddresses {
  /** Descriptor table (16-byte aligned). */
  readonly desc: number;
  /** Available ring (2-byte aligned). */
  readonly avail: number;
  /** Used ring (4-byte aligned). */
  readonly used: number;
}

/** Where the three parts of one split virtqueue lie, as computed by `splitRingLayout()`. */
export interface SplitRingLayout extends RingAddresses {
  /** First guest-physical address after the used ring (where the next carving may start). */
  readonly end: number;
}

/**
 * Carves a split virtqueue out of guest RAM, starting at `base`: descriptor table, available ring, then used ring,
 * each at its minimum alignment (VIRTIO v1.2, 2.7), or the used ring at `usedAlign` for a legacy-style layout
 * (4096, 2.7.2).
 *
 * @param base First usable guest-physical address.
 * @param size Queue size (a power of 2, 1..32768).
 * @param usedAlign Alignment of the used ring: 4 (default) or a larger power of 2.
 * @returns The three addresses and the end.
 * @throws RangeError for an invalid size or alignment.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitRingLayout } from "./ring.ts";
 * const l = splitRingLayout(0x1000, 256);
 * assert.deepEqual(l, { desc: 0x1000, avail: 0x2000, used: 0x2208, end: 0x2a0e });
 * ```
 */
export function splitRingLayout(base: number, size: number, usedAlign = USED_RING_ALIGN): SplitRingLayout {
  if (!isValidQueueSize(size)) {
    throw new RangeError(
      `Cannot lay out virtqueue: size must be a power of 2 in 1..32768: current value is ${size}`,
    );
  }
  if (!isValidQueueSize(usedAlign) || usedAlign < USED_RING_ALIGN) {
    throw new RangeError(
      `Cannot lay out virtqueue: used ring alignment must be a power of 2 >= 4: current value is ${usedAlign}`,
    );
  }
  const desc = alignUp(base, DESC_TABLE_ALIGN);
  const avail = desc + descTableSize(size);
  const used = alignUp(avail + availRingSize(size), usedAlign);
  return { desc, avail, used, end: used + usedRingSize(size) };
}

/**
 * Bytes needed for one indirect table per descriptor head, each of `entries` descriptors: the area a
 * `DriverQueue` uses for indirect chains (VIRTIO v1.2, 2.7.5.3).
 *
 * @param size Queue size (one table slot per head).
 * @param entries Descriptors per table.
 * @returns The area's size in bytes.
 */
export function indirectAreaSize(size: number, entries: number): number {
  return size * entries * VIRTQ_DESC_SIZE;
}

/** One part of a ring (descriptor table, avail ring, used ring, indirect table) as a host view. */
export interface RingPart {
  /** The bytes of the guest region that holds the part. */
  readonly bytes: Uint8Array;
  /** Offset of the part in `bytes`. */
  readonly base: number;
}

/**
 * The host view of the ring part `[gpa, gpa + len)`. The part must lie inside one guest region, so that it is
 * contiguous in host memory (vhost and QEMU require the same of rings and indirect tables).
 *
 * @param mem Guest memory.
 * @param gpa Guest-physical address of the part.
 * @param len Length of the part.
 * @returns The view, or undefined when the part is not inside one region.
 */
export function ringPart(mem: GuestMemory, gpa: number, len: number): RingPart | undefined {
  const region = Number.isSafeInteger(gpa) ? mem.find(gpa, len) : undefined;
  return region === undefined ? undefined : { bytes: region.bytes, base: gpa - region.gpa };
}

/**
 * A 1-element `Uint16Array` over a ring index (`avail.idx`, `used.idx`, `used_event`, `avail_event`), for
 * `Atomics` (style.md rule 11). The view is in host byte order: virtio 1.x is little-endian, as are all hosts
 * Deno runs on (x86-64, aarch64).
 *
 * UNSAFE: the view is live memory the other side writes or reads concurrently; access it through `Atomics`, or
 * with plain accesses where x86-64's order makes them Acquire and Release (`_index_order.ts`).
 *
 * @param part The ring part.
 * @param off Offset of the u16 in the part.
 * @returns The view, or undefined when its host address is not 2-byte aligned.
 */
export function ringIndexView(part: RingPart, off: number): Uint16Array | undefined {
  const at = part.bytes.byteOffset + part.base + off;
  return at % 2 === 0 ? new Uint16Array(part.bytes.buffer, at, 1) : undefined;
}

function alignUp(value: number, align: number): number {
  return Math.ceil(value / align) * align;
}
