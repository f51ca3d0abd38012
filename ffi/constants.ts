/**
 * Linux x86-64 constants for the libc calls in `libc.ts` (values from the glibc and kernel UAPI headers,
 * checked with a C program on the development machine; vfio-ffi.md §4.8).
 *
 * @module
 */

/** open(2) flags. */
export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
export const O_NONBLOCK = 0x800;
export const O_CLOEXEC = 0x80000;

/** fcntl(2) commands and flags. */
export const F_GETFD = 1;
export const F_GETFL = 3;
export const F_SETFL = 4;
export const FD_CLOEXEC = 1;
/** File seals (linux/fcntl.h: F_LINUX_SPECIFIC_BASE 1024 + 9, + 10). */
export const F_ADD_SEALS = 1033;
export const F_GET_SEALS = 1034;
export const F_SEAL_SEAL = 0x1;
export const F_SEAL_SHRINK = 0x2;
export const F_SEAL_GROW = 0x4;
export const F_SEAL_WRITE = 0x8;

/** mmap(2). */
export const PROT_NONE = 0;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_POPULATE = 0x8000;
/** `(void *)-1` */
export const MAP_FAILED = 0xffff_ffff_ffff_ffffn;

/** memfd_create(2). */
export const MFD_CLOEXEC = 1;
export const MFD_ALLOW_SEALING = 2;
export const MFD_HUGETLB = 4;

/** eventfd(2). */
export const EFD_NONBLOCK = 0x800;
export const EFD_CLOEXEC = 0x80000;

/** socket(2), sendmsg(2), recvmsg(2). */
export const AF_UNIX = 1;
export const SOCK_STREAM = 1;
export const SOCK_NONBLOCK = 0x800;
export const SOCK_CLOEXEC = 0x80000;
export const SOL_SOCKET = 1;
export const SCM_RIGHTS = 1;
export const MSG_CTRUNC = 0x8;
export const MSG_DONTWAIT = 0x40;
export const MSG_NOSIGNAL = 0x4000;
export const MSG_CMSG_CLOEXEC = 0x40000000;
export const SHUT_RDWR = 2;
/** Datagram sockets (sd_notify's $NOTIFY_SOCKET is one). */
export const SOCK_DGRAM = 2;
/** getsockopt(SOL_SOCKET, SO_PEERCRED): the peer's `struct ucred` (asm-generic/socket.h). */
export const SO_PEERCRED = 17;
/** Most descriptors the kernel accepts in one SCM_RIGHTS message (include/net/scm.h). */
export const SCM_MAX_FD = 253;

/** poll(2) event bits (struct pollfd). */
export const POLLIN = 0x001;
export const POLLOUT = 0x004;
export const POLLERR = 0x008;
export const POLLHUP = 0x010;

/** epoll(7). */
export const EPOLL_CLOEXEC = 0x80000;
export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLL_CTL_MOD = 3;
export const EPOLLIN = 0x001;
export const EPOLLOUT = 0x004;
export const EPOLLERR = 0x008;
export const EPOLLHUP = 0x010;
export const EPOLLRDHUP = 0x2000;
/** Edge-triggered (1u << 31); pass it through `>>> 0` where a u32 is written. */
export const EPOLLET = 0x80000000;

/** signal(7) numbers used by the daemon. */
export const SIGTERM = 15;

/** AF_ALG, the kernel crypto API from user space (linux/if_alg.h, linux/socket.h); used by the guest tests. */
export const AF_ALG = 38;
export const SOCK_SEQPACKET = 5;
export const SOL_ALG = 279;
export const ALG_SET_KEY = 1;
export const ALG_SET_IV = 2;
export const ALG_SET_OP = 3;
export const ALG_OP_DECRYPT = 0;
export const ALG_OP_ENCRYPT = 1;
/** sendmsg(2): more data follows for the same request. */
export const MSG_MORE = 0x8000;
/** splice(2): more data follows (becomes MSG_MORE on the socket). */
export const SPLICE_F_MORE = 4;

/** open(2) flags for sysfs and device files (asm-generic/fcntl.h, x86-64). */
export const O_DIRECTORY = 0x10000;
/** open(2): a handle for path operations only; used to test that a path exists without reading it. */
export const O_PATH = 0x200000;

