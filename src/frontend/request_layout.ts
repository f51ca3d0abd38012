/**
 * Laying out one request in guest RAM the way a guest driver does: device-readable parts copied in, device-writable
 * parts reserved (or aliased onto a readable part: in place), an optional 1-byte status last, each part split into
 * descriptors of at most `maxDescriptor` bytes.
 *
 * @module
 */

import type { DriverBufferList } from "../virtio/mod.ts";
import type { ChainShape, InPart, OutPart } from "./chain_shape.ts";
import type { GuestRam } from "./guest_ram.ts";

/** Where a laid-out request's device-written bytes are, to read them back on completion. */
export interface RequestPlacement {
  /** Guest address and length of each in part. */
  readonly inAt: readonly { readonly gpa: number; readonly length: number }[];
  /** Guest address of the status byte, or -1 without one. */
  readonly statusGpa: number;
}

/**
 * Writes a request into `area` of guest RAM and fills `list` with its descriptors.
 *
 * @param ram Guest RAM.
 * @param list The buffer list to fill (cleared first).
 * @param area The request's slot of guest RAM.
 * @param request Out parts, in parts and the chain shape.
 * @returns Where the device will write.
 * @throws RangeError when the request does not fit the slot.
 */
export function layOutRequest(
  ram: GuestRam,
  list: DriverBufferList,
  area: { readonly gpa: number; readonly size: number },
  request: { readonly out: readonly OutPart[]; readonly in: readonly InPart[]; readonly shape: ChainShape },
): RequestPlacement {
  list.clear();
  const max = request.shape.maxDescriptor ?? Number.MAX_SAFE_INTEGER;
  let at = area.gpa;
  const take = (n: number): number => {
    const gpa = at;
    at += n;
    if (at > area.gpa + area.size) {
      throw new RangeError(`Cannot submit: the request needs more than ${area.size} bytes`);
    }
    return gpa;
  };
  const outAt = request.out.map((p) => {
    const gpa = take(p.bytes.length);
    ram.view(gpa, p.bytes.length).set(p.bytes);
    pushSplit(list, gpa, p.bytes.length, false, max);
    return gpa;
  });
  const inAt = request.in.map((p) => {
    const gpa = p.aliasOut === undefined ? take(p.length) : outAt[p.aliasOut]!;
    if (p.aliasOut === undefined) ram.view(gpa, p.length).fill(0);
    pushSplit(list, gpa, p.length, true, max);
    return { gpa, length: p.length };
  });
  let statusGpa = -1;
  if (request.shape.status ?? true) {
    statusGpa = take(1);
    ram.view(statusGpa, 1)[0] = 0xff; // a value no status has: proves the device wrote it
    list.push(statusGpa, 1, true);
  }
  return { inAt, statusGpa };
}

function pushSplit(list: DriverBufferList, gpa: number, len: number, writable: boolean, max: number): void {
  for (let off = 0; off < len; off += max) list.push(gpa + off, Math.min(max, len - off), writable);
}
