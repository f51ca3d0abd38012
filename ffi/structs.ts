/**
 * C struct layouts for the libc calls in `libc.ts` (Linux x86-64, glibc; checked with `sock_layout.c`, vfio-ffi.md
 * §4.8): byte offsets as constants, plus small helpers that read and write fields in a caller-owned buffer.
 *
 * Pure: no FFI is loaded here. The helpers take a `DataView` over a buffer the caller allocated once and reuses
 * (no allocation per call); every access is little-endian, which is the host order on x86-64. Pointer-sized fields
 * are written from a `number` address (user-space addresses are below 2^47) as two 32-bit halves, so no bigint is
 * created on the hot path.
 *
 * @module
 */

/** Writes a u64 from a non-negative safe integer as two little-endian u32 halves (no bigint). */
function setU64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value >>> 0, true);
  view.setUint32(offset + 4, Math.floor(value / 0x1_0000_0000), true);
}

/**
 * Reads a u64 as a number; values above 2^53 lose precision (callers store only small counts and tokens here).
 */
function getU64(view: DataView, offset: number): number {
  return view.getUint32(offset, true) + view.getUint32(offset + 4, true) * 0x1_0000_0000;
}

// struct iovec {
//   void  *iov_base;   @0
//   size_t iov_len;    @8
// }                    16 bytes

/** `sizeof(struct iovec)`. */
export const IOVEC_SIZE = 16;
/** `offsetof(struct iovec, iov_base)`. */
export const IOVEC_BASE = 0;
/** `offsetof(struct iovec, iov_len)`. */
export const IOVEC_LEN = 8;

/**
 * Fills one `struct iovec`.
 *
 * @param view A view over the iovec array.
 * @param offset Byte offset of the entry in `view`.
 * @param base Address of the data.
 * @param length Length of the data in bytes.
 */
export function encodeIovec(view: DataView, offset: number, base: number, length: number): void {
  setU64(view, offset + IOVEC_BASE, base);
  setU64(view, offset + IOVEC_LEN, length);
}

// struct msghdr {
//   void         *msg_name;        @0
//   socklen_t     msg_namelen;     @8   (u32, then 4 bytes of padding)
//   struct iovec *msg_iov;         @16
//   size_t        msg_iovlen;      @24
//   void         *msg_control;     @32
//   size_t        msg_controllen;  @40
//   int           msg_flags;       @48  (then 4 bytes of padding)
// }                                56 bytes

/** `sizeof(struct msghdr)`. */
export const MSGHDR_SIZE = 56;
/** `offsetof(struct msghdr, msg_name)`. */
export const MSGHDR_NAME = 0;
/** `offsetof(struct msghdr, msg_namelen)`. */
export const MSGHDR_NAMELEN = 8;
/** `offsetof(struct msghdr, msg_iov)`. */
export const MSGHDR_IOV = 16;
/** `offsetof(struct msghdr, msg_iovlen)`. */
export const MSGHDR_IOVLEN = 24;
/** `offsetof(struct msghdr, msg_control)`. */
export const MSGHDR_CONTROL = 32;
/** `offsetof(struct msghdr, msg_controllen)`. */
export const MSGHDR_CONTROLLEN = 40;
/** `offsetof(struct msghdr, msg_flags)`. */
export const MSGHDR_FLAGS = 48;

/**
 * Fills a `struct msghdr` without a name (connected sockets).
 *
 * @param view A view over the 56-byte msghdr.
 * @param iov Address of the iovec array.
 * @param iovlen Number of iovec entries.
 * @param control Address of the control buffer (0 for none).
 * @param controllen Length of the control buffer in bytes (0 for none).
 */
export function encodeMsghdr(
  view: DataView,
  iov: number,
  iovlen: number,
  control: number,
  controllen: number,
): void {
  setU64(view, MSGHDR_NAME, 0);
  setU64(view, MSGHDR_NAMELEN, 0);
  setU64(view, MSGHDR_IOV, iov);
  setU64(view, MSGHDR_IOVLEN, iovlen);
  setU64(view, MSGHDR_CONTROL, control);
  setU64(view, MSGHDR_CONTROLLEN, controllen);
  setU64(view, MSGHDR_FLAGS, 0);
}

