/**
 * `RegionGuestMemory`: a pure table of regions (no FFI). The mmap that backs each region happens in `src/os/`;
 * tests build the same class over plain ArrayBuffers.
 *
 * @module
 */

import { type GuestMemory, GuestMemoryError, type GuestRegion } from "./guest_memory.ts";

/** Most regions a table may have: vhost-user's `VHOST_USER_MAX_RAM_SLOTS` is 509, QEMU sends at most 8. */
export const MAX_REGIONS = 509;

/** An immutable, validated table of guest memory regions. */
export class RegionGuestMemory implements GuestMemory {
  readonly generation: number;
  readonly regions: readonly GuestRegion[];
  // The last region a lookup hit: requests cluster in one region, so this makes `find` O(1) in practice.
  #last: GuestRegion | undefined;

  /**
   * @param regions The regions, in any order; they must not overlap in GPA nor in front-end VA.
   * @param generation The table's generation (previous + 1).
   * @throws GuestMemoryError when a region is malformed or two overlap.
   */
  constructor(regions: readonly GuestRegion[], generation = 0) {
    if (regions.length > MAX_REGIONS) {
      throw new GuestMemoryError(
        "bad-region",
        `Cannot build guest memory: at most ${MAX_REGIONS} regions: current value is ${regions.length}`,
      );
    }
    const sorted = [...regions].sort((a, b) => a.gpa - b.gpa);
    sorted.forEach(validateRegion);
    checkNoOverlap(sorted, (r) => r.gpa, "guest-physical");
    checkNoOverlap(
      [...sorted].sort((a, b) => a.frontendVa - b.frontendVa),
      (r) => r.frontendVa,
      "front-end virtual",
    );
    this.regions = sorted;
    this.generation = generation;
    this.#last = sorted[0];
  }

  find(gpa: number, len: number): GuestRegion | undefined {
    const n = len > 0 ? len : 1;
    const last = this.#last;
    if (last !== undefined && gpa >= last.gpa && gpa + n <= last.gpa + last.size) return last;
    const r = this.regionAt(gpa);
    if (r === undefined || gpa + n > r.gpa + r.size) return undefined;
    this.#last = r;
    return r;
  }

  regionAt(gpa: number): GuestRegion | undefined {
    const regions = this.regions;
    let lo = 0;
    let hi = regions.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const r = regions[mid]!;
      if (gpa < r.gpa) hi = mid - 1;
      else if (gpa >= r.gpa + r.size) lo = mid + 1;
      else return r;
    }
    return undefined;
  }

  checkRange(gpa: number, len: number): boolean {
    if (!Number.isSafeInteger(gpa) || !Number.isSafeInteger(len) || gpa < 0 || len < 0) return false;
    const last = this.#last;
    if (last !== undefined && gpa >= last.gpa && gpa + len <= last.gpa + last.size) return true;
    let at = gpa;
    const end = gpa + len;
    do {
      const r = this.regionAt(at);
      if (r === undefined) return false;
      at = r.gpa + r.size;
    } while (at < end);
    return true;
  }

  read(gpa: number, dst: Uint8Array): void {
    this.#copy(gpa, dst.length, (r, off, pos, n) => dst.set(r.bytes.subarray(off, off + n), pos));
  }

  write(gpa: number, src: Uint8Array): void {
    this.#copy(gpa, src.length, (r, off, pos, n) => r.bytes.set(src.subarray(pos, pos + n), off));
  }

  frontendVaToGpa(va: number, len: number): number | undefined {
    for (const r of this.regions) {
      if (va >= r.frontendVa && va + len <= r.frontendVa + r.size) return r.gpa + (va - r.frontendVa);
    }
    return undefined;
  }

  #copy(gpa: number, len: number, step: (r: GuestRegion, off: number, pos: number, n: number) => void): void {
    if (!this.checkRange(gpa, len)) {
      throw new GuestMemoryError(
        "out-of-range",
        `Cannot access guest memory: range 0x${gpa.toString(16)}+${len} is not all guest RAM`,
      );
    }
    let pos = 0;
    while (pos < len) {
      const r = this.regionAt(gpa + pos)!;
      const off = gpa + pos - r.gpa;
      const n = Math.min(len - pos, r.size - off);
      step(r, off, pos, n);
      pos += n;
    }
  }
}

function validateRegion(r: GuestRegion, i: number): void {
  const ok = Number.isSafeInteger(r.gpa) && r.gpa >= 0 && Number.isSafeInteger(r.size) && r.size > 0 &&
    Number.isSafeInteger(r.frontendVa) && r.frontendVa >= 0 && r.bytes.length === r.size &&
    Number.isSafeInteger(r.gpa + r.size) && Number.isSafeInteger(r.frontendVa + r.size);
  if (!ok) {
    throw new GuestMemoryError(
      "bad-region",
      `Cannot build guest memory: region ${i} is malformed: gpa 0x${r.gpa.toString(16)}, size ${r.size}, ` +
        `view of ${r.bytes.length} bytes`,
    );
  }
}

function checkNoOverlap(
  sorted: readonly GuestRegion[],
  start: (r: GuestRegion) => number,
  space: string,
): void {
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (start(prev) + prev.size > start(cur)) {
      throw new GuestMemoryError(
        "overlap",
        `Cannot build guest memory: regions overlap in ${space} space at 0x${start(cur).toString(16)}`,
      );
    }
  }
}
