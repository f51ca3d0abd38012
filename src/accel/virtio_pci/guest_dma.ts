/**
 * `GuestDmaMap`: the guest's RAM mapped into the accelerator's IOMMU domain at IOVA = guest-physical address
 * (design.md decision 4), so a descriptor address from the guest goes to the device unchanged.
 *
 * The table follows the vhost-user memory table: `set()` unmaps the previous regions and maps the new ones (the
 * handler calls it with no request in flight, before it unmaps the old regions from the process). A region that
 * cannot be mapped (not page-aligned, outside the IOMMU's allowed IOVA ranges, colliding with the engine's own
 * buffers, or more than the process may pin) is left out and logged: its requests go through the bounce buffers,
 * slower but correct.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { DmaRegion } from "../../engine/mod.ts";
import type { DmaPort } from "./port.ts";
import type { GuestDmaLookup } from "./request_builder.ts";

const log = getLogger(["cryptobridge", "accel"]);

const PAGE = 4096;

/** Guest regions mapped for the device. */
export class GuestDmaMap implements GuestDmaLookup {
  readonly #dma: DmaPort;
  // Mapped regions, sorted by start: [start, end) pairs.
  #starts: number[] = [];
  #ends: number[] = [];
  // The last region a lookup hit (requests cluster in one region).
  #hit = -1;

  /** @param dma Where to map. */
  constructor(dma: DmaPort) {
    this.#dma = dma;
  }

  /** Mapped regions, as `[gpa, end)` pairs (for logs and tests). */
  get mapped(): readonly (readonly [number, number])[] {
    return this.#starts.map((s, i) => [s, this.#ends[i]!] as const);
  }

  /**
   * Replaces the mapped regions with `regions`. Never throws: a region that cannot be mapped is logged and left
   * to the bounce buffers.
   *
   * @param regions The guest's memory table (empty to unmap everything).
   */
  set(regions: readonly DmaRegion[]): void {
    this.clear();
    const mapped: DmaRegion[] = [];
    for (const r of [...regions].sort((a, b) => a.gpa - b.gpa)) {
      const why = this.#map(r);
      if (why === null) mapped.push(r);
      else {
        log.warn(
          "guest region 0x{gpa}+0x{size} is not mapped for DMA ({why}): its requests use bounce buffers",
          {
            gpa: r.gpa.toString(16),
            size: r.size.toString(16),
            why,
          },
        );
      }
    }
    this.#starts = mapped.map((r) => r.gpa);
    this.#ends = mapped.map((r) => r.gpa + r.size);
  }

  #map(r: DmaRegion): string | null {
    if (r.address === 0n) return "no host address";
    if (r.gpa % PAGE !== 0 || r.size % PAGE !== 0 || Number(r.address % BigInt(PAGE)) !== 0) {
      return "not page-aligned";
    }
    try {
      this.#dma.mapFixed(r.address, r.gpa, r.size);
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  }

  /** Unmaps every region (the device can no longer reach guest RAM). Never throws. */
  clear(): void {
    for (const gpa of this.#starts) {
      try {
        this.#dma.unmapFixed(gpa);
      } catch (e) {
        log.error("cannot unmap guest region 0x{gpa} from the IOMMU: {error}", {
          gpa: gpa.toString(16),
          error: e,
        });
      }
    }
    this.#starts = [];
    this.#ends = [];
    this.#hit = -1;
  }

  covers(gpa: number, len: number): boolean {
    const h = this.#hit;
    if (h >= 0 && gpa >= this.#starts[h]! && gpa + len <= this.#ends[h]!) return true;
    const starts = this.#starts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (gpa < starts[mid]!) hi = mid - 1;
      else if (gpa >= this.#ends[mid]!) lo = mid + 1;
      else {
        this.#hit = mid;
        return gpa + len <= this.#ends[mid]!;
      }
    }
    return false;
  }
}
