/**
 * BAR mappings and MMIO access.
 *
 * A BAR is mapped only where VFIO allows: the sparse-mmap areas when the region reports them, the whole BAR
 * otherwise, and never the pages of the MSI-X table or PBA, even when the kernel would allow it (MSIX_MAPPABLE):
 * the table belongs to the kernel, which programs it through VFIO_DEVICE_SET_IRQS (vfio-ffi.md §1.3).
 *
 * Registers are accessed through naturally aligned Uint8/16/32Array views of the mapping, never a DataView: an
 * interpreted `DataView.setUint32` on foreign memory is four byte stores, and a device register must see one
 * 32-bit store (vfio-ffi.md §0 item 5, §3.5). 64-bit registers are written as two 32-bit stores, low half first.
 *
 * @module
 */

import type { Mapping } from "../os/mod.ts";
import type { VfioDevice } from "./device.ts";
import { VfioError } from "./errors.ts";
import type { RegionInfo, SparseArea } from "./regions.ts";

/** Where the MSI-X structures are (from the MSI-X capability). */
export interface MsixPlacement {
  /** Vectors (16 bytes of table each). */
  readonly tableSize: number;
  /** BAR of the table. */
  readonly tableBar: number;
  /** Offset of the table in it. */
  readonly tableOffset: number;
  /** BAR of the pending-bit array. */
  readonly pbaBar: number;
  /** Offset of the PBA in it. */
  readonly pbaOffset: number;
}

const PAGE = 4096;
const MSIX_ENTRY_SIZE = 16;

/**
 * The parts of a BAR that may be mapped: the sparse areas (or the whole BAR) minus the page-rounded MSI-X table
 * and PBA. Pure.
 *
 * @param region The BAR's region info.
 * @param msix The MSI-X capability, or `null`.
 * @param pageSize The page size (mmap granularity).
 * @returns Areas with page-aligned offsets, relative to the BAR, in order.
 */
export function mappableAreas(region: RegionInfo, msix: MsixPlacement | null, pageSize = PAGE): SparseArea[] {
  if (!region.mappable || region.size === 0) return [];
  let areas: SparseArea[] = (region.sparseAreas ?? [{ offset: 0, size: region.size }])
    .map((a) => ({ offset: a.offset, size: Math.min(a.size, region.size - a.offset) }))
    .filter((a) => a.size > 0);
  if (msix !== null) {
    const holes: SparseArea[] = [];
    if (msix.tableBar === region.index) {
      holes.push({ offset: msix.tableOffset, size: msix.tableSize * MSIX_ENTRY_SIZE });
    }
    if (msix.pbaBar === region.index) {
      holes.push({ offset: msix.pbaOffset, size: Math.ceil(msix.tableSize / 64) * 8 });
    }
    for (const hole of holes) areas = subtract(areas, hole, pageSize);
  }
  return areas;
}

function subtract(areas: readonly SparseArea[], hole: SparseArea, pageSize: number): SparseArea[] {
  const start = Math.floor(hole.offset / pageSize) * pageSize;
  const end = Math.ceil((hole.offset + hole.size) / pageSize) * pageSize;
  const out: SparseArea[] = [];
  for (const a of areas) {
    const aEnd = a.offset + a.size;
    if (aEnd <= start || a.offset >= end) {
      out.push(a);
      continue;
    }
    if (a.offset < start) out.push({ offset: a.offset, size: start - a.offset });
    if (aEnd > end) out.push({ offset: end, size: aEnd - end });
  }
  return out;
}

/** Aligned register access to part of a mapped BAR. Throws once its BAR mapping is closed. */
export class MmioWindow {
  /** Offset of the window in its BAR. */
  readonly offset: number;
  /** Host address of the window's first byte (another thread re-wraps a register from it). */
  readonly address: bigint;
  #length: number;
  #u8: Uint8Array;
  #u16: Uint16Array;
  #u32: Uint32Array;

  /** @internal Created by `BarMapping.window`. */
  constructor(buffer: ArrayBufferLike, byteOffset: number, length: number, barOffset: number, address = 0n) {
    this.offset = barOffset;
    this.address = address;
    this.#length = length;
    this.#u8 = new Uint8Array(buffer, byteOffset, length);
    this.#u16 = new Uint16Array(buffer, byteOffset, length >>> 1);
    this.#u32 = new Uint32Array(buffer, byteOffset, length >>> 2);
  }

  /** Length in bytes (0 once closed). */
  get length(): number {
    return this.#length;
  }

