/**
 * `EpollSet`: one epoll instance with its registrations, a wake eventfd, the two ways to wait (synchronously on
 * the calling thread, or as a `nonblocking` FFI call on a Deno pool thread), and the dispatch of what a wait
 * returned. `Reactor` builds its loops on it.
 *
 * Registrations are named by a token, not by the fd number: the token is the epoll `data`, so an event that was
 * already queued for a closed fd is not delivered to a new registration that reused the number.
 *
 * @module
 */

import { check, lastErrno, libc } from "../../ffi/libc.ts";
import { EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD, EPOLLIN } from "../../ffi/constants.ts";
import { Errno, ErrnoError } from "../../ffi/errno.ts";
import { encodeEpollEvent, EPOLL_EVENT_SIZE, epollEventData, epollEventEvents } from "../../ffi/structs.ts";
import { EventFd } from "./eventfd.ts";
import { Fd } from "./fd.ts";

/**
 * Called with the ready EPOLL* bits of a registration. Runs synchronously inside the dispatch; if it returns a
 * promise (an async function), that promise is not awaited, but its rejection is reported like a throw.
 */
export type ReadyHandler = (events: number) => void;

/** What a handler threw (or rejected with), and its token. */
export type FaultReporter = (error: unknown, token: number) => void;

interface Registration {
  readonly fd: number;
  readonly handler: ReadyHandler;
}

/** epoll `data` of the wake eventfd; registration tokens start at 1. */
export const WAKE_TOKEN = 0;

/** An epoll set, its registrations and its wake eventfd. */
export class EpollSet {
  readonly #epoll: Fd;
  readonly #wake: EventFd;
  // The pending nonblocking epoll_wait writes here from a pool thread through a raw pointer, which does not keep
  // the buffer alive: this field does, for the set's whole life (an ArrayBuffer never moves in memory).
  readonly #events: ArrayBuffer;
  readonly #eventsView: DataView;
  readonly #eventsBytes: Uint8Array;
  readonly #eventsPointer: Deno.PointerObject;
  readonly #ctlView = new DataView(new ArrayBuffer(EPOLL_EVENT_SIZE));
  readonly #ctlBytes = new Uint8Array(this.#ctlView.buffer);
  readonly #maxEvents: number;
  readonly #registrations = new Map<number, Registration>();
  readonly #tokenByFd = new Map<number, number>();
  #nextToken = WAKE_TOKEN + 1;
  #closed = false;

  /**
   * Creates the epoll set (close-on-exec) and its wake eventfd.
   *
   * @param maxEvents epoll_event slots per wait.
   * @throws ErrnoError when epoll_create1, eventfd or epoll_ctl fails.
   */
  constructor(maxEvents: number) {
    this.#maxEvents = maxEvents;
    this.#events = new ArrayBuffer(maxEvents * EPOLL_EVENT_SIZE);
    this.#eventsView = new DataView(this.#events);
    this.#eventsBytes = new Uint8Array(this.#events);
    this.#eventsPointer = Deno.UnsafePointer.of(this.#events)!;
    this.#epoll = new Fd(check(libc.epoll_create1(EPOLL_CLOEXEC), "epoll_create1"));
    let wake: EventFd | undefined;
    try {
      wake = new EventFd();
      this.#ctl(EPOLL_CTL_ADD, wake.fd, EPOLLIN, WAKE_TOKEN);
    } catch (e) {
      wake?.close();
      this.#epoll.close();
      throw e;
    }
    this.#wake = wake;
  }

  /** Number of live registrations. */
  get size(): number {
    return this.#registrations.size;
  }

  /** The wake eventfd: `wake()` makes a wait return (from any thread: it is a write to an eventfd). */
  get wakeFd(): number {
    return this.#wake.fd;
  }

  /** Makes a pending or the next wait return. */
  wake(): void {
    this.#wake.signal();
  }

  /** Clears a wake that nobody waited for. */
  clearWake(): void {
    this.#wake.consume();
  }

