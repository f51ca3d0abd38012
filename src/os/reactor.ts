/**
 * `Reactor`: an event loop over one epoll set (`EpollSet`), in one of two ways of waiting (design.md decision 2,
 * vfio-ffi.md §4.7):
 *
 * - `pool` (default; the main thread): exactly one `epoll_wait` is pending at a time, as a `nonblocking: true` FFI
 *   call on a Deno blocking-pool thread, so the thread's own event loop (timers, promises, other I/O) keeps
 *   running. Each wake-up costs a thread hop (tens of microseconds).
 * - `thread` (a VM's Worker): the wait is a synchronous `epoll_wait` on the calling thread, which is given to the
 *   reactor: no thread hop per wake-up. The loop yields to the event loop every millisecond while busy, after each
 *   idle `tickMs` and when a handler asks (`requestYield()`, e.g. a control message arrived), so timers and
 *   messages run late by at most `tickMs` when idle.
 *
 * In both, handlers run synchronously on the reactor's thread, then synchronous `epoll_wait(…, 0)` rounds drain
 * what arrived meanwhile. A wake eventfd in the set lets `stop()` and `setIdle()` end a wait. Poll mode (an `idle`
 * function) busy-polls instead of waiting. Registered fds should be O_NONBLOCK and O_CLOEXEC (the reactor's own
 * are).
 *
 * @module
 */

import { setImmediate } from "node:timers";
import { EpollSet, type ReadyHandler, WAKE_TOKEN } from "./epoll_set.ts";

export type { ReadyHandler } from "./epoll_set.ts";

/** How a reactor waits: on a Deno pool thread (`pool`), or on its own thread (`thread`). */
export type WaitMode = "pool" | "thread";

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
  /** How to wait (default `pool`); see the module documentation. */
  readonly wait?: WaitMode;
  /** `thread` mode: the longest synchronous wait in milliseconds, so timers still run when idle (default 50). */
  readonly tickMs?: number;
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

