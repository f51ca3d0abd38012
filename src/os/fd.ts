/**
 * `Fd`: an owned file descriptor. Exactly one object owns a descriptor at a time; closing is idempotent, and
 * `take()` hands ownership on (style.md rule 9).
 *
 * @module
 */

import { check, libc } from "../../ffi/libc.ts";
import { F_GETFD, F_GETFL, F_SETFL, FD_CLOEXEC, O_NONBLOCK } from "../../ffi/constants.ts";
import { currentLedger } from "./ledger.ts";

/** An owned file descriptor. */
export class Fd implements Disposable {
  #fd: number;
  // Whether this thread's ledger records it (false for a borrowed descriptor, and on threads without a ledger).
  #recorded: boolean;

  /**
   * Takes ownership of a raw descriptor.
   *
   * @param fd The descriptor (>= 0).
   * @throws RangeError for a negative descriptor.
   */
  constructor(fd: number) {
    if (!Number.isInteger(fd) || fd < 0) {
      throw new RangeError(`Cannot own file descriptor: it must be >= 0: current value is ${fd}`);
    }
    this.#fd = fd;
    const ledger = currentLedger();
    this.#recorded = ledger !== null;
    ledger?.addFd(fd);
  }

  /**
   * Wraps a descriptor another thread owns (the main thread's listening socket, its eventfds): usable here, kept
   * out of this thread's ledger, so that reclaiming a dead thread's resources never closes it. Its owner closes
   * it; `close()` on the borrowed wrapper still closes the number, so callers of a borrowed one do not call it.
   *
   * @param fd The descriptor (>= 0).
   * @returns The wrapper.
   * @throws RangeError for a negative descriptor.
   */
  static borrow(fd: number): Fd {
    const f = new Fd(fd);
    f.#forget();
    return f;
  }

  #forget(): void {
    if (this.#recorded) currentLedger()?.removeFd(this.#fd);
    this.#recorded = false;
  }

  /** The raw descriptor; -1 once closed or taken. */
  get fd(): number {
    return this.#fd;
  }

  /** Whether the descriptor is still owned and open. */
  get isOpen(): boolean {
    return this.#fd >= 0;
  }

  /**
   * The raw descriptor, or an error if it was closed.
   *
   * @throws Error when closed.
   */
  get raw(): number {
    if (this.#fd < 0) throw new Error("Cannot use file descriptor: it is closed");
    return this.#fd;
  }

  /**
   * Gives up ownership without closing: the caller now owns the raw descriptor.
   *
   * @returns The raw descriptor.
   */
  take(): number {
    const fd = this.raw;
    this.#forget(); // the new owner records it if it is an Fd
    this.#fd = -1;
    return fd;
  }

  /** Closes the descriptor; later calls do nothing. Errors from close(2) are ignored (the fd is gone anyway). */
  close(): void {
    if (this.#fd < 0) return;
    this.#forget(); // before the close: see ledger.ts
    libc.close(this.#fd);
    this.#fd = -1;
  }

  /** Sets O_NONBLOCK (every fd the reactor watches is non-blocking, design.md decision 2). */
  setNonBlocking(): void {
    const flags = check(libc.fcntl(this.raw, F_GETFL, 0n), "fcntl(F_GETFL)");
    check(libc.fcntl(this.raw, F_SETFL, BigInt(flags | O_NONBLOCK)), "fcntl(F_SETFL)");
  }

  /** Whether FD_CLOEXEC is set (tests check that received descriptors are close-on-exec). */
  isCloseOnExec(): boolean {
    return (check(libc.fcntl(this.raw, F_GETFD, 0n), "fcntl(F_GETFD)") & FD_CLOEXEC) !== 0;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Whether a raw descriptor is open in this process (for leak checks in tests).
 *
 * @param fd A raw descriptor.
 * @returns True when fcntl(F_GETFD) succeeds on it.
 */
export function isFdOpen(fd: number): boolean {
  return libc.fcntl(fd, F_GETFD, 0n) >= 0;
}
