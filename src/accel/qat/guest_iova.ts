/**
 * Guest memory for the QAT's DMA: the per-VM lookup the request builder asks for every buffer, and today's
 * single-VM implementation of it.
 *
 * `GuestIovaLookup` is the contract the many-VMs work uses too (each VM's RAM at IOVAs of its own, translated in
 * the VM's thread): a range maps to one IOVA, or to -1 when it is not entirely in one mapped region of that VM,
 * and then the request goes through the slot's bounce area (counted). It is declared here until the accelerators
 * share one definition.
 *
 * `IdentityIovaMap` maps the guest's regions at IOVA = GPA through `DmaPort.mapFixed`, as
 * `virtio_pci/guest_dma.ts` does, which works with one VM per container. A region that cannot be mapped (not
 * page-aligned, outside the IOMMU's ranges, more than the process may pin) is left out and logged.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { DmaRegion } from "../../engine/mod.ts";
import type { DmaPort } from "../virtio_pci/mod.ts";

const log = getLogger(["cryptobridge", "accel"]);

const PAGE = 4096;

/** GPA → IOVA for one VM, as the request builder asks it. */
export interface GuestIovaLookup {
  /**
   * The IOVA of `[gpa, gpa + len)`, or -1 when that range is not (entirely) in one mapped region of this VM.
   *
   * @param gpa Guest-physical address.
   * @param len Bytes.
   */
  iova(gpa: number, len: number): number;
}

/** No guest memory is mapped: every guest buffer bounces. */
export const NO_GUEST_MEMORY: GuestIovaLookup = { iova: () => -1 };

/** Guest regions mapped at IOVA = GPA. */
export class IdentityIovaMap implements GuestIovaLookup {
  readonly #dma: DmaPort;
  #starts: number[] = [];
  #ends: number[] = [];
  #hit = -1;

  /** @param dma Where to map. */
  constructor(dma: DmaPort) {
    this.#dma = dma;
  }

  /** Mapped regions as `[gpa, end)` (logs, tests). */
  get mapped(): readonly (readonly [number, number])[] {
    return this.#starts.map((s, i) => [s, this.#ends[i]!] as const);
  }

  /**
   * Replaces the mapped regions. Never throws: what cannot be mapped is logged and bounces.
   *
   * @param regions The guest's memory table (empty: unmap everything).
   */
  set(regions: readonly DmaRegion[]): void {
    this.clear();
    const mapped: DmaRegion[] = [];
    for (const r of [...regions].sort((a, b) => a.gpa - b.gpa)) {
      const why = this.#map(r);
      if (why === null) mapped.push(r);
      else {
        log.warn("guest region 0x{gpa}+0x{size} is not mapped for the QAT ({why}): its buffers bounce", {
          gpa: r.gpa.toString(16),
          size: r.size.toString(16),
          why,
        });
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

  /** Unmaps every region. Never throws. */
  clear(): void {
    for (const gpa of this.#starts) {
      try {
        this.#dma.unmapFixed(gpa);
      } catch (e) {
        log.error("cannot unmap guest region 0x{gpa}: {error}", { gpa: gpa.toString(16), error: e });
      }
    }
    this.#starts = [];
    this.#ends = [];
    this.#hit = -1;
  }

  iova(gpa: number, len: number): number {
    const h = this.#hit;
    if (h >= 0 && gpa >= this.#starts[h]! && gpa + len <= this.#ends[h]!) return gpa;
    let lo = 0;
    let hi = this.#starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (gpa < this.#starts[mid]!) hi = mid - 1;
      else if (gpa >= this.#ends[mid]!) lo = mid + 1;
      else {
        this.#hit = mid;
        return gpa + len <= this.#ends[mid]! ? gpa : -1;
      }
    }
    return -1;
  }
}