/** `msg_controllen` (recvmsg writes back the length of the control data it stored). */
export function msghdrControllen(view: DataView): number {
  return getU64(view, MSGHDR_CONTROLLEN);
}

/** `msg_flags` (recvmsg sets MSG_CTRUNC there when control data was dropped). */
export function msghdrFlags(view: DataView): number {
  return view.getInt32(MSGHDR_FLAGS, true);
}

// struct cmsghdr {
//   size_t cmsg_len;     @0   header + data, without trailing padding
//   int    cmsg_level;   @8
//   int    cmsg_type;    @12
//   unsigned char data[] @16  (CMSG_DATA)
// }                      16-byte header; each cmsghdr starts CMSG_ALIGN-ed (8 bytes)

/** Size of the `struct cmsghdr` header, which is also the offset of `CMSG_DATA`. */
export const CMSGHDR_SIZE = 16;
/** `offsetof(struct cmsghdr, cmsg_len)`. */
export const CMSGHDR_LEN = 0;
/** `offsetof(struct cmsghdr, cmsg_level)`. */
export const CMSGHDR_LEVEL = 8;
/** `offsetof(struct cmsghdr, cmsg_type)`. */
export const CMSGHDR_TYPE = 12;
/** Offset of the data after a cmsghdr (`CMSG_DATA(c) - (unsigned char *)c`). */
export const CMSGHDR_DATA = 16;

/**
 * `CMSG_ALIGN(length)`: rounds up to the 8-byte alignment of `size_t`.
 *
 * @param length A length in bytes.
 * @returns The aligned length.
 */
export function cmsgAlign(length: number): number {
  return (length + 7) & ~7;
}

/**
 * `CMSG_LEN(dataLength)`: the `cmsg_len` value of a control message carrying `dataLength` bytes.
 *
 * @param dataLength Bytes of data (4 per file descriptor for SCM_RIGHTS).
 * @returns Header plus data, unpadded.
 */
export function cmsgLen(dataLength: number): number {
  return CMSGHDR_SIZE + dataLength;
}

/**
 * `CMSG_SPACE(dataLength)`: the control-buffer bytes a message carrying `dataLength` bytes occupies.
 *
 * @param dataLength Bytes of data.
 * @returns Header plus aligned data (for example 24 for one fd, 144 for 32 fds).
 */
export function cmsgSpace(dataLength: number): number {
  return CMSGHDR_SIZE + cmsgAlign(dataLength);
}

/**
 * Writes a cmsghdr header; the caller writes the data at `offset + CMSGHDR_DATA`.
 *
 * @param view A view over the control buffer.
 * @param offset Byte offset of the header (CMSG_ALIGN-ed).
 * @param level `cmsg_level`, such as SOL_SOCKET.
 * @param type `cmsg_type`, such as SCM_RIGHTS.
 * @param dataLength Bytes of data that follow.
 */
export function encodeCmsghdr(
  view: DataView,
  offset: number,
  level: number,
  type: number,
  dataLength: number,
): void {
  setU64(view, offset + CMSGHDR_LEN, cmsgLen(dataLength));
  view.setInt32(offset + CMSGHDR_LEVEL, level, true);
  view.setInt32(offset + CMSGHDR_TYPE, type, true);
}

/** `cmsg_len` of the header at `offset`. */
export function cmsghdrLen(view: DataView, offset: number): number {
  return getU64(view, offset + CMSGHDR_LEN);
}

/** `cmsg_level` of the header at `offset`. */
export function cmsghdrLevel(view: DataView, offset: number): number {
  return view.getInt32(offset + CMSGHDR_LEVEL, true);
}

/** `cmsg_type` of the header at `offset`. */
export function cmsghdrType(view: DataView, offset: number): number {
  return view.getInt32(offset + CMSGHDR_TYPE, true);
}

// struct epoll_event {      __attribute__((packed)) on x86-64
//   uint32_t     events;    @0
//   epoll_data_t data;      @4   (u64; the reactor stores a registration token there)
// }                         12 bytes

