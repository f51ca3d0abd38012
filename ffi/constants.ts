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
