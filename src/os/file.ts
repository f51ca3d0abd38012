/**
 * Device and special files through libc: `open(2)` into an owned `Fd`, and positioned reads and writes
 * (`pread`/`pwrite`), which is how VFIO exposes config space and non-mmappable regions (vfio-ffi.md §1.3).
 *
 * Deno's own file APIs cannot be used for these: /dev/vfio files need raw fds for ioctls, and /sys needs
 * `--allow-all` (vfio-ffi.md §4.9).
 *
 * @module
 */

import { check, checkSize, cString, lastErrno, libc } from "../../ffi/libc.ts";
import { O_CLOEXEC, O_PATH } from "../../ffi/constants.ts";
import { Errno, ErrnoError } from "../../ffi/errno.ts";
import { Fd } from "./fd.ts";

/**
 * Opens a path (always close-on-exec).
 *
 * @param path The path.
 * @param flags O_* flags (O_RDWR for device files).
 * @returns The owned descriptor.
 * @throws ErrnoError naming the path (ENOENT, EACCES, EBUSY for a VFIO group open elsewhere, …).
 */
export function openPath(path: string, flags: number): Fd {
  return new Fd(check(libc.open(cString(path), flags | O_CLOEXEC, 0), "open", path));
}

/**
 * Opens a path that may be missing.
 *
 * @param path The path.
 * @param flags O_* flags.
 * @returns The owned descriptor, or `null` when the path does not exist (ENOENT, ENOTDIR).
 * @throws ErrnoError for any other failure.
 */
export function openPathIfExists(path: string, flags: number): Fd | null {
  const fd = libc.open(cString(path), flags | O_CLOEXEC, 0);
  if (fd >= 0) return new Fd(fd);
  const errno = lastErrno();
  if (errno === Errno.ENOENT || errno === Errno.ENOTDIR) return null;
  throw new ErrnoError(errno, "open", path);
}

/**
 * Whether something exists at a path (following links), without opening it for I/O (O_PATH).
 *
 * @param path The path.
 * @returns false for ENOENT and ENOTDIR.
 * @throws ErrnoError for other failures (EACCES on a parent directory).
 */
export function pathExists(path: string): boolean {
  const fd = libc.open(cString(path), O_PATH | O_CLOEXEC, 0);
  if (fd >= 0) {
    libc.close(fd);
    return true;
  }
  const errno = lastErrno();
  if (errno === Errno.ENOENT || errno === Errno.ENOTDIR) return false;
  throw new ErrnoError(errno, "open", path);
}

/**
 * Reads exactly `target.length` bytes at `offset` (a VFIO region offset plus the register offset).
 *
 * @param fd The raw descriptor.
 * @param target Where the bytes go (any ArrayBuffer-backed view).
 * @param offset File offset (< 2^53).
 * @throws ErrnoError when pread fails; RangeError on a short read (past the end of the region).
 */
export function preadExact(fd: number, target: Uint8Array, offset: number): void {
  const n = checkSize(libc.pread(fd, target, BigInt(target.length), BigInt(offset)), "pread");
  if (n !== target.length) {
    throw new RangeError(
      `Cannot read ${target.length} bytes at offset 0x${offset.toString(16)}: got ${n}`,
    );
  }
}

/**
 * Writes exactly `source.length` bytes at `offset`.
 *
 * @param fd The raw descriptor.
 * @param source The bytes.
 * @param offset File offset (< 2^53).
 * @throws ErrnoError when pwrite fails; RangeError on a short write.
 */
export function pwriteExact(fd: number, source: Uint8Array, offset: number): void {
  const n = checkSize(libc.pwrite(fd, source, BigInt(source.length), BigInt(offset)), "pwrite");
  if (n !== source.length) {
    throw new RangeError(
      `Cannot write ${source.length} bytes at offset 0x${offset.toString(16)}: wrote ${n}`,
    );
  }
}

/**
 * The effective user id (binding devices needs root: the sysfs files are root-only).
 *
 * @returns geteuid().
 */
export function effectiveUid(): number {
  return libc.geteuid();
}