// VFIO (linux/vfio.h). Every ioctl is _IO(VFIO_TYPE, VFIO_BASE + k) = (0x3B << 8) | (100 + k): direction and size
// bits are 0. Numbers printed by a C program built with gcc against the 6.1 headers (tests/_fixtures/vfio_layout.c);
// the cdev ones (k = 18..20) are upstream's and are absent from 6.1. Some numbers are shared by different fd kinds
// (vfio-ffi.md §0): each fd kind has its own class in src/vfio/, so a container number never reaches a device fd.

/** `VFIO_API_VERSION`: what VFIO_GET_API_VERSION returns. */
export const VFIO_API_VERSION = 0;
/** _IO(';', 100 + 0), container fd. */
export const VFIO_GET_API_VERSION = 0x3b64;
/** _IO(';', 100 + 1), container fd; int by value. */
export const VFIO_CHECK_EXTENSION = 0x3b65;
/** _IO(';', 100 + 2), container fd; int by value. */
export const VFIO_SET_IOMMU = 0x3b66;
/** _IO(';', 100 + 3), group fd; struct vfio_group_status. */
export const VFIO_GROUP_GET_STATUS = 0x3b67;
/** _IO(';', 100 + 4), group fd; int * (a pointer to the container fd). */
export const VFIO_GROUP_SET_CONTAINER = 0x3b68;
/** _IO(';', 100 + 5), group fd; no argument. */
export const VFIO_GROUP_UNSET_CONTAINER = 0x3b69;
/** _IO(';', 100 + 6), group fd; char * device name; returns a new device fd (close-on-exec). */
export const VFIO_GROUP_GET_DEVICE_FD = 0x3b6a;
/** _IO(';', 100 + 7), device fd; struct vfio_device_info. */
export const VFIO_DEVICE_GET_INFO = 0x3b6b;
/** _IO(';', 100 + 8), device fd; struct vfio_region_info (+ capability chain). */
export const VFIO_DEVICE_GET_REGION_INFO = 0x3b6c;
/** _IO(';', 100 + 9), device fd; struct vfio_irq_info. */
export const VFIO_DEVICE_GET_IRQ_INFO = 0x3b6d;
/** _IO(';', 100 + 10), device fd; struct vfio_irq_set + data. */
export const VFIO_DEVICE_SET_IRQS = 0x3b6e;
/** _IO(';', 100 + 11), device fd; no argument (EINVAL when the device has no reset method). */
export const VFIO_DEVICE_RESET = 0x3b6f;
/** _IO(';', 100 + 12), container fd; struct vfio_iommu_type1_info. Same number as DEVICE_GET_PCI_HOT_RESET_INFO. */
export const VFIO_IOMMU_GET_INFO = 0x3b70;
/** _IO(';', 100 + 13), container fd; struct vfio_iommu_type1_dma_map. Same number as DEVICE_PCI_HOT_RESET. */
export const VFIO_IOMMU_MAP_DMA = 0x3b71;
/** _IO(';', 100 + 14), container fd; struct vfio_iommu_type1_dma_unmap. */
export const VFIO_IOMMU_UNMAP_DMA = 0x3b72;
/** _IO(';', 100 + 18), device cdev fd; struct vfio_device_bind_iommufd. */
export const VFIO_DEVICE_BIND_IOMMUFD = 0x3b76;
/** _IO(';', 100 + 19), device cdev fd; struct vfio_device_attach_iommufd_pt. */
export const VFIO_DEVICE_ATTACH_IOMMUFD_PT = 0x3b77;
/** _IO(';', 100 + 20), device cdev fd; struct vfio_device_detach_iommufd_pt. */
export const VFIO_DEVICE_DETACH_IOMMUFD_PT = 0x3b78;

/** VFIO_CHECK_EXTENSION / VFIO_SET_IOMMU values. */
export const VFIO_TYPE1_IOMMU = 1;
export const VFIO_TYPE1v2_IOMMU = 3;
export const VFIO_NOIOMMU_IOMMU = 8;

