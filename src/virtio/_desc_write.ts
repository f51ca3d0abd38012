/**
 * Writing one split-ring descriptor (VIRTIO v1.2, 2.7.5: addr, len, flags, next), for `DriverQueue`.
 *
 * @module
 */

import { writeU16, writeU32, writeU64Number } from "./le.ts";
import { type RingPart, VIRTQ_DESC_SIZE } from "./ring.ts";

/**
 * Writes descriptor `index` of a table (the ring's, or an indirect one).
 *
 * @param p The table.
 * @param index The descriptor.
 * @param gpa Its buffer's guest-physical address.
 * @param len Its buffer's length.
 * @param flags VIRTQ_DESC_F_*.
 * @param next The next descriptor when VIRTQ_DESC_F_NEXT is set.
 */
export function writeDesc(
  p: RingPart,
  index: number,
  gpa: number,
  len: number,
  flags: number,
  next: number,
): void {
  const off = p.base + index * VIRTQ_DESC_SIZE;
  writeU64Number(p.bytes, off, gpa);
  writeU32(p.bytes, off + 8, len);
  writeU16(p.bytes, off + 12, flags);
  writeU16(p.bytes, off + 14, next);
}