  /**
   * Watches a descriptor (see `Reactor.add`).
   *
   * @returns The token.
   */
  add(fd: number, events: number, handler: ReadyHandler): number {
    const token = this.#nextToken++;
    this.#ctl(EPOLL_CTL_ADD, fd, events, token);
    // The ADD succeeded, so an old registration under this number is for a file that was closed without
    // remove(): the kernel dropped it already; forget it too (its token goes stale).
    const stale = this.#tokenByFd.get(fd);
    if (stale !== undefined) this.#registrations.delete(stale);
    this.#registrations.set(token, { fd, handler });
    this.#tokenByFd.set(fd, token);
    return token;
  }

  /** Changes the events of a registration (see `Reactor.modify`). */
  modify(token: number, events: number): void {
    const registration = this.#registrations.get(token);
    if (registration === undefined) {
      throw new Error(`Cannot modify reactor registration ${token}: it is not registered`);
    }
    this.#ctl(EPOLL_CTL_MOD, registration.fd, events, token);
  }

  /** Stops watching; idempotent (see `Reactor.remove`). */
  remove(token: number): void {
    const registration = this.#registrations.get(token);
    if (registration === undefined) return;
    this.#registrations.delete(token);
    this.#tokenByFd.delete(registration.fd);
    if (this.#closed) return;
    if (libc.epoll_ctl(this.#epoll.raw, EPOLL_CTL_DEL, registration.fd, this.#ctlBytes) < 0) {
      const errno = lastErrno();
      // EBADF: the fd is closed. ENOENT: its number now names a file that is not in the set. Both mean gone.
      if (errno !== Errno.EBADF && errno !== Errno.ENOENT) {
        throw new ErrnoError(errno, "epoll_ctl(DEL)", `(fd ${registration.fd})`);
      }
    }
  }

  /**
   * One wait on a Deno blocking-pool thread (`epoll_wait` as a nonblocking FFI call): the calling thread's event
   * loop keeps running meanwhile. Its errno is lost, so a failure reads as -1.
   *
   * @returns The number of ready events, or -1.
   */
  waitOnPool(): Promise<number> {
    return libc.epoll_wait_nonblocking(this.#epoll.raw, this.#eventsPointer, this.#maxEvents, -1);
  }

  /**
   * One synchronous wait on the calling thread; EINTR counts as no events.
   *
   * @param timeoutMs How long to block (0: poll).
   * @returns The number of ready events.
   * @throws ErrnoError when epoll_wait fails otherwise.
   */
  waitHere(timeoutMs: number): number {
    const n = libc.epoll_wait(this.#epoll.raw, this.#eventsBytes, this.#maxEvents, timeoutMs);
    if (n >= 0) return n;
    const errno = lastErrno();
    if (errno === Errno.EINTR) return 0;
    throw new ErrnoError(errno, "epoll_wait");
  }

  /**
   * Runs the handlers of the first `count` events of the last wait.
   *
   * @param count The wait's result.
   * @param report Receives what a handler threw.
   */
  dispatch(count: number, report: FaultReporter): void {
    const view = this.#eventsView;
    for (let i = 0; i < count; i++) {
      const offset = i * EPOLL_EVENT_SIZE;
      const token = epollEventData(view, offset);
      if (token === WAKE_TOKEN) {
        this.#wake.consume();
        continue;
      }
      // Undefined for a stale event: the registration was removed earlier in this batch or while waiting.
      const registration = this.#registrations.get(token);
      if (registration === undefined) continue;
      try {
        const result: unknown = registration.handler(epollEventEvents(view, offset));
        if (result instanceof Promise) result.catch((e: unknown) => report(e, token));
      } catch (e) {
        report(e, token);
      }
    }
  }

  /** Closes the epoll fd and the wake eventfd (never the registered fds: their owners close them). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#registrations.clear();
    this.#tokenByFd.clear();
    this.#wake.close();
    this.#epoll.close();
  }

  #ctl(op: number, fd: number, events: number, token: number): void {
    encodeEpollEvent(this.#ctlView, 0, events, token);
    check(libc.epoll_ctl(this.#epoll.raw, op, fd, this.#ctlBytes), "epoll_ctl", `(fd ${fd})`);
  }
}
