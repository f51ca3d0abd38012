/**
 * VFIO and iommufd argument structs (linux/vfio.h, linux/iommufd.h) as offset constants with encode/decode
 * helpers, for `src/vfio/`. The socket and epoll structs are in `structs.ts`.
 *
 * @module
 */

import { getU64, setU64 } from "./structs.ts";

// ---- VFIO and iommufd (linux/vfio.h, linux/iommufd.h) ----
// Sizes and offsets printed by tests/_fixtures/vfio_layout.c, built with gcc against the 6.1 UAPI headers (the
// cdev and iommufd structs copied from upstream into that program); tests/vfio/structs_test.ts holds the output.
// Every VFIO struct starts with `__u32 argsz` @0 and `__u32 flags` @4 (iommufd: `__u32 size` @0); the kernel
// rejects an argsz below the struct's minimum with EINVAL and never writes past argsz. u64 fields are
// __aligned_u64, little-endian.

/** Reads a u64 as a number, clamped to `Number.MAX_SAFE_INTEGER` (IOVA range ends may be 2^64 - 1). */
export function readU64Clamped(view: DataView, offset: number): number {
  const v = getU64(view, offset);
  return v > Number.MAX_SAFE_INTEGER ? Number.MAX_SAFE_INTEGER : v;
}

/** Writes a u64 from a non-negative safe integer (two 32-bit halves, no bigint). */
export function writeU64(view: DataView, offset: number, value: number): void {
  setU64(view, offset, value);
}

/** `offsetof(…, argsz)` / `offsetof(…, size)`: the first field of every VFIO and iommufd argument. */
export const VFIO_ARGSZ = 0;
/** `offsetof(…, flags)` in every VFIO argument. */
export const VFIO_FLAGS = 4;

// struct vfio_group_status { __u32 argsz @0; __u32 flags @4; }   8 bytes
/** `struct vfio_group_status`. */
export const VfioGroupStatus = { SIZE: 8 } as const;

// struct vfio_device_info {
//   __u32 argsz @0; __u32 flags @4; __u32 num_regions @8; __u32 num_irqs @12; __u32 cap_offset @16;
//   __u32 pad @20 (upstream; the 6.1 header ends at 20)
// }  24 bytes upstream, 20 in 6.1; minsz 16
/** `struct vfio_device_info`. */
export const VfioDeviceInfo = { SIZE: 24, NUM_REGIONS: 8, NUM_IRQS: 12, CAP_OFFSET: 16 } as const;

// struct vfio_region_info {
//   __u32 argsz @0; __u32 flags @4; __u32 index @8; __u32 cap_offset @12; __u64 size @16; __u64 offset @24;
// }  32 bytes; then the capability chain when argsz allows
/** `struct vfio_region_info`. */
export const VfioRegionInfo = { SIZE: 32, INDEX: 8, CAP_OFFSET: 12, REGION_SIZE: 16, OFFSET: 24 } as const;

// struct vfio_info_cap_header { __u16 id @0; __u16 version @2; __u32 next @4 (from the start of the info buffer) }
/** `struct vfio_info_cap_header`. */
export const VfioInfoCapHeader = { SIZE: 8, ID: 0, VERSION: 2, NEXT: 4 } as const;

// struct vfio_region_info_cap_sparse_mmap { header @0; __u32 nr_areas @8; __u32 reserved @12; areas[] @16 }
// struct vfio_region_sparse_mmap_area { __u64 offset @0; __u64 size @8 }   16 bytes
/** `struct vfio_region_info_cap_sparse_mmap` and its `areas[]` entries. */
export const VfioSparseMmap = {
  NR_AREAS: 8,
  AREAS: 16,
  AREA_SIZE: 16,
  AREA_OFFSET: 0,
  AREA_LENGTH: 8,
} as const;

// struct vfio_region_info_cap_type { header @0; __u32 type @8; __u32 subtype @12 }   16 bytes
/** `struct vfio_region_info_cap_type`. */
export const VfioRegionCapType = { SIZE: 16, TYPE: 8, SUBTYPE: 12 } as const;

