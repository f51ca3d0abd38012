/**
 * The libc symbols cryptobridge calls, declared once with every parameter's C name (style.md rule 7), for the one
 * `Deno.dlopen("libc.so.6")` in `libc.ts`. Kept apart so the table can grow without the loader and the errno
 * helpers around it growing with it.
 *
 * @module
 */

/** The symbol table. */
export const LIBC_SYMBOLS = {
  __errno_location: { parameters: [], result: "pointer" },
  close: {
    parameters: [
      "i32", // int fd
    ],
    result: "i32",
  },
  read: {
    parameters: [
      "i32", // int fd
      "buffer", // void *buf
      "usize", // size_t count
    ],
    result: "isize",
  },
  write: {
    parameters: [
      "i32", // int fd
      "buffer", // const void *buf
      "usize", // size_t count
    ],
    result: "isize",
  },
  pread: {
    name: "pread64",
    parameters: [
      "i32", // int fd
      "buffer", // void *buf
      "usize", // size_t count
      "i64", // off_t offset
    ],
    result: "isize",
  },
  pwrite: {
    name: "pwrite64",
    parameters: [
      "i32", // int fd
      "buffer", // const void *buf
      "usize", // size_t count
      "i64", // off_t offset
    ],
    result: "isize",
  },
  open: {
    parameters: [
      "buffer", // const char *pathname
      "i32", // int flags
      "u32", // mode_t mode (always passed: vfio-ffi.md §4.2)
    ],
    result: "i32",
  },
  readlink: {
    parameters: [
      "buffer", // const char *pathname
      "buffer", // char *buf
      "usize", // size_t bufsiz
    ],
    result: "isize",
  },
  unlink: {
    parameters: [
      "buffer", // const char *pathname
    ],
    result: "i32",
  },
  /** int rename(const char *oldpath, const char *newpath): a socket file is published at its path atomically. */
  rename: { parameters: ["buffer", "buffer"], result: "i32" },
  fcntl: {
    parameters: [
      "i32", // int fd
      "i32", // int cmd
      "i64", // long arg
    ],
    result: "i32",
  },
  ftruncate: {
    parameters: [
      "i32", // int fd
      "i64", // off_t length
    ],
    result: "i32",
  },
  memfd_create: {
    parameters: [
      "buffer", // const char *name
      "u32", // unsigned int flags
    ],
    result: "i32",
  },
  mmap: {
    parameters: [
      "pointer", // void *addr
      "usize", // size_t length
      "i32", // int prot
      "i32", // int flags
      "i32", // int fd
      "i64", // off_t offset
    ],
    result: "pointer",
  },
  munmap: {
    parameters: [
      "pointer", // void *addr
      "usize", // size_t length
    ],
    result: "i32",
  },
  eventfd: {
    parameters: [
      "u32", // unsigned int initval
      "i32", // int flags
    ],
    result: "i32",
  },
  socket: {
    parameters: [
      "i32", // int domain
      "i32", // int type
      "i32", // int protocol
    ],
    result: "i32",
  },
  bind: {
    parameters: [
      "i32", // int sockfd
      "buffer", // const struct sockaddr *addr
      "u32", // socklen_t addrlen
    ],
    result: "i32",
  },
  listen: {
    parameters: [
      "i32", // int sockfd
      "i32", // int backlog
    ],
    result: "i32",
  },
  accept4: {
    parameters: [
      "i32", // int sockfd
      "pointer", // struct sockaddr *addr
      "pointer", // socklen_t *addrlen
      "i32", // int flags
    ],
    result: "i32",
  },
  socketpair: {
    parameters: [
      "i32", // int domain
      "i32", // int type
      "i32", // int protocol
      "buffer", // int sv[2]
    ],
    result: "i32",
  },
  connect: {
    parameters: [
      "i32", // int sockfd
      "buffer", // const struct sockaddr *addr
      "u32", // socklen_t addrlen
    ],
    result: "i32",
  },
  shutdown: {
    parameters: [
      "i32", // int sockfd
      "i32", // int how
    ],
    result: "i32",
  },
  setsockopt: {
    parameters: [
      "i32", // int sockfd
      "i32", // int level
      "i32", // int optname
      "buffer", // const void *optval
      "u32", // socklen_t optlen
    ],
    result: "i32",
  },
  pipe2: {
    parameters: [
      "buffer", // int pipefd[2]
      "i32", // int flags
    ],
    result: "i32",
  },
  vmsplice: {
    parameters: [
      "i32", // int fd
      "buffer", // const struct iovec *iov
      "usize", // size_t nr_segs
      "u32", // unsigned int flags
    ],
    result: "isize",
  },
  splice: {
    parameters: [
      "i32", // int fd_in
      "pointer", // off64_t *off_in
      "i32", // int fd_out
      "pointer", // off64_t *off_out
      "usize", // size_t len
      "u32", // unsigned int flags
    ],
    result: "isize",
  },
  sendmsg: {
    parameters: [
      "i32", // int sockfd
      "buffer", // const struct msghdr *msg
      "i32", // int flags
    ],
    result: "isize",
  },
  recvmsg: {
    parameters: [
      "i32", // int sockfd
      "buffer", // struct msghdr *msg
      "i32", // int flags
    ],
    result: "isize",
  },
  poll: {
    parameters: [
      "buffer", // struct pollfd *fds
      "u64", // nfds_t nfds (unsigned long)
      "i32", // int timeout (milliseconds)
    ],
    result: "i32",
  },
  epoll_create1: {
    parameters: [
      "i32", // int flags
    ],
    result: "i32",
  },
  epoll_ctl: {
    parameters: [
      "i32", // int epfd
      "i32", // int op
      "i32", // int fd
      "buffer", // struct epoll_event *event
    ],
    result: "i32",
  },
  epoll_wait: {
    parameters: [
      "i32", // int epfd
      "buffer", // struct epoll_event *events
      "i32", // int maxevents
      "i32", // int timeout
    ],
    result: "i32",
  },
  /** The one call that may block: it runs on a Deno blocking-pool thread, so errno is lost (design.md §2). */
  epoll_wait_nonblocking: {
    name: "epoll_wait",
    parameters: [
      "i32", // int epfd
      "pointer", // struct epoll_event *events (a raw pointer: the buffer must outlive the call)
      "i32", // int maxevents
      "i32", // int timeout
    ],
    result: "i32",
    nonblocking: true,
  },
  ioctl_ptr: {
    name: "ioctl",
    parameters: [
      "i32", // int fd
      "u32", // unsigned long request (every VFIO request fits in 32 bits)
      "buffer", // void *argp
    ],
    result: "i32",
  },
  ioctl_int: {
    name: "ioctl",
    parameters: [
      "i32", // int fd
      "u32", // unsigned long request
      "u64", // unsigned long arg (by value: VFIO_CHECK_EXTENSION, VFIO_SET_IOMMU)
    ],
    result: "i32",
  },
  /** Directory entries without Deno's file APIs, which need --allow-all for /sys (vfio-ffi.md §4.9). */
  getdents64: {
    parameters: [
      "i32", // int fd
      "buffer", // void *dirp (struct linux_dirent64 records)
      "usize", // size_t count
    ],
    result: "isize",
  },
  getpid: { parameters: [], result: "i32" },
  /** int clock_gettime(clockid_t clk, struct timespec *ts): glibc answers from the vDSO, no system call. */
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
  /** struct passwd *getpwnam(const char *name): pw_uid at offset 16, pw_gid at 20 (x86-64 glibc). */
  getpwnam: { parameters: ["buffer"], result: "pointer" },
  /** struct group *getgrnam(const char *name): gr_gid at offset 16 (x86-64 glibc). */
  getgrnam: { parameters: ["buffer"], result: "pointer" },
  /** mode_t umask(mode_t mask): process-wide; set around bind(2) so a socket file is never born too open. */
  umask: { parameters: ["u32"], result: "u32" },
  chmod: {
    parameters: [
      "buffer", // const char *pathname
      "u32", // mode_t mode
    ],
    result: "i32",
  },
  chown: {
    parameters: [
      "buffer", // const char *pathname
      "u32", // uid_t owner ((uid_t)-1: unchanged)
      "u32", // gid_t group
    ],
    result: "i32",
  },
  /** The calling thread's id (glibc >= 2.30): what sched_setaffinity pins when given it. */
  gettid: { parameters: [], result: "i32" },
  sched_setaffinity: {
    parameters: [
      "i32", // pid_t pid (a thread id: that thread only)
      "usize", // size_t cpusetsize
      "buffer", // const cpu_set_t *mask
    ],
    result: "i32",
  },
  sched_getaffinity: {
    parameters: [
      "i32", // pid_t pid
      "usize", // size_t cpusetsize
      "buffer", // cpu_set_t *mask
    ],
    result: "i32",
  },
  geteuid: { parameters: [], result: "u32" },
  kill: {
    parameters: [
      "i32", // pid_t pid
      "i32", // int sig
    ],
    result: "i32",
  },
  /** Mode of a socket before bind(2): its file is born with it (minus the umask), never more open. */
  fchmod: {
    parameters: [
      "i32", // int fd
      "u32", // mode_t mode
    ],
    result: "i32",
  },
  /** Datagrams to an address (sd_notify's $NOTIFY_SOCKET). */
  sendto: {
    parameters: [
      "i32", // int sockfd
      "buffer", // const void *buf
      "usize", // size_t len
      "i32", // int flags
      "buffer", // const struct sockaddr *dest_addr
      "u32", // socklen_t addrlen
    ],
    result: "isize",
  },
  /** SO_PEERCRED: who is at the other end of a Unix stream socket. */
  getsockopt: {
    parameters: [
      "i32", // int sockfd
      "i32", // int level
      "i32", // int optname
      "buffer", // void *optval
      "buffer", // socklen_t *optlen
    ],
    result: "i32",
  },
} as const satisfies Deno.ForeignLibraryInterface;