/** Poll mode yields to the event loop at most this often (and at most every `yieldEvery` rounds). */
const YIELD_INTERVAL_MS = 1;

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
 * An event loop dispatching readiness to handlers.
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

  readonly #set: EpollSet;
  readonly #wait: WaitMode;
  readonly #tickMs: number;
  readonly #drainRounds: number;
  readonly #yieldEvery: number;
  readonly #pollEvery: number;
  readonly #onError: ((error: unknown, token: number) => void) | undefined;
  readonly #report = (error: unknown, token: number): void => this.#reportFault(error, token);
  #idle: (() => boolean) | undefined;
  #failures = 0;
  #running = false;
  #stopRequested = false;
  #yieldRequested = false;
  #lastYield = 0;
  #closing = false;
  #closed = false;
  #errors: unknown[] = [];
  #fatal: { error: unknown } | undefined;

  /**
   * Creates the epoll set (close-on-exec) and its wake eventfd.
   *
   * @param options How to wait, error reporting, poll mode and batch sizes.
   * @throws ErrnoError when epoll_create1, eventfd or epoll_ctl fails.
   */
  constructor(options: ReactorOptions = {}) {
    this.#wait = options.wait ?? "pool";
    this.#tickMs = positiveInteger("tickMs", options.tickMs, 50);
    this.#drainRounds = positiveInteger("drainRounds", options.drainRounds, 16);
    this.#yieldEvery = positiveInteger("yieldEvery", options.yieldEvery, 64);
    this.#pollEvery = positiveInteger("pollEvery", options.pollEvery, 16);
    this.#onError = options.onError;
    this.#idle = options.idle;
    this.#set = new EpollSet(positiveInteger("maxEvents", options.maxEvents, 64));
  }

  /** Number of live registrations. */
  get size(): number {
    return this.#set.size;
  }

  /** Whether `run()` is in progress. */
  get isRunning(): boolean {
    return this.#running;
  }

  /** How this reactor waits. */
  get waitMode(): WaitMode {
    return this.#wait;
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
    return this.#set.add(fd, events, handler);
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
    this.#set.modify(token, events);
  }

  /**
   * Stops watching. Idempotent; safe while a wait is pending (an event already returned for this token is
   * dropped) and for an fd that was closed already (closing removed it from the set, unless another descriptor
   * still refers to the same file: call `remove()` before `close()`).
   *
   * @param token The token from `add()`.
   */
  remove(token: number): void {
    this.#set.remove(token);
  }

  /**
   * Turns poll mode on (a function) or off (`undefined`); see `ReactorOptions.idle`. Takes effect at once, also
   * while a blocking wait is pending.
   *
   * @param idle The poll function, or undefined for the blocking wait.
   */
  setIdle(idle: (() => boolean) | undefined): void {
    this.#idle = idle;
    if (this.#running && idle !== undefined && this.#wait === "pool") this.#set.wake();
  }

  /**
   * `thread` mode: yield to the event loop right after the current dispatch (a message for this thread was
   * signalled, a timer is due). Nothing to do in `pool` mode, whose event loop never stops.
   */
  requestYield(): void {
    this.#yieldRequested = true;
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
        if (idle !== undefined) await this.#pollWhile(idle);
        else if (this.#wait === "pool") await this.#waitOnPool();
        else await this.#waitHere();
      }
    } finally {
      this.#running = false;
      this.#stopRequested = false;
      this.#set.clearWake(); // a stop() that arrived mid-batch left a count: do not wake the next run() with it
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
    this.#set.wake();
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
    this.#set.close();
  }

  #checkOpen(action: string): void {
    if (this.#closing || this.#closed) throw new Error(`Cannot ${action} reactor: it is closed`);
  }

  /** `pool` mode: one blocking wait on the pool thread, its dispatch, then synchronous drain rounds. */
  async #waitOnPool(): Promise<void> {
    const n = await this.#set.waitOnPool();
    if (n < 0) {
      this.#waitFailed();
      return;
    }
    this.#failures = 0;
    this.#set.dispatch(n, this.#report);
    this.#drain();
  }

  /**
   * `thread` mode: one synchronous wait (at most `tickMs`) and its dispatch; microtasks run after every
   * batch (completions flushed in a microtask), the event loop after an idle tick, every millisecond while busy,
   * and when asked.
   */
  async #waitHere(): Promise<void> {
    // No drain rounds here: the next blocking wait returns at once when something is ready, at the same cost as a
    // drain's epoll_wait(…, 0), which would be one more syscall per wake-up for nothing.
    const n = this.#set.waitHere(this.#tickMs);
    this.#set.dispatch(n, this.#report);
    await null;
    const now = performance.now();
    if (n === 0 || this.#yieldRequested || now - this.#lastYield >= YIELD_INTERVAL_MS) {
      this.#yieldRequested = false;
      await yieldToEventLoop();
      this.#lastYield = performance.now();
    }
  }

  #drain(): void {
    for (let round = 0; round < this.#drainRounds && !this.#stopRequested; round++) {
      const more = this.#set.waitHere(0);
      if (more === 0) return;
      this.#set.dispatch(more, this.#report);
    }
  }

  /**
   * The nonblocking call's errno is lost (it ran on a pool thread); -1 is almost always EINTR, so retry. After
   * several in a row, ask the kernel synchronously, where errno can be read.
   */
  #waitFailed(): void {
    if (++this.#failures < WAIT_RETRIES) return;
    this.#failures = 0;
    this.#set.dispatch(this.#set.waitHere(0), this.#report); // throws ErrnoError with the real errno
  }

  /** Poll mode: see `ReactorOptions.idle`. Returns when stopped, switched, or when `idle()` returns false. */
  async #pollWhile(idle: () => boolean): Promise<void> {
    let lastYield = performance.now();
    for (let round = 1; !this.#stopRequested && this.#idle === idle; round++) {
      if (round % this.#pollEvery === 1 || this.#pollEvery === 1) {
        const n = this.#set.waitHere(0);
        if (n > 0) this.#set.dispatch(n, this.#report);
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
      this.#reportFault(e, Reactor.IDLE_TOKEN);
      return this.#onError !== undefined;
    }
  }

  #reportFault(error: unknown, token: number): void {
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
