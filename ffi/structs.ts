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
export function setU64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value >>> 0, true);
  view.setUint32(offset + 4, Math.floor(value / 0x1_0000_0000), true);
}

/**
 * Reads a u64 as a number; values above 2^53 lose precision (callers store only small counts and tokens here).
 */
export function getU64(view: DataView, offset: number): number {
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

/**
 * Builds a `struct sockaddr_un` for an abstract address (unix(7)): `sun_path[0]` is NUL and the name follows,
 * not NUL-terminated, so the address length is exact: `offsetof(sun_path) + 1 + name bytes`.
 *
 * @param family `AF_UNIX`.
 * @param name The name, without the leading NUL (sd_notify's `@name` without the `@`).
 * @returns The address and the length to pass as `addrlen`.
 * @throws RangeError when the name is longer than 107 bytes.
 */
export function encodeAbstractSockaddrUn(
  family: number,
  name: string,
): { address: Uint8Array<ArrayBuffer>; length: number } {
  const bytes = new TextEncoder().encode(name);
  if (bytes.length > SOCKADDR_UN_PATH_MAX) {
    throw new RangeError(
      `Cannot use abstract unix socket name @${name}: it must be at most ${SOCKADDR_UN_PATH_MAX} bytes: current length is ${bytes.length}`,
    );
  }
  const address = new Uint8Array(new ArrayBuffer(SOCKADDR_UN_SIZE));
  new DataView(address.buffer).setUint16(0, family, true);
  address.set(bytes, SOCKADDR_UN_PATH + 1);
  return { address, length: SOCKADDR_UN_PATH + 1 + bytes.length };
}

// struct ucred {
//   pid_t pid;   @0
//   uid_t uid;   @4
//   gid_t gid;   @8
// }              12 bytes

/** `sizeof(struct ucred)`. */
export const UCRED_SIZE = 12;
/** `offsetof(struct ucred, pid)`. */
export const UCRED_PID = 0;
/** `offsetof(struct ucred, uid)`. */
export const UCRED_UID = 4;
/** `offsetof(struct ucred, gid)`. */
export const UCRED_GID = 8;

// struct linux_dirent64 { __u64 d_ino @0; __s64 d_off @8; unsigned short d_reclen @16; unsigned char d_type @18;
//   char d_name[] @19 (NUL-terminated) }   records are d_reclen bytes, 8-byte aligned
/** `struct linux_dirent64` (getdents64). */
export const LinuxDirent64 = { RECLEN: 16, TYPE: 18, NAME: 19 } as const;
