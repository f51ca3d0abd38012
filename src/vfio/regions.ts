/**
 * Decoding what VFIO reports about regions and the IOMMU, capability chains included (vfio-ffi.md §1.3, §1.5).
 * Pure: the functions take the argument bytes an ioctl filled, so tests feed them hand-built buffers.
 *
 * Capability chain protocol (`linux/vfio.h`): a call with a buffer too small for the capabilities still succeeds,
 * sets the CAPS flag, leaves `cap_offset` 0 and returns the needed `argsz`; called again with that size, the
 * kernel appends the chain, each `next` being an offset from the start of the buffer, 0 at the end.
 *
 * @module
 */

import {
  VFIO_IOMMU_INFO_CAPS,
  VFIO_IOMMU_INFO_PGSIZES,
  VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
  VFIO_REGION_INFO_CAP_MSIX_MAPPABLE,
  VFIO_REGION_INFO_CAP_SPARSE_MMAP,
  VFIO_REGION_INFO_CAP_TYPE,
  VFIO_REGION_INFO_FLAG_CAPS,
  VFIO_REGION_INFO_FLAG_MMAP,
  VFIO_REGION_INFO_FLAG_READ,
  VFIO_REGION_INFO_FLAG_WRITE,
} from "../../ffi/constants.ts";
import {
  readU64Clamped,
  VFIO_ARGSZ,
  VFIO_FLAGS,
  VfioInfoCapHeader,
  VfioIommuType1Info,
  VfioRegionCapType,
  VfioRegionInfo,
  VfioSparseMmap,
} from "../../ffi/vfio_structs.ts";
import { VfioError } from "./errors.ts";

/** Part of a region that may be mmapped (offsets relative to the region). */
export interface SparseArea {
  /** Offset from the region's start. */
  readonly offset: number;
  /** Length in bytes. */
  readonly size: number;
}

/** A region of a VFIO device (a BAR, the ROM, config space, …). */
export interface RegionInfo {
  /** Region index (vfio-pci: BAR0..5 = 0..5, ROM 6, CONFIG 7, VGA 8). */
  readonly index: number;
  /** VFIO_REGION_INFO_FLAG_* bits. */
  readonly flags: number;
  /** Size in bytes (0: the device does not implement it). */
  readonly size: number;
  /** Offset of the region in the device fd, for pread/pwrite/mmap. */
  readonly offset: number;
  /** FLAG_READ. */
  readonly readable: boolean;
  /** FLAG_WRITE. */
  readonly writable: boolean;
  /** FLAG_MMAP: the region (or its sparse areas) may be mmapped. */
  readonly mappable: boolean;
  /** Sparse-mmap capability: the only parts that may be mmapped; `null` when the whole region may be. */
  readonly sparseAreas: readonly SparseArea[] | null;
  /** MSIX_MAPPABLE capability: the MSI-X table may be mmapped (cryptobridge still never maps it). */
  readonly msixMappable: boolean;
  /** Type capability (device-specific regions at index >= 9). */
  readonly type: { readonly type: number; readonly subtype: number } | null;
}

/** An inclusive range of usable IOVAs. */
export interface IovaRange {
  /** First usable IOVA. */
  readonly start: number;
  /** Inclusive (clamped to Number.MAX_SAFE_INTEGER). */
  readonly end: number;
}

/** What the type1 IOMMU reports (VFIO_IOMMU_GET_INFO). */
export interface IommuInfo {
  /** Bitmap of supported IOMMU page sizes (bit 12: 4 KiB). */
  readonly pageSizes: bigint;
  /** The smallest supported page size: the alignment of every DMA mapping. */
  readonly minPageSize: number;
  /** Usable IOVA ranges; the whole 64-bit space when the kernel reports none. */
  readonly iovaRanges: readonly IovaRange[];
}

/** One capability of a chain: its id, version and offset in the buffer. */
export interface InfoCap {
  /** Capability id (meaning depends on the info struct). */
  readonly id: number;
  /** Capability version. */
  readonly version: number;
  /** Offset of its header in the info buffer. */
  readonly offset: number;
}

/**
 * Walks a capability chain.
 *
 * @param view The info buffer.
 * @param first `cap_offset` (0: no chain).
 * @returns The capabilities in chain order.
 * @throws VfioError `bad-info` when an offset leaves the buffer or the chain loops.
 */
export function capabilityChain(view: DataView, first: number): InfoCap[] {
  const caps: InfoCap[] = [];
  const seen = new Set<number>();
  for (let at = first; at !== 0;) {
    if (seen.has(at) || at < 0 || at + VfioInfoCapHeader.SIZE > view.byteLength) {
      throw new VfioError("bad-info", `Cannot walk VFIO capability chain: bad offset ${at}`);
    }
    seen.add(at);
    caps.push({
      id: view.getUint16(at + VfioInfoCapHeader.ID, true),
      version: view.getUint16(at + VfioInfoCapHeader.VERSION, true),
      offset: at,
    });
    at = view.getUint32(at + VfioInfoCapHeader.NEXT, true);
  }
  return caps;
}

/**
 * The `argsz` the kernel asked for, when the capabilities did not fit (call again with that size).
 *
 * @param view The info buffer after the call.
 * @param flagsCaps The struct's CAPS flag.
 * @param capOffsetAt Offset of its `cap_offset` field.
 * @returns The size needed, or 0 when everything fit.
 */
export function argszNeeded(view: DataView, flagsCaps: number, capOffsetAt: number): number {
  const argsz = view.getUint32(VFIO_ARGSZ, true);
  const hasCaps = (view.getUint32(VFIO_FLAGS, true) & flagsCaps) !== 0;
  return hasCaps && view.getUint32(capOffsetAt, true) === 0 && argsz > view.byteLength ? argsz : 0;
}