// struct vfio_irq_info { __u32 argsz @0; __u32 flags @4; __u32 index @8; __u32 count @12 }   16 bytes
/** `struct vfio_irq_info`. */
export const VfioIrqInfo = { SIZE: 16, INDEX: 8, COUNT: 12 } as const;

// struct vfio_irq_set { __u32 argsz @0; __u32 flags @4; __u32 index @8; __u32 start @12; __u32 count @16;
//   __u8 data[] @20 }   20 bytes + data (an __s32 eventfd per vector for DATA_EVENTFD)
/** `struct vfio_irq_set`. */
export const VfioIrqSet = { SIZE: 20, INDEX: 8, START: 12, COUNT: 16, DATA: 20 } as const;

/**
 * Fills the header of a `struct vfio_irq_set` (argsz = header + `dataLength`); the caller writes the data.
 *
 * @param view A view over the argument, at least `20 + dataLength` bytes.
 * @param flags One VFIO_IRQ_SET_DATA_* | one VFIO_IRQ_SET_ACTION_*.
 * @param index The IRQ index (VFIO_PCI_MSIX_IRQ_INDEX).
 * @param range First vector and number of vectors.
 * @param dataLength Bytes of data after the header.
 */
export function encodeVfioIrqSet(
  view: DataView,
  flags: number,
  index: number,
  range: { readonly start: number; readonly count: number },
  dataLength: number,
): void {
  view.setUint32(VFIO_ARGSZ, VfioIrqSet.SIZE + dataLength, true);
  view.setUint32(VFIO_FLAGS, flags, true);
  view.setUint32(VfioIrqSet.INDEX, index, true);
  view.setUint32(VfioIrqSet.START, range.start, true);
  view.setUint32(VfioIrqSet.COUNT, range.count, true);
}

// struct vfio_iommu_type1_info { __u32 argsz @0; __u32 flags @4; __u64 iova_pgsizes @8; __u32 cap_offset @16;
//   __u32 pad @20 }   24 bytes
// struct vfio_iommu_type1_info_cap_iova_range { header @0; __u32 nr_iovas @8; __u32 reserved @12;
//   struct vfio_iova_range { __u64 start @0; __u64 end @8 (inclusive) } iova_ranges[] @16 }
/** `struct vfio_iommu_type1_info` and its IOVA_RANGE capability. */
export const VfioIommuType1Info = {
  SIZE: 24,
  IOVA_PGSIZES: 8,
  CAP_OFFSET: 16,
  NR_IOVAS: 8,
  IOVA_RANGES: 16,
  RANGE_SIZE: 16,
} as const;

// struct vfio_iommu_type1_dma_map { __u32 argsz @0; __u32 flags @4; __u64 vaddr @8; __u64 iova @16; __u64 size @24 }
/** `struct vfio_iommu_type1_dma_map`. */
export const VfioDmaMap = { SIZE: 32, VADDR: 8, IOVA: 16, MAP_SIZE: 24 } as const;

/**
 * Fills a `struct vfio_iommu_type1_dma_map`.
 *
 * @param view A view over the 32-byte argument.
 * @param flags VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE.
 * @param map Host virtual address, IOVA and size (page-aligned, below 2^53).
 */
export function encodeVfioDmaMap(
  view: DataView,
  flags: number,
  map: { readonly vaddr: number; readonly iova: number; readonly size: number },
): void {
  view.setUint32(VFIO_ARGSZ, VfioDmaMap.SIZE, true);
  view.setUint32(VFIO_FLAGS, flags, true);
  setU64(view, VfioDmaMap.VADDR, map.vaddr);
  setU64(view, VfioDmaMap.IOVA, map.iova);
  setU64(view, VfioDmaMap.MAP_SIZE, map.size);
}

// struct vfio_iommu_type1_dma_unmap { __u32 argsz @0; __u32 flags @4; __u64 iova @8; __u64 size @16 (out: bytes
//   unmapped) }   24 bytes
/** `struct vfio_iommu_type1_dma_unmap`. */
export const VfioDmaUnmap = { SIZE: 24, IOVA: 8, UNMAP_SIZE: 16 } as const;

