/**
 * `EventFd`: an eventfd(2) counter, the kick and call doorbells of vhost-user and the MSI-X interrupts of VFIO.
 *
 * @module
 */

import { check, lastErrno, libc } from "../../ffi/libc.ts";
import { EFD_CLOEXEC, EFD_NONBLOCK } from "../../ffi/constants.ts";
import { Errno, ErrnoError } from "../../ffi/errno.ts";
import { Fd } from "./fd.ts";

/** A non-blocking eventfd; reads return the accumulated count and reset it. */
export class EventFd implements Disposable {
  readonly #fd: Fd;
  // One 8-byte buffer per eventfd, reused by every read and write (no allocation per kick).
  readonly #counter = new BigUint64Array(1);

  /**
   * Wraps an owned descriptor (for example a kick fd received over SCM_RIGHTS) or creates a new eventfd.
   *
   * @param fd An owned descriptor to wrap; a new non-blocking, close-on-exec eventfd when omitted.
   */
  constructor(fd?: Fd) {
    this.#fd = fd ?? new Fd(check(libc.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), "eventfd"));
  }

  /** The raw descriptor (for epoll registration and for passing over a socket). */
  get fd(): number {
    return this.#fd.raw;
  }

  /** Whether it is still open. */
  get isOpen(): boolean {
    return this.#fd.isOpen;
  }

  /**
   * Adds `n` to the counter (wakes a waiter). A full counter (EAGAIN) is ignored: the reader will wake anyway.
   *
   * @param n The amount, default 1.
   */
  signal(n = 1n): void {
    this.#counter[0] = n;
    if (libc.write(this.#fd.raw, this.#counter, 8n) < 0n) {
      const errno = lastErrno();
      if (errno !== Errno.EAGAIN) throw new ErrnoError(errno, "write", "(eventfd)");
    }
  }

  /**
   * Reads and resets the counter.
   *
   * @returns The count, or 0n when nothing was signalled since the last read.
   */
  consume(): bigint {
    if (libc.read(this.#fd.raw, this.#counter, 8n) < 0n) {
      const errno = lastErrno();
      if (errno === Errno.EAGAIN) return 0n;
      throw new ErrnoError(errno, "read", "(eventfd)");
    }
    return this.#counter[0]!;
  }

  /** Closes the descriptor; idempotent. */
  close(): void {
    this.#fd.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