  #check(offset: number, width: number): void {
    if (offset < 0 || offset + width > this.#length || offset % width !== 0) {
      throw new VfioError(
        this.#length === 0 ? "closed" : "region",
        `Cannot access ${width} bytes at 0x${
          offset.toString(16)
        } of an MMIO window of ${this.#length} bytes` +
          (this.#length === 0 ? ": it is unmapped" : ": out of range or unaligned"),
      );
    }
  }

  /** One 8-bit load. */
  read8(offset: number): number {
    this.#check(offset, 1);
    return this.#u8[offset]!;
  }

  /** One 16-bit load. */
  read16(offset: number): number {
    this.#check(offset, 2);
    return this.#u16[offset >>> 1]!;
  }

  /** One 32-bit load. */
  read32(offset: number): number {
    this.#check(offset, 4);
    return this.#u32[offset >>> 2]!;
  }

  /** One 8-bit store. */
  write8(offset: number, value: number): void {
    this.#check(offset, 1);
    this.#u8[offset] = value;
  }

  /** One 16-bit store. */
  write16(offset: number, value: number): void {
    this.#check(offset, 2);
    this.#u16[offset >>> 1] = value;
  }

  /** One 32-bit store. */
  write32(offset: number, value: number): void {
    this.#check(offset, 4);
    this.#u32[offset >>> 2] = value;
  }

  /** A 64-bit register as two 32-bit stores, low half first (DPDK `io_write64_twopart`). */
  write64(offset: number, value: number): void {
    this.write32(offset, value >>> 0);
    this.write32(offset + 4, Math.floor(value / 0x1_0000_0000));
  }

  /** @internal Makes every later access throw (the mapping is going away). */
  invalidate(): void {
    this.#length = 0;
    this.#u8 = new Uint8Array(0);
    this.#u16 = new Uint16Array(0);
    this.#u32 = new Uint32Array(0);
  }
}

/** The mappable parts of one BAR. */
export class BarMapping implements Disposable {
  /** The BAR (region index). */
  readonly bar: number;
  /** The BAR's size. */
  readonly size: number;
  /** The mapped areas, relative to the BAR. */
  readonly areas: readonly SparseArea[];
  readonly #mappings: Mapping[];
  readonly #windows: MmioWindow[] = [];

  private constructor(bar: number, size: number, areas: SparseArea[], mappings: Mapping[]) {
    this.bar = bar;
    this.size = size;
    this.areas = areas;
    this.#mappings = mappings;
  }

  /**
   * Maps a BAR's mappable areas.
   *
   * @param device The device.
   * @param bar The BAR index (0..5).
   * @param msix The device's MSI-X capability, or `null` (then nothing is excluded).
   * @returns The mapping.
   * @throws VfioError `region` when nothing of the BAR may be mapped.
   */
  static map(device: VfioDevice, bar: number, msix: MsixPlacement | null): BarMapping {
    const region = device.regionInfo(bar);
    const areas = mappableAreas(region, msix);
    if (areas.length === 0) {
      throw new VfioError(
        "region",
        `BAR${bar} of ${device.name} has nothing that may be mmapped (size ${region.size})`,
      );
    }
    const mappings: Mapping[] = [];
    try {
      for (const a of areas) mappings.push(device.mapRegion(bar, a.offset, a.size));
    } catch (e) {
      for (const m of mappings) m.unmap();
      throw e;
    }
    return new BarMapping(bar, region.size, areas, mappings);
  }

  /**
   * Register access to `[offset, offset + length)` of the BAR, which must lie in one mapped area.
   *
   * @param offset 4-byte aligned offset in the BAR.
   * @param length Bytes.
   * @returns The window.
   * @throws VfioError `region` when the range is not mapped (outside the BAR, or over the MSI-X table).
   */
  window(offset: number, length: number): MmioWindow {
    const i = this.areas.findIndex((a) => a.offset <= offset && offset + length <= a.offset + a.size);
    const mapping = this.#mappings[i];
    if (i < 0 || mapping === undefined || offset % 4 !== 0) {
      throw new VfioError(
        "region",
        `Cannot map BAR${this.bar} range 0x${offset.toString(16)}+0x${
          length.toString(16)
        }: not inside one mapped area`,
      );
    }
    const bytes = mapping.bytes;
    const inArea = offset - this.areas[i]!.offset;
    const w = new MmioWindow(
      bytes.buffer,
      bytes.byteOffset + inArea,
      length,
      offset,
      mapping.address + BigInt(inArea),
    );
    this.#windows.push(w);
    return w;
  }

  /** Invalidates the windows and unmaps; idempotent. */
  close(): void {
    for (const w of this.#windows) w.invalidate();
    this.#windows.length = 0;
    for (const m of this.#mappings) m.unmap();
  }

  /** `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