/**
 * Decodes `struct vfio_region_info` and its capabilities.
 *
 * @param view The buffer VFIO_DEVICE_GET_REGION_INFO filled.
 * @returns The region.
 */
export function decodeRegionInfo(view: DataView): RegionInfo {
  const flags = view.getUint32(VFIO_FLAGS, true);
  let sparseAreas: SparseArea[] | null = null;
  let msixMappable = false;
  let type: RegionInfo["type"] = null;
  const capOffset = (flags & VFIO_REGION_INFO_FLAG_CAPS) !== 0
    ? view.getUint32(VfioRegionInfo.CAP_OFFSET, true)
    : 0;
  for (const cap of capabilityChain(view, capOffset)) {
    if (cap.id === VFIO_REGION_INFO_CAP_SPARSE_MMAP) sparseAreas = decodeSparse(view, cap.offset);
    else if (cap.id === VFIO_REGION_INFO_CAP_MSIX_MAPPABLE) msixMappable = true;
    else if (cap.id === VFIO_REGION_INFO_CAP_TYPE && cap.offset + VfioRegionCapType.SIZE <= view.byteLength) {
      type = {
        type: view.getUint32(cap.offset + VfioRegionCapType.TYPE, true),
        subtype: view.getUint32(cap.offset + VfioRegionCapType.SUBTYPE, true),
      };
    }
  }
  return {
    index: view.getUint32(VfioRegionInfo.INDEX, true),
    flags,
    size: readU64Clamped(view, VfioRegionInfo.REGION_SIZE),
    offset: readU64Clamped(view, VfioRegionInfo.OFFSET),
    readable: (flags & VFIO_REGION_INFO_FLAG_READ) !== 0,
    writable: (flags & VFIO_REGION_INFO_FLAG_WRITE) !== 0,
    mappable: (flags & VFIO_REGION_INFO_FLAG_MMAP) !== 0,
    sparseAreas,
    msixMappable,
    type,
  };
}

function decodeSparse(view: DataView, at: number): SparseArea[] {
  const count = view.getUint32(at + VfioSparseMmap.NR_AREAS, true);
  if (at + VfioSparseMmap.AREAS + count * VfioSparseMmap.AREA_SIZE > view.byteLength) {
    throw new VfioError("bad-info", `Cannot decode sparse mmap capability: ${count} areas do not fit`);
  }
  const areas: SparseArea[] = [];
  for (let i = 0; i < count; i++) {
    const entry = at + VfioSparseMmap.AREAS + i * VfioSparseMmap.AREA_SIZE;
    areas.push({
      offset: readU64Clamped(view, entry + VfioSparseMmap.AREA_OFFSET),
      size: readU64Clamped(view, entry + VfioSparseMmap.AREA_LENGTH),
    });
  }
  return areas;
}

/**
 * Decodes `struct vfio_iommu_type1_info` and its IOVA_RANGE capability.
 *
 * @param view The buffer VFIO_IOMMU_GET_INFO filled.
 * @returns Page sizes and usable IOVA ranges.
 */
export function decodeIommuInfo(view: DataView): IommuInfo {
  const flags = view.getUint32(VFIO_FLAGS, true);
  const pageSizes = (flags & VFIO_IOMMU_INFO_PGSIZES) !== 0
    ? view.getBigUint64(VfioIommuType1Info.IOVA_PGSIZES, true)
    : 0x1000n;
  let iovaRanges: IovaRange[] = [{ start: 0, end: Number.MAX_SAFE_INTEGER }];
  const capOffset = (flags & VFIO_IOMMU_INFO_CAPS) !== 0
    ? view.getUint32(VfioIommuType1Info.CAP_OFFSET, true)
    : 0;
  for (const cap of capabilityChain(view, capOffset)) {
    if (cap.id === VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) iovaRanges = decodeRanges(view, cap.offset);
  }
  return { pageSizes, minPageSize: lowestBit(pageSizes), iovaRanges };
}

function decodeRanges(view: DataView, at: number): IovaRange[] {
  const count = view.getUint32(at + VfioIommuType1Info.NR_IOVAS, true);
  const first = at + VfioIommuType1Info.IOVA_RANGES;
  if (first + count * VfioIommuType1Info.RANGE_SIZE > view.byteLength) {
    throw new VfioError("bad-info", `Cannot decode IOVA ranges: ${count} ranges do not fit`);
  }
  const ranges: IovaRange[] = [];
  for (let i = 0; i < count; i++) {
    const entry = first + i * VfioIommuType1Info.RANGE_SIZE;
    ranges.push({ start: readU64Clamped(view, entry), end: readU64Clamped(view, entry + 8) });
  }
  return ranges;
}

/**
 * The smallest page size in a bitmap (4096 when the bitmap is empty).
 *
 * @param bitmap IOMMU page-size bitmap.
 * @returns The lowest set bit's value.
 */
export function lowestBit(bitmap: bigint): number {
  if (bitmap === 0n) return 4096;
  return Number(bitmap & -bitmap);
}

/** vfio-pci region names by index. */
export const REGION_NAMES: readonly string[] = [
  "BAR0",
  "BAR1",
  "BAR2",
  "BAR3",
  "BAR4",
  "BAR5",
  "ROM",
  "CONFIG",
  "VGA",
];
/** vfio-pci IRQ index names. */
export const IRQ_NAMES: readonly string[] = ["INTx", "MSI", "MSI-X", "ERR", "REQ"];
