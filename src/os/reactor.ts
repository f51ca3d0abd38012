/**
 * `Reactor`: the daemon's one event loop, a single epoll set (design.md decision 2, vfio-ffi.md §4.7).
 *
 * Exactly one `epoll_wait` is pending at a time, as a `nonblocking: true` FFI call on one Deno blocking-pool thread;
 * a wake eventfd in the set lets `stop()` and `setIdle()` end that wait. When it returns, handlers run synchronously
 * on the main thread, then synchronous `epoll_wait(…, 0)` rounds drain what arrived meanwhile, so a burst costs one
 * thread hop instead of one per event. Registered fds should be O_NONBLOCK and O_CLOEXEC (the reactor's own are).
 *
 * Registrations are named by a token, not by the fd number: the token is the epoll `data`, so an event that was
 * already queued for a closed fd is not delivered to a new registration that reused the number.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import { check, lastErrno, libc } from "../../ffi/libc.ts";
import { EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD, EPOLLIN } from "../../ffi/constants.ts";
import { Errno, ErrnoError } from "../../ffi/errno.ts";
import { encodeEpollEvent, EPOLL_EVENT_SIZE, epollEventData, epollEventEvents } from "../../ffi/structs.ts";
import { EventFd } from "./eventfd.ts";
import { Fd } from "./fd.ts";

/**
 * Called with the ready EPOLL* bits of a registration. Runs synchronously inside the reactor loop; if it returns a
 * promise (an async function), that promise is not awaited, but its rejection is reported like a throw.
 */
export type ReadyHandler = (events: number) => void;

/** Options of `new Reactor()`. */
export interface ReactorOptions {
  /**
   * Receives what a handler threw (or an async handler rejected with), and the handler's token; token
   * `Reactor.IDLE_TOKEN` means `idle()` threw. The registration stays; the reactor keeps serving.
   *
   * Without it, a throwing registration is removed (so a level-triggered fd cannot spin the loop), a throwing
   * `idle()` ends poll mode, the other handlers keep running, and `run()` rejects with the error (an
   * `AggregateError` when there were several) once it stops. If `onError` itself throws, the reactor stops and
   * `run()` rejects with that error.
   */
  readonly onError?: (error: unknown, token: number) => void;
  /**
   * Poll mode: when set, the reactor busy-polls instead of sleeping. Each round is one `idle()` call (where the
   * caller polls its queues); every `pollEvery` rounds a synchronous `epoll_wait(…, 0)` and the dispatch of what it
   * returned come first. Every `yieldEvery` rounds, if a millisecond has passed since the last yield, the loop
   * yields to the Deno event loop (`setImmediate`, ~2 µs) so timers and promises still run. Return `true` to keep
   * polling; `false` leaves poll mode (the loop goes back to the blocking wait) until `setIdle()` sets a function
   * again. Poll mode keeps one CPU busy: it is for benchmarks and dedicated cores.
   */
  readonly idle?: () => boolean;
  /** epoll_event slots per wait (default 64). */
  readonly maxEvents?: number;
  /** Synchronous `epoll_wait(…, 0)` rounds after each wake-up before re-arming the blocking wait (default 16). */
  readonly drainRounds?: number;
  /** Poll mode: rounds between yields to the event loop (default 64). */
  readonly yieldEvery?: number;
  /**
   * Poll mode: rounds between `epoll_wait(…, 0)` calls (default 16). The syscall costs about as much as serving a
   * small request, so fd events (vhost-user messages, kicks of rings that are not polled) wait up to this many
   * rounds instead of paying it every round.
   */
  readonly pollEvery?: number;
}

interface Registration {
  readonly fd: number;
  readonly handler: ReadyHandler;
}

/** Poll mode yields to the event loop at most this often (and at most every `yieldEvery` rounds). */
const YIELD_INTERVAL_MS = 1;

/** epoll `data` of the wake eventfd; registration tokens start at 1. */
const WAKE_TOKEN = 0;
/** Consecutive failed nonblocking waits (errno unknown, presumably EINTR) before asking errno synchronously. */
const WAIT_RETRIES = 3;

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1 || v > 65536) {
    throw new RangeError(
      `Cannot create reactor: ${name} must be an integer in [1, 65536]: current value is ${v}`,
    );
  }
  return v;
}

/**
 * One epoll set with one pending blocking wait, dispatching readiness to handlers.
 *
 * @example
 * ```ts ignore
 * const reactor = new Reactor({ onError: (e, token) => log.error("handler {token} failed", { token, e }) });
 * const kick = new EventFd();
 * const token = reactor.add(kick.fd, EPOLLIN, () => processQueue(kick.consume()));
 * const done = reactor.run();
 * // … later
 * reactor.remove(token);
 * reactor.stop();
 * await done;
 * reactor.close();
 * ```
 */
export class Reactor implements Disposable {
  /** The token `onError` receives when `idle()` threw. */
  static readonly IDLE_TOKEN: number = WAKE_TOKEN;

