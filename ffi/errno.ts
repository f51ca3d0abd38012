/**
 * errno names and the typed error every failing libc call becomes.
 *
 * errno itself is read in `libc.ts` (it owns the only `dlopen` of libc); this file is pure so that layers
 * without FFI can still name and catch the error.
 *
 * @module
 */

/** Linux x86-64 errno values (asm-generic/errno-base.h and errno.h). */
const ERRNO_NAMES: Readonly<Record<number, string>> = {
  1: "EPERM",
  2: "ENOENT",
  3: "ESRCH",
  4: "EINTR",
  5: "EIO",
  6: "ENXIO",
  7: "E2BIG",
  8: "ENOEXEC",
  9: "EBADF",
  10: "ECHILD",
  11: "EAGAIN",
  12: "ENOMEM",
  13: "EACCES",
  14: "EFAULT",
  16: "EBUSY",
  17: "EEXIST",
  18: "EXDEV",
  19: "ENODEV",
  20: "ENOTDIR",
  21: "EISDIR",
  22: "EINVAL",
  23: "ENFILE",
  24: "EMFILE",
  25: "ENOTTY",
  26: "ETXTBSY",
  27: "EFBIG",
  28: "ENOSPC",
  29: "ESPIPE",
  30: "EROFS",
  32: "EPIPE",
  34: "ERANGE",
  36: "ENAMETOOLONG",
  38: "ENOSYS",
  39: "ENOTEMPTY",
  40: "ELOOP",
  61: "ENODATA",
  71: "EPROTO",
  74: "EBADMSG",
  75: "EOVERFLOW",
  88: "ENOTSOCK",
  90: "EMSGSIZE",
  95: "EOPNOTSUPP",
  97: "EAFNOSUPPORT",
  98: "EADDRINUSE",
  99: "EADDRNOTAVAIL",
  103: "ECONNABORTED",
  104: "ECONNRESET",
  105: "ENOBUFS",
  106: "EISCONN",
  107: "ENOTCONN",
  110: "ETIMEDOUT",
  111: "ECONNREFUSED",
  115: "EINPROGRESS",
  125: "ECANCELED",
};

/** errno values the code reacts to by name. */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EIO: 5,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  ENOTDIR: 20,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOTTY: 25,
  ENOSPC: 28,
  EPIPE: 32,
  ENOSYS: 38,
  EMSGSIZE: 90,
  EADDRINUSE: 98,
  ECONNRESET: 104,
  ENOTCONN: 107,
  ECONNREFUSED: 111,
} as const;

/**
 * The symbolic name of an errno value, or `errno N` for one this table does not know.
 *
 * @param errno The errno value.
 * @returns For example `EAGAIN`.
 */
export function errnoName(errno: number): string {
  return ERRNO_NAMES[errno] ?? `errno ${errno}`;
}

/**
 * A libc call failed. Carries the call's name and errno, as `SqliteError` carries its code.
 *
 * @example
 * ```ts
 * import { ErrnoError } from "./errno.ts";
 * const e = new ErrnoError(11, "read");
 * if (e.message !== "Cannot read: EAGAIN") throw new Error(e.message);
 * ```
 */
export class ErrnoError extends Error {
  override name = "ErrnoError";
  /** The errno value right after the failing call. */
  readonly errno: number;
  /** The libc function that failed. */
  readonly syscall: string;

  /**
   * @param errno errno as read right after the call.
   * @param syscall The name of the libc function.
   * @param detail Optional context, such as the path involved.
   */
  constructor(errno: number, syscall: string, detail?: string) {
    super(`Cannot ${syscall}${detail === undefined ? "" : ` ${detail}`}: ${errnoName(errno)}`);
    this.errno = errno;
    this.syscall = syscall;
  }

  /** The symbolic errno name, such as `EAGAIN`. */
  get code(): string {
    return errnoName(this.errno);
  }
}
