/**
 * The checks a `DriverQueue` makes once, when it takes over its rings: each part aligned and inside one guest
 * region, each index aligned for `Atomics`. Setup only; the queue keeps the views they return.
 *
 * @module
 */

import type { GuestMemory } from "../memory/mod.ts";
import { ringIndexView, type RingPart, ringPart } from "./ring.ts";

/**
 * The host view of one ring part the driver writes.
 *
 * @param mem Guest memory.
 * @param name The part, for the message.
 * @param gpa Its guest-physical address.
 * @param len Its bytes.
 * @param align The alignment 2.7 requires of it (1 for the indirect area).
 * @returns The view.
 * @throws RangeError when misaligned or not inside one guest region.
 */
export function driverRingPart(
  mem: GuestMemory,
  name: string,
  gpa: number,
  len: number,
  align: number,
): RingPart {
  const found = gpa % align === 0 ? ringPart(mem, gpa, len) : undefined;
  if (found === undefined) {
    const where = `0x${gpa.toString(16)}+${len}`;
    throw new RangeError(
      `Cannot create driver queue: ${name} must be ${align}-byte aligned in one guest region: current value is ${where}`,
    );
  }
  return found;
}

/**
 * A 1-element view of a ring index, for `Atomics`.
 *
 * @param p The ring part.
 * @param off The index's offset in it.
 * @returns The view.
 * @throws RangeError when the index is not 2-byte aligned in host memory.
 */
export function driverIndexView(p: RingPart, off: number): Uint16Array {
  const view = ringIndexView(p, off);
  if (view === undefined) {
    throw new RangeError("Cannot create driver queue: a ring index is misaligned in host memory");
  }
  return view;
}