// struct vfio_device_bind_iommufd { __u32 argsz @0; __u32 flags @4; __s32 iommufd @8; __u32 out_devid @12;
//   __aligned_u64 token_uuid_ptr @16 (newer kernels) }   24 bytes; minsz 16
/** `struct vfio_device_bind_iommufd`. */
export const VfioBindIommufd = { SIZE: 24, MIN_SIZE: 16, IOMMUFD: 8, OUT_DEVID: 12 } as const;

// struct vfio_device_attach_iommufd_pt { __u32 argsz @0; __u32 flags @4; __u32 pt_id @8; __u32 pasid @12 }
//   16 bytes; minsz 12 (pt_id is in: IOAS id, out: HWPT id)
/** `struct vfio_device_attach_iommufd_pt`. */
export const VfioAttachIommufdPt = { SIZE: 16, MIN_SIZE: 12, PT_ID: 8 } as const;

// struct iommu_destroy { __u32 size @0; __u32 id @4 }   8 bytes
/** `struct iommu_destroy`. */
export const IommuDestroy = { SIZE: 8, ID: 4 } as const;

// struct iommu_ioas_alloc { __u32 size @0; __u32 flags @4; __u32 out_ioas_id @8 }   12 bytes
/** `struct iommu_ioas_alloc`. */
export const IommuIoasAlloc = { SIZE: 12, FLAGS: 4, OUT_IOAS_ID: 8 } as const;

// struct iommu_ioas_iova_ranges { __u32 size @0; __u32 ioas_id @4; __u32 num_iovas @8; __u32 __reserved @12;
//   __aligned_u64 allowed_iovas @16 (pointer to struct iommu_iova_range { __u64 start; __u64 last }[]);
//   __aligned_u64 out_iova_alignment @24 }   32 bytes
/** `struct iommu_ioas_iova_ranges` (and the 16-byte `struct iommu_iova_range`). */
export const IommuIoasIovaRanges = {
  SIZE: 32,
  IOAS_ID: 4,
  NUM_IOVAS: 8,
  ALLOWED_IOVAS: 16,
  OUT_IOVA_ALIGNMENT: 24,
  RANGE_SIZE: 16,
} as const;

// struct iommu_ioas_map { __u32 size @0; __u32 flags @4; __u32 ioas_id @8; __u32 __reserved @12;
//   __aligned_u64 user_va @16; __aligned_u64 length @24; __aligned_u64 iova @32 }   40 bytes
/** `struct iommu_ioas_map`. */
export const IommuIoasMap = { SIZE: 40, FLAGS: 4, IOAS_ID: 8, USER_VA: 16, LENGTH: 24, IOVA: 32 } as const;

/**
 * Fills a `struct iommu_ioas_map`.
 *
 * @param view A view over the 40-byte argument.
 * @param flags IOMMU_IOAS_MAP_* bits.
 * @param map IOAS id, user virtual address, length and IOVA.
 */
export function encodeIommuIoasMap(
  view: DataView,
  flags: number,
  map: { readonly ioasId: number; readonly userVa: number; readonly length: number; readonly iova: number },
): void {
  view.setUint32(VFIO_ARGSZ, IommuIoasMap.SIZE, true);
  view.setUint32(IommuIoasMap.FLAGS, flags, true);
  view.setUint32(IommuIoasMap.IOAS_ID, map.ioasId, true);
  view.setUint32(IommuIoasMap.IOAS_ID + 4, 0, true);
  setU64(view, IommuIoasMap.USER_VA, map.userVa);
  setU64(view, IommuIoasMap.LENGTH, map.length);
  setU64(view, IommuIoasMap.IOVA, map.iova);
}

// struct iommu_ioas_unmap { __u32 size @0; __u32 ioas_id @4; __aligned_u64 iova @8; __aligned_u64 length @16 }
/** `struct iommu_ioas_unmap` (`length` is in/out: bytes unmapped). */
export const IommuIoasUnmap = { SIZE: 24, IOAS_ID: 4, IOVA: 8, LENGTH: 16 } as const;
