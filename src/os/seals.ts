/**
 * File seals (memfd_create(2), fcntl(2) F_GET_SEALS/F_ADD_SEALS): what keeps a front-end from shrinking guest RAM
 * under the daemon. A shared mapping past the end of its file raises SIGBUS on access, which kills the whole process
 * and every VM's device in it (design.md, "Reliability rules"); a file sealed with F_SEAL_SHRINK can never become
 * shorter than it is, so a mapping checked against its size once stays backed.
 *
 * @module
 */

import { check, cString, lastErrno, libc } from "../../ffi/libc.ts";
import {
  F_ADD_SEALS,
  F_GET_SEALS,
  F_SEAL_GROW,
  F_SEAL_SEAL,
  F_SEAL_SHRINK,
  MFD_ALLOW_SEALING,
  MFD_CLOEXEC,
  MFD_HUGETLB,
} from "../../ffi/constants.ts";
import { Errno, ErrnoError } from "../../ffi/errno.ts";
import { Fd } from "./fd.ts";

/** The seal bits this layer names (linux/fcntl.h). */
export const Seal = { SEAL: F_SEAL_SEAL, SHRINK: F_SEAL_SHRINK, GROW: F_SEAL_GROW } as const;

/** What a file descriptor of guest RAM is, as far as shrinking goes. */
export type ShrinkGuard =
  /** Sealed against shrinking (QEMU's `memory-backend-memfd` seals by default). */
  | "sealed"
  /** It could be sealed and this call sealed it (F_SEAL_SHRINK added). */
  | "sealed-now"
  /** A memfd or shmem/hugetlbfs file whose seals are locked without F_SEAL_SHRINK: it can shrink. */
  | "unsealable"
  /** A file of a kind that has no seals (ext4, xfs, …): anyone who can write it can truncate it. */
  | "no-seals";

/**
 * The seals of a file.
 *
 * @param fd The descriptor.
 * @returns The F_SEAL_* bits, or null when the file's kind has no seals (EINVAL).
 * @throws ErrnoError for any other failure.
 */
export function fileSeals(fd: number): number | null {
  const r = libc.fcntl(fd, F_GET_SEALS, 0n);
  if (r >= 0) return r;
  const errno = lastErrno();
  if (errno === Errno.EINVAL) return null;
  throw new ErrnoError(errno, "fcntl(F_GET_SEALS)");
}

/**
 * Makes sure a file cannot shrink: keeps a seal that is there, adds F_SEAL_SHRINK where the file allows it
 * (a memfd created with MFD_ALLOW_SEALING whose seals are not locked). The front-end shares the open file, so it
 * can no longer shrink it either, which is what a front-end that wanted shared guest RAM asked for.
 *
 * @param fd The descriptor (open for writing: F_ADD_SEALS needs it).
 * @returns What the file is now.
 * @throws ErrnoError when fcntl fails for another reason than the file's kind.
 */
export function guardAgainstShrink(fd: number): ShrinkGuard {
  const seals = fileSeals(fd);
  if (seals === null) return "no-seals";
  if ((seals & F_SEAL_SHRINK) !== 0) return "sealed";
  if ((seals & F_SEAL_SEAL) !== 0) return "unsealable";
  if (libc.fcntl(fd, F_ADD_SEALS, BigInt(F_SEAL_SHRINK)) === 0) return "sealed-now";
  const errno = lastErrno();
  // EPERM: sealing locked meanwhile, or the fd is not open for writing; either way it stays shrinkable.
  if (errno === Errno.EPERM) return "unsealable";
  throw new ErrnoError(errno, "fcntl(F_ADD_SEALS)");
}

/** How `createMemfd` creates the file. */
export interface MemfdOptions {
  /**
   * Seals added after sizing it (F_SEAL_* bits). Default `SHRINK | GROW | SEAL`, what QEMU's
   * `memory-backend-memfd` adds (`seal=on`). 0 leaves it sealable but unsealed; `null` creates it without
   * MFD_ALLOW_SEALING, so it can never be sealed (QEMU's `seal=off`).
   */
  readonly seals?: number | null;
  /** MFD_HUGETLB (fails with ENOMEM or EINVAL when the host has no huge pages). */
  readonly hugetlb?: boolean;
}

/**
 * Creates an anonymous memory file (memfd) of the given size: the kind of fd QEMU's `memory-backend-memfd` passes
 * in a vhost-user memory table, and what test front-ends use as guest RAM.
 *
 * @param name A name for /proc/self/fd listings.
 * @param size Size in bytes.
 * @param options Seals and huge pages; by default sealed as QEMU seals.
 * @returns The owned descriptor (close-on-exec).
 */
export function createMemfd(name: string, size: number, options: MemfdOptions = {}): Fd {
  const seals = options.seals === undefined ? F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL : options.seals;
  const flags = MFD_CLOEXEC | (seals === null ? 0 : MFD_ALLOW_SEALING) | (options.hugetlb ? MFD_HUGETLB : 0);
  const fd = new Fd(check(libc.memfd_create(cString(name), flags), "memfd_create", name));
  try {
    check(libc.ftruncate(fd.raw, BigInt(size)), "ftruncate", name);
    if (seals !== null && seals !== 0) {
      check(libc.fcntl(fd.raw, F_ADD_SEALS, BigInt(seals)), "fcntl(F_ADD_SEALS)");
    }
  } catch (e) {
    fd.close();
    throw e;
  }
  return fd;
}

/**
 * What a descriptor refers to, for messages: its /proc/self/fd link (`/memfd:name (deleted)`, a path).
 *
 * @param fd The descriptor.
 * @returns The link text, or `fd N` when it cannot be read.
 */
export function describeFd(fd: number): string {
  const buf = new Uint8Array(4096);
  const n = Number(libc.readlink(cString(`/proc/self/fd/${fd}`), buf, BigInt(buf.length)));
  return n > 0 ? new TextDecoder().decode(buf.subarray(0, n)) : `fd ${fd}`;
}
