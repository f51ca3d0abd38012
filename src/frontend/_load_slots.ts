/**
 * A `LoadGenerator`'s slots laid out in guest RAM, once, before any run: each slot's device-readable parts copied
 * in, its writable parts and status byte placed, its descriptor list built, its expected output taken. The runs
 * then only rewrite the status byte (and, when sampled, the output) and add the prebuilt list.
 *
 * @module
 */

import { DriverBufferList } from "../virtio/mod.ts";
import { align } from "./driver_setup.ts";
import type { LoadGeneratorOptions } from "./load_options.ts";

/** Every slot's request, ready to be sent again and again. */
export interface LoadSlots {
  /** Each slot's descriptor list. */
  readonly lists: DriverBufferList[];
  /** Each slot's writable parts, one view of guest RAM (before the status byte). */
  readonly outputs: Uint8Array[];
  /** Each slot's expected output, as long as its `outputs` view. */
  readonly expected: Uint8Array[];
  /** Each slot's status byte, as an offset into the RAM region's bytes. */
  readonly statusAt: Float64Array;
  /** Each slot's used length when it succeeds: its output plus the status byte. */
  readonly usedLen: Float64Array;
}

/**
 * Lays out `depth` slots from `o.area` on.
 *
 * @param o RAM, queue, area, requests and expected outputs.
 * @param depth Slots (already checked against the queue size).
 * @param indirect Whether the chains are indirect (they then take one ring descriptor, up to 64 in the table).
 * @returns The slots.
 * @throws RangeError when a slot's chain does not fit the queue at this depth, the slots do not fit the area, or
 *   an expected output has the wrong length.
 */
export function layOutSlots(o: LoadGeneratorOptions, depth: number, indirect: boolean): LoadSlots {
  const slots: LoadSlots = {
    lists: [],
    outputs: [],
    expected: [],
    statusAt: new Float64Array(depth),
    usedLen: new Float64Array(depth),
  };
  const fit = { depth, indirect, queueSize: o.queue.driver.size };
  let at = o.area;
  for (let slot = 0; slot < depth; slot++) at = layOutSlot(slots, slot, { o, start: at, fit });
  return slots;
}

interface Fit {
  readonly depth: number;
  readonly indirect: boolean;
  readonly queueSize: number;
}

// Out parts each 64-byte aligned; in parts contiguous (one view compares them all), then the status byte.
function layOutSlot(
  slots: LoadSlots,
  slot: number,
  where: { readonly o: LoadGeneratorOptions; readonly start: number; readonly fit: Fit },
): number {
  const { o, start, fit } = where;
  const bytesAt = (gpa: number, len: number): Uint8Array => {
    const off = gpa - o.ram.region.gpa;
    return o.ram.region.bytes.subarray(off, off + len);
  };
  const req = o.request(slot);
  const parts = req.out.length + req.inLengths.length + 1;
  const inTotal = req.inLengths.reduce((n, len) => n + len, 0);
  const need = req.out.reduce((n, b) => n + align(b.length, 64), 0) + inTotal + 1;
  checkFits(parts, fit, start + need <= o.area + o.areaSize ? 0 : o.areaSize);
  const list = new DriverBufferList(parts);
  let at = start;
  for (const bytes of req.out) {
    bytesAt(at, bytes.length).set(bytes);
    list.push(at, bytes.length, false);
    at = align(at + bytes.length, 64);
  }
  const inStart = at;
  for (const len of req.inLengths) {
    list.push(at, len, true);
    at += len;
  }
  list.push(at, 1, true);
  slots.statusAt[slot] = at - o.ram.region.gpa;
  slots.usedLen[slot] = inTotal + 1;
  slots.outputs[slot] = bytesAt(inStart, inTotal);
  const expected = o.expected(slot);
  if (expected.length !== inTotal) {
    throw new RangeError(
      `Cannot set up load: expected output of slot ${slot} must be ${inTotal} bytes: current length is ${expected.length}`,
    );
  }
  slots.expected[slot] = expected;
  slots.lists[slot] = list;
  return align(at + 1, 64);
}

/**
 * Throws when a slot's chain cannot be added at this depth, or when its bytes overflow the area (`overflowed`:
 * the area's size, 0 when it fits).
 */
function checkFits(parts: number, fit: Fit, overflowed: number): void {
  const { depth, indirect, queueSize } = fit;
  const fits = indirect ? parts <= 64 : parts * depth <= queueSize;
  if (!fits) {
    const why = indirect
      ? `a request of ${parts} descriptors exceeds the indirect table of 64`
      : `depth ${depth} × ${parts} descriptors exceeds the queue size ${queueSize}: lower the depth or use indirect chains`;
    throw new RangeError(`Cannot set up load: ${why}`);
  }
  if (overflowed > 0) {
    throw new RangeError(
      `Cannot set up load: ${depth} requests need more than the ${overflowed} bytes of the area`,
    );
  }
}
