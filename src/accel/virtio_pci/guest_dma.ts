/**
 * Guest RAM in the accelerator's IOMMU domain, one VM at a time (design.md decision 4).
 *
 * Every VM's regions go into the one VFIO container, so their IOVAs must not collide although their
 * guest-physical addresses do (every guest's RAM starts at 0). A region is mapped at IOVA = the daemon's host
 * address of its mapping (unique in the process, as DPDK's and SPDK's vhost targets do) where that address lies
 * in the IOMMU's usable ranges, else at a range the allocator picks (an IOMMU with fewer address bits, such as
 * QEMU's intel-iommu at 39). The VM's thread then translates each descriptor address GPA → IOVA through its own
 * table (`GuestIovaMap`): an address outside the sending VM's table has no IOVA and never reaches the device.
 *
 * `VmDmaMap` (main thread) owns the mappings of one VM: `set()` follows the vhost-user memory table, `suspend()`
 * unmaps them when the device fails (so a late write cannot land) and `resume()` maps them again at the same IOVAs
 * after a restart. A region that cannot be mapped (not page-aligned, no IOVA room, more than the process may pin)
 * is left out and logged: its requests go through the bounce buffers, slower but correct.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { DmaRegion } from "../../engine/mod.ts";
import type { DmaPort } from "./port.ts";

const log = getLogger(["cryptobridge", "accel"]);

const PAGE = 4096;

/** One mapped guest region: where the guest and where the device see it. */
export interface IovaEntry {
  readonly gpa: number;
  readonly size: number;
  readonly iova: number;
}

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

/** A VM's translation table, in the thread that builds its requests. */
export class GuestIovaMap implements GuestIovaLookup {
  readonly #starts: number[];
  readonly #ends: number[];
  readonly #iovas: number[];
  // The last region a lookup hit (requests cluster in one region).
  #hit = -1;

  /** @param entries The VM's mapped regions (any order). */
  constructor(entries: readonly IovaEntry[] = []) {
    const sorted = [...entries].sort((a, b) => a.gpa - b.gpa);
    this.#starts = sorted.map((e) => e.gpa);
    this.#ends = sorted.map((e) => e.gpa + e.size);
    this.#iovas = sorted.map((e) => e.iova);
  }

  /** Mapped regions, as `[gpa, end, iova]` (for logs and tests). */
  get entries(): readonly (readonly [number, number, number])[] {
    return this.#starts.map((s, i) => [s, this.#ends[i]!, this.#iovas[i]!] as const);
  }

  iova(gpa: number, len: number): number {
    const h = this.#hit;
    if (h >= 0 && gpa >= this.#starts[h]! && gpa + len <= this.#ends[h]!) {
      return this.#iovas[h]! + gpa - this.#starts[h]!;
    }
    const starts = this.#starts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (gpa < starts[mid]!) hi = mid - 1;
      else if (gpa >= this.#ends[mid]!) lo = mid + 1;
      else {
        this.#hit = mid;
        return gpa + len <= this.#ends[mid]! ? this.#iovas[mid]! + gpa - starts[mid]! : -1;
      }
    }
    return -1;
  }
}

interface Mapped {
  readonly region: DmaRegion;
  readonly iova: number;
}

/** One VM's guest RAM mapped for the device (main thread). */
export class VmDmaMap {
  readonly #dma: DmaPort;
  readonly #name: string;
  #mapped: Mapped[] = [];
  #suspended = false;

  /**
   * @param dma Where to map.
   * @param name The VM's name, for logs.
   */
  constructor(dma: DmaPort, name: string) {
    this.#dma = dma;
    this.#name = name;
  }

  /** What is mapped (while suspended: what will be again after `resume()`, once its IOVA is known). */
  get entries(): IovaEntry[] {
    return this.#mapped.filter((m) => m.iova >= 0).map((m) => ({
      gpa: m.region.gpa,
      size: m.region.size,
      iova: m.iova,
    }));
  }

  /**
   * Replaces the VM's mapped regions with `regions`. Never throws: a region that cannot be mapped is logged and
   * left to the bounce buffers.
   *
   * @param regions The VM's memory table (empty to unmap everything).
   * @returns What got mapped.
   */
  set(regions: readonly DmaRegion[]): IovaEntry[] {
    this.clear();
    for (const r of [...regions].sort((a, b) => a.gpa - b.gpa)) {
      const mapped = this.#map(r);
      if (typeof mapped === "number") this.#mapped.push({ region: r, iova: mapped });
      else {log.warn(
          "VM {vm}: guest region 0x{gpa}+0x{size} is not mapped for DMA ({why}): its requests use bounce buffers",
          { vm: this.#name, gpa: r.gpa.toString(16), size: r.size.toString(16), why: mapped },
        );}
    }
    return this.entries;
  }

  #map(r: DmaRegion): number | string {
    if (r.address === 0n) return "no host address";
    if (r.gpa % PAGE !== 0 || r.size % PAGE !== 0 || Number(r.address % BigInt(PAGE)) !== 0) {
      return "not page-aligned";
    }
    if (this.#suspended) return -1; // mapped at resume(): its IOVA is chosen then
    try {
      return this.#dma.mapAnywhere(r.address, r.size, Number(r.address));
    } catch (e) {
      return (e as Error).message;
    }
  }

  /** The device went down: unmap everything, keep the table for `resume()`. */
  suspend(): void {
    if (this.#suspended) return;
    this.#unmapAll();
    this.#suspended = true;
  }

  /** The device is back: map the table again at the same IOVAs. Never throws (what fails is dropped and logged). */
  resume(): void {
    if (!this.#suspended) return;
    this.#suspended = false;
    const table = this.#mapped;
    this.#mapped = [];
    for (const m of table) {
      try {
        const r = m.region;
        if (m.iova >= 0) this.#dma.mapFixed(r.address, m.iova, r.size);
        this.#mapped.push(
          m.iova >= 0 ? m : { region: r, iova: this.#dma.mapAnywhere(r.address, r.size, Number(r.address)) },
        );
      } catch (e) {
        log.error("VM {vm}: cannot map guest region 0x{gpa} again: {error}", {
          vm: this.#name,
          gpa: m.region.gpa.toString(16),
          error: (e as Error).message,
        });
      }
    }
  }

  /** Unmaps every region (the device can no longer reach this VM's RAM). Never throws. */
  clear(): void {
    if (!this.#suspended) this.#unmapAll();
    this.#mapped = [];
  }

  #unmapAll(): void {
    for (const m of this.#mapped) {
      try {
        this.#dma.unmapFixed(m.iova);
      } catch (e) {
        log.error("VM {vm}: cannot unmap guest region 0x{gpa} from the IOMMU: {error}", {
          vm: this.#name,
          gpa: m.region.gpa.toString(16),
          error: e,
        });
      }
    }
  }
}