/** struct vfio_group_status flags. */
export const VFIO_GROUP_FLAGS_VIABLE = 1;
export const VFIO_GROUP_FLAGS_CONTAINER_SET = 2;
/** struct vfio_device_info flags. */
export const VFIO_DEVICE_FLAGS_RESET = 1;
export const VFIO_DEVICE_FLAGS_PCI = 2;
export const VFIO_DEVICE_FLAGS_CAPS = 0x80;
/** struct vfio_region_info flags. */
export const VFIO_REGION_INFO_FLAG_READ = 1;
export const VFIO_REGION_INFO_FLAG_WRITE = 2;
export const VFIO_REGION_INFO_FLAG_MMAP = 4;
export const VFIO_REGION_INFO_FLAG_CAPS = 8;
/** Region capability ids (struct vfio_info_cap_header.id). */
export const VFIO_REGION_INFO_CAP_SPARSE_MMAP = 1;
export const VFIO_REGION_INFO_CAP_TYPE = 2;
export const VFIO_REGION_INFO_CAP_MSIX_MAPPABLE = 3;
/** vfio-pci region index of the expansion ROM (BAR0..5 are 0..5). */
export const VFIO_PCI_ROM_REGION_INDEX = 6;
/** vfio-pci region index of config space (pread/pwrite; offset 7 << 40 in current kernels). */
export const VFIO_PCI_CONFIG_REGION_INDEX = 7;
/** vfio-pci region index of legacy VGA ranges (EINVAL on most devices). */
export const VFIO_PCI_VGA_REGION_INDEX = 8;
/** vfio-pci IRQ index of INTx. */
export const VFIO_PCI_INTX_IRQ_INDEX = 0;
/** vfio-pci IRQ index of MSI. */
export const VFIO_PCI_MSI_IRQ_INDEX = 1;
/** vfio-pci IRQ index of MSI-X. */
export const VFIO_PCI_MSIX_IRQ_INDEX = 2;
export const VFIO_PCI_ERR_IRQ_INDEX = 3;
export const VFIO_PCI_REQ_IRQ_INDEX = 4;
/** struct vfio_irq_info flags. */
export const VFIO_IRQ_INFO_EVENTFD = 1;
export const VFIO_IRQ_INFO_MASKABLE = 2;
export const VFIO_IRQ_INFO_AUTOMASKED = 4;
export const VFIO_IRQ_INFO_NORESIZE = 8;
/** struct vfio_irq_set flags: one DATA_* and one ACTION_*. */
export const VFIO_IRQ_SET_DATA_NONE = 1;
export const VFIO_IRQ_SET_DATA_BOOL = 2;
export const VFIO_IRQ_SET_DATA_EVENTFD = 4;
export const VFIO_IRQ_SET_ACTION_MASK = 8;
export const VFIO_IRQ_SET_ACTION_UNMASK = 16;
export const VFIO_IRQ_SET_ACTION_TRIGGER = 32;
/** struct vfio_iommu_type1_info flags and capability ids. */
export const VFIO_IOMMU_INFO_PGSIZES = 1;
export const VFIO_IOMMU_INFO_CAPS = 2;
export const VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE = 1;
/** struct vfio_iommu_type1_dma_map flags. */
export const VFIO_DMA_MAP_FLAG_READ = 1;
export const VFIO_DMA_MAP_FLAG_WRITE = 2;

// iommufd (linux/iommufd.h, upstream): _IO(IOMMUFD_TYPE = ';', IOMMUFD_CMD_BASE 0x80 + k) = 0x3B80 + k.

/** _IO(';', 0x80), /dev/iommu; struct iommu_destroy. */
export const IOMMU_DESTROY = 0x3b80;
/** _IO(';', 0x81), /dev/iommu; struct iommu_ioas_alloc. */
export const IOMMU_IOAS_ALLOC = 0x3b81;
/** _IO(';', 0x84), /dev/iommu; struct iommu_ioas_iova_ranges. */
export const IOMMU_IOAS_IOVA_RANGES = 0x3b84;
/** _IO(';', 0x85), /dev/iommu; struct iommu_ioas_map. */
export const IOMMU_IOAS_MAP = 0x3b85;
/** _IO(';', 0x86), /dev/iommu; struct iommu_ioas_unmap. */
export const IOMMU_IOAS_UNMAP = 0x3b86;
/** struct iommu_ioas_map flags. */
export const IOMMU_IOAS_MAP_FIXED_IOVA = 1;
export const IOMMU_IOAS_MAP_WRITEABLE = 2;
export const IOMMU_IOAS_MAP_READABLE = 4;
