/**
 * The host views of a `SplitQueue`'s rings: the descriptor table, the avail and used rings, and 1-element
 * `Uint16Array` views of the four indices for `Atomics`. Built once per memory table (SET_MEM_TABLE changes the
 * generation), so the queue's per-request path only compares the table and the generation.
 *
 * @module
 */

import type { GuestMemory } from "../memory/mod.ts";
import type { DescTableView } from "./descriptor_chain.ts";
import { VirtqueueError } from "./errors.ts";
import {
  availEventOffset,
  availRingSize,
  descTableSize,
  type RingAddresses,
  ringIndexView,
  type RingPart,
  ringPart,
  usedEventOffset,
  usedRingSize,
  VIRTQ_AVAIL_IDX,
  VIRTQ_USED_IDX,
} from "./ring.ts";

/** Host views of a queue's rings, derived from one memory table and dropped when the table changes. */
export interface RingViews {
  readonly mem: GuestMemory;
  readonly generation: number;
  readonly table: DescTableView;
  readonly avail: RingPart;
  readonly used: RingPart;
  readonly availIdx: Uint16Array;
  readonly usedEvent: Uint16Array;
  readonly usedIdx: Uint16Array;
  readonly availEvent: Uint16Array;
}

/**
 * Finds the rings in guest memory and makes their host views.
 *
 * @param mem Guest memory (its current table).
 * @param addresses The ring addresses (GPAs), or `null` when none were set.
 * @param size The queue size.
 * @returns The views.
 * @throws VirtqueueError `invalid-ring-address` when there are no addresses, a ring is not inside one guest
 *   region, or an index is not 2-byte aligned in host memory.
 */
export function buildRingViews(mem: GuestMemory, addresses: RingAddresses | null, size: number): RingViews {
  if (addresses === null) {
    throw new VirtqueueError("invalid-ring-address", "Cannot use queue: no ring addresses");
  }
  const desc = partOf(mem, "descriptor table", addresses.desc, descTableSize(size));
  const avail = partOf(mem, "available ring", addresses.avail, availRingSize(size));
  const used = partOf(mem, "used ring", addresses.used, usedRingSize(size));
  return {
    mem,
    generation: mem.generation,
    table: { bytes: desc.bytes, base: desc.base, size },
    avail,
    used,
    availIdx: indexOf(avail, VIRTQ_AVAIL_IDX),
    usedEvent: indexOf(avail, usedEventOffset(size)),
    usedIdx: indexOf(used, VIRTQ_USED_IDX),
    availEvent: indexOf(used, availEventOffset(size)),
  };
}

function partOf(mem: GuestMemory, name: string, gpa: number, len: number): RingPart {
  const part = ringPart(mem, gpa, len);
  if (part === undefined) {
    throw new VirtqueueError(
      "invalid-ring-address",
      `Cannot use queue: ${name} must lie inside one guest region: current value is 0x${
        gpa.toString(16)
      }+${len}`,
    );
  }
  return part;
}

function indexOf(part: RingPart, off: number): Uint16Array {
  const view = ringIndexView(part, off);
  if (view === undefined) {
    throw new VirtqueueError(
      "invalid-ring-address",
      "Cannot use queue: a ring index is not 2-byte aligned in host memory",
    );
  }
  return view;
}
