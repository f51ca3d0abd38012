/**
 * Argument checks of `SplitQueue`'s set-up calls (ring addresses, ring indices): each throws with the bad value.
 *
 * @module
 */

import { VirtqueueError } from "./errors.ts";

/**
 * @throws VirtqueueError `invalid-ring-address` unless `gpa` is a safe integer >= 0 aligned to `align`.
 */
export function checkRingAddress(name: string, gpa: number, align: number): void {
  if (!Number.isSafeInteger(gpa) || gpa < 0 || gpa % align !== 0) {
    throw new VirtqueueError(
      "invalid-ring-address",
      `Cannot set ring address: ${name} must be a ${align}-byte aligned guest address: current value is ${gpa}`,
    );
  }
}

/**
 * @returns `value`.
 * @throws RangeError unless `value` is a u16.
 */
export function checkU16(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw new RangeError(`Cannot set ${name}: value must be a u16: current value is ${value}`);
  }
  return value;
}