  readonly #epoll: Fd;
  readonly #wake: EventFd;
  // The pending nonblocking epoll_wait writes here from a pool thread through a raw pointer, which does not keep
  // the buffer alive: this field does, for the reactor's whole life (an ArrayBuffer never moves in memory).
  readonly #events: ArrayBuffer;
  readonly #eventsView: DataView;
  readonly #eventsBytes: Uint8Array;
  readonly #eventsPointer: Deno.PointerObject;
  readonly #ctlView = new DataView(new ArrayBuffer(EPOLL_EVENT_SIZE));
  readonly #ctlBytes = new Uint8Array(this.#ctlView.buffer);
  readonly #maxEvents: number;
  readonly #drainRounds: number;
  readonly #yieldEvery: number;
  readonly #pollEvery: number;
  readonly #onError: ((error: unknown, token: number) => void) | undefined;
  readonly #registrations = new Map<number, Registration>();
  readonly #tokenByFd = new Map<number, number>();
  #idle: (() => boolean) | undefined;
  #nextToken = WAKE_TOKEN + 1;
  #failures = 0;
  #running = false;
  #stopRequested = false;
  #closing = false;
  #closed = false;
  #errors: unknown[] = [];
  #fatal: { error: unknown } | undefined;

  /**
   * Creates the epoll set (close-on-exec) and its wake eventfd.
   *
   * @param options Error reporting, poll mode and batch sizes.
   * @throws ErrnoError when epoll_create1, eventfd or epoll_ctl fails.
   */
  constructor(options: ReactorOptions = {}) {
    this.#maxEvents = positiveInteger("maxEvents", options.maxEvents, 64);
    this.#drainRounds = positiveInteger("drainRounds", options.drainRounds, 16);
    this.#yieldEvery = positiveInteger("yieldEvery", options.yieldEvery, 64);
    this.#pollEvery = positiveInteger("pollEvery", options.pollEvery, 16);
    this.#onError = options.onError;
    this.#idle = options.idle;
    this.#events = new ArrayBuffer(this.#maxEvents * EPOLL_EVENT_SIZE);
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

  /** Whether `run()` is in progress. */
  get isRunning(): boolean {
    return this.#running;
  }

  /**
   * Watches a descriptor. Safe while a wait is pending (epoll_ctl is thread-safe and wakes the waiter).
   *
   * @param fd The raw descriptor; the caller keeps owning it, and calls `remove()` before closing it.
   * @param events EPOLL* bits (level-triggered unless EPOLLET is included).
   * @param handler Called with the ready bits.
   * @returns The registration token, for `modify()` and `remove()`.
   * @throws ErrnoError when epoll_ctl fails (EEXIST: the fd is registered already).
   */
  add(fd: number, events: number, handler: ReadyHandler): number {
    this.#checkOpen("add a descriptor to");
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

  /**
   * Changes the events a registration waits for.
   *
   * @param token The token from `add()`.
   * @param events The new EPOLL* bits.
   * @throws Error for an unknown token; ErrnoError when epoll_ctl fails.
   */
  modify(token: number, events: number): void {
    this.#checkOpen("modify a registration of");
    const registration = this.#registrations.get(token);
    if (registration === undefined) {
      throw new Error(`Cannot modify reactor registration ${token}: it is not registered`);
    }
    this.#ctl(EPOLL_CTL_MOD, registration.fd, events, token);
  }

  /**
   * Stops watching. Idempotent; safe while a wait is pending (an event already returned for this token is
   * dropped) and for an fd that was closed already (closing removed it from the set, unless another descriptor
   * still refers to the same file: call `remove()` before `close()`).
   *
   * @param token The token from `add()`.
   */
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
   * Turns poll mode on (a function) or off (`undefined`); see `ReactorOptions.idle`. Takes effect at once, also
   * while a blocking wait is pending.
   *
   * @param idle The poll function, or undefined for the blocking wait.
   */
  setIdle(idle: (() => boolean) | undefined): void {
    this.#idle = idle;
    if (this.#running && idle !== undefined) this.#wake.signal();
  }

  /**
   * Runs the loop until `stop()` (or `close()`).
   *
   * @returns A promise that resolves once stopped.
   * @throws Error when already running or closed; ErrnoError when epoll_wait keeps failing; the errors
   *   handlers threw when no `onError` was given (see `ReactorOptions.onError`).
   */
  async run(): Promise<void> {
    this.#checkOpen("run");
    if (this.#running) throw new Error("Cannot run reactor: it is already running");
    this.#running = true;
    try {
      while (!this.#stopRequested) {
        const idle = this.#idle;
        if (idle === undefined) await this.#waitOnce();
        else await this.#pollWhile(idle);
      }
    } finally {
      this.#running = false;
      this.#stopRequested = false;
      this.#wake.consume(); // a stop() that arrived mid-batch left a count: do not wake the next run() with it
      if (this.#closing) this.#closeNow();
    }
    this.#throwCollected();
  }

  /**
   * Asks a running `run()` to return: the current batch finishes, and a pending wait is woken through the wake
   * eventfd (a pending nonblocking call cannot be cancelled otherwise, and it keeps the process alive). Does
   * nothing when not running.
   */
  stop(): void {
    if (!this.#running || this.#stopRequested) return;
    this.#stopRequested = true;
    this.#wake.signal();
  }

  /**
   * Closes the epoll set and the wake eventfd (never the registered fds: the caller owns them). When running,
   * stops first and closes once `run()` has returned. Idempotent.
   */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#running) this.stop();
    else this.#closeNow();
  }

  /** `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  #closeNow(): void {
    this.#closed = true;
    this.#registrations.clear();
    this.#tokenByFd.clear();
    this.#wake.close();
    this.#epoll.close();
  }

  #checkOpen(action: string): void {
    if (this.#closing) throw new Error(`Cannot ${action} reactor: it is closed`);
  }

  #ctl(op: number, fd: number, events: number, token: number): void {
    encodeEpollEvent(this.#ctlView, 0, events, token);
    check(libc.epoll_ctl(this.#epoll.raw, op, fd, this.#ctlBytes), "epoll_ctl", `(fd ${fd})`);
  }

  /** One blocking wait on the pool thread, its dispatch, then synchronous drain rounds. */
  async #waitOnce(): Promise<void> {
    const n = await libc.epoll_wait_nonblocking(this.#epoll.raw, this.#eventsPointer, this.#maxEvents, -1);
    if (n < 0) {
      this.#waitFailed();
      return;
    }
    this.#failures = 0;
    this.#dispatch(n);
    for (let round = 0; round < this.#drainRounds && !this.#stopRequested; round++) {
      const more = this.#pollNow();
      if (more === 0) return;
      this.#dispatch(more);
    }
  }

  /**
   * The nonblocking call's errno is lost (it ran on a pool thread); -1 is almost always EINTR, so retry. After
   * several in a row, ask the kernel synchronously, where errno can be read.
   */
  #waitFailed(): void {
    if (++this.#failures < WAIT_RETRIES) return;
    this.#failures = 0;
    const n = libc.epoll_wait(this.#epoll.raw, this.#eventsBytes, this.#maxEvents, 0);
    if (n < 0) throw new ErrnoError(lastErrno(), "epoll_wait");
    this.#dispatch(n);
  }

  /** A synchronous `epoll_wait(…, 0)`; EINTR counts as no events. */
  #pollNow(): number {
    const n = libc.epoll_wait(this.#epoll.raw, this.#eventsBytes, this.#maxEvents, 0);
    if (n >= 0) return n;
    const errno = lastErrno();
    if (errno === Errno.EINTR) return 0;
    throw new ErrnoError(errno, "epoll_wait");
  }

  /** Poll mode: see `ReactorOptions.idle`. Returns when stopped, switched, or when `idle()` returns false. */
  async #pollWhile(idle: () => boolean): Promise<void> {
    let lastYield = performance.now();
    for (let round = 1; !this.#stopRequested && this.#idle === idle; round++) {
      if (round % this.#pollEvery === 1 || this.#pollEvery === 1) {
        const n = this.#pollNow();
        if (n > 0) this.#dispatch(n);
      }
      if (!this.#callIdle(idle)) {
        if (this.#idle === idle) this.#idle = undefined;
        return;
      }
      // A yield costs a trip through the event loop: take it only when a millisecond has passed, so timers and
      // promises run on time while a busy loop does not pay for it every few rounds (measured: 4 KiB AES-CBC
      // through serve --poll went from 220-226k to 230-253k requests/s with rarer yields).
      if (round % this.#yieldEvery === 0 && performance.now() - lastYield >= YIELD_INTERVAL_MS) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
    }
  }

  #callIdle(idle: () => boolean): boolean {
    try {
      return idle();
    } catch (e) {
      this.#report(e, Reactor.IDLE_TOKEN);
      return this.#onError !== undefined;
    }
  }

  #dispatch(count: number): void {
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
        if (result instanceof Promise) result.catch((e: unknown) => this.#report(e, token));
      } catch (e) {
        this.#report(e, token);
      }
    }
  }

  #report(error: unknown, token: number): void {
    const onError = this.#onError;
    if (onError === undefined) {
      this.#errors.push(error);
      this.remove(token);
      return;
    }
    try {
      onError(error, token);
    } catch (fatal) {
      this.#fatal ??= { error: fatal };
      this.stop();
    }
  }

  #throwCollected(): void {
    const fatal = this.#fatal;
    const errors = this.#errors;
    this.#fatal = undefined;
    this.#errors = [];
    if (fatal !== undefined) throw fatal.error;
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) {
      throw new AggregateError(errors, `Reactor handlers failed: ${errors.length} errors`);
    }
  }
}
