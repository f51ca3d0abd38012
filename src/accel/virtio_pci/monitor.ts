/**
 * `EngineMonitor`: the accelerator engine's timers, which run only while requests are in flight: the watchdog
 * (a periodic health round) and, in poll mode, the loop that polls the used ring. An idle engine has no timer, so
 * it keeps no process alive and a test that waited for its requests leaves nothing running.
 *
 * @module
 */

import { setImmediate } from "node:timers";

/** What the monitor runs. */
export interface MonitorOptions {
  /** Watchdog period in ms. */
  readonly periodMs: number;
  /** The watchdog round. */
  readonly tick: () => void;
  /** Poll mode: one poll; returns whether to keep polling. `null`: no poll loop (interrupts or the caller). */
  readonly poll: (() => boolean) | null;
}

/** Starts and stops the engine's timers with its load. */
export class EngineMonitor {
  readonly #options: MonitorOptions;
  #interval: ReturnType<typeof setInterval> | null = null;
  /** Polling is wanted. */
  #polling = false;
  /** A poll round is scheduled (never two: `idle()` then `busy()` must not start a second loop). */
  #scheduled = false;
  readonly #loop = (): void => {
    this.#scheduled = false;
    if (!this.#polling) return;
    if (this.#options.poll!()) this.#schedule();
    else this.#polling = false;
  };

  /** @param options Period, watchdog round, poll function. */
  constructor(options: MonitorOptions) {
    this.#options = options;
  }

  /** Requests are in flight: make sure the watchdog (and the poll loop) run. */
  busy(): void {
    if (this.#interval === null) {
      const interval = setInterval(this.#options.tick, this.#options.periodMs);
      Deno.unrefTimer(interval); // the reactor, not the watchdog, keeps the daemon alive
      this.#interval = interval;
    }
    if (this.#options.poll !== null) {
      this.#polling = true;
      if (!this.#scheduled) this.#schedule();
    }
  }

  #schedule(): void {
    this.#scheduled = true;
    setImmediate(this.#loop);
  }

  /** Nothing in flight any more (or the engine stopped): stop the timers. */
  idle(): void {
    if (this.#interval !== null) clearInterval(this.#interval);
    this.#interval = null;
    this.#polling = false;
  }
}