/** `sizeof(struct epoll_event)` (packed on x86-64). */
export const EPOLL_EVENT_SIZE = 12;
/** `offsetof(struct epoll_event, events)`. */
export const EPOLL_EVENT_EVENTS = 0;
/** `offsetof(struct epoll_event, data)`. */
export const EPOLL_EVENT_DATA = 4;

/**
 * Fills one `struct epoll_event`.
 *
 * @param view A view over the event array.
 * @param offset Byte offset of the entry.
 * @param events EPOLL* bits.
 * @param data The user data, a non-negative safe integer.
 */
export function encodeEpollEvent(view: DataView, offset: number, events: number, data: number): void {
  view.setUint32(offset + EPOLL_EVENT_EVENTS, events >>> 0, true);
  setU64(view, offset + EPOLL_EVENT_DATA, data);
}

/** `events` of the entry at `offset`. */
export function epollEventEvents(view: DataView, offset: number): number {
  return view.getUint32(offset + EPOLL_EVENT_EVENTS, true);
}

/** `data` of the entry at `offset`, as a number. */
export function epollEventData(view: DataView, offset: number): number {
  return getU64(view, offset + EPOLL_EVENT_DATA);
}

// struct pollfd {
//   int   fd;       @0
//   short events;   @4
//   short revents;  @6
// }                 8 bytes

/** `sizeof(struct pollfd)`. */
export const POLLFD_SIZE = 8;

/**
 * Fills one `struct pollfd` and clears `revents`.
 *
 * @param view A view over the pollfd array.
 * @param offset Byte offset of the entry.
 * @param fd The descriptor.
 * @param events POLL* bits.
 */
export function encodePollfd(view: DataView, offset: number, fd: number, events: number): void {
  view.setInt32(offset, fd, true);
  view.setInt16(offset + 4, events, true);
  view.setInt16(offset + 6, 0, true);
}

// struct sockaddr_un {
//   sa_family_t sun_family;    @0   (u16, AF_UNIX)
//   char        sun_path[108]; @2   (NUL-terminated here: at most 107 bytes of path)
// }                            110 bytes

/** `sizeof(struct sockaddr_un)`. */
export const SOCKADDR_UN_SIZE = 110;
/** `offsetof(struct sockaddr_un, sun_path)`. */
export const SOCKADDR_UN_PATH = 2;
/** The longest path, in UTF-8 bytes, that fits `sun_path` with its NUL. */
export const SOCKADDR_UN_PATH_MAX = 107;

/**
 * Builds a `struct sockaddr_un` for a filesystem path (abstract addresses are not supported).
 *
 * @param family `AF_UNIX`.
 * @param path The socket path.
 * @returns A 110-byte, ArrayBuffer-backed sockaddr_un.
 * @throws RangeError when the path is longer than 107 bytes, empty, or contains a NUL byte.
 */
export function encodeSockaddrUn(family: number, path: string): Uint8Array<ArrayBuffer> {
  const bytes = new TextEncoder().encode(path);
  if (bytes.length > SOCKADDR_UN_PATH_MAX) {
    throw new RangeError(
      `Cannot use unix socket path ${path}: it must be at most ${SOCKADDR_UN_PATH_MAX} bytes: current length is ${bytes.length}`,
    );
  }
  if (bytes.length === 0 || bytes.includes(0)) {
    throw new RangeError(
      `Cannot use unix socket path ${JSON.stringify(path)}: it must be non-empty and without NUL`,
    );
  }
  const out = new Uint8Array(new ArrayBuffer(SOCKADDR_UN_SIZE));
  new DataView(out.buffer).setUint16(0, family, true);
  out.set(bytes, SOCKADDR_UN_PATH);
  return out;
}

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

// struct linux_dirent64 { __u64 d_ino @0; __s64 d_off @8; unsigned short d_reclen @16; unsigned char d_type @18;
//   char d_name[] @19 (NUL-terminated) }   records are d_reclen bytes, 8-byte aligned
/** `struct linux_dirent64` (getdents64). */
export const LinuxDirent64 = { RECLEN: 16, TYPE: 18, NAME: 19 } as const;
