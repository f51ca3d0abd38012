/**
 * `LoadWatch`: what a `LoadGenerator` checks besides each used element: the notification rules, and a device that
 * stops serving. It decides kicks (and remembers a batch the device asked not to be kicked for), counts call
 * signals while notifications are suppressed (poll mode), and every second looks for progress: a run without any
 * for the stall time ends with its requests reported as never completed instead of waiting forever, after two
 * tries to go on that are departures themselves when they work (completions published without the call signal
 * asked for; a kick the device had suppressed but needed).
 *
 * @module
 */

import type { ClaimedQueue } from "./crypto_driver.ts";
import type { DepartureLog } from "./departures.ts";
import type { CompletionMode } from "./load_options.ts";
import type { VirtqueueError } from "../virtio/mod.ts";

/** What the watch sees of its generator. */
export interface WatchedLoad {
  readonly queue: ClaimedQueue;
  readonly mode: CompletionMode;
  /** No progress for this long: the run ends as stalled. */
  readonly stallMs: number;
  /** Requests completed, or given up (stale used elements), in this run. */
  done(): number;
  /** Requests sent in this run. */
  submitted(): number;
  /** Reads the used ring once (completions, refills). */
  round(): void;
  /** Ends the run with what it has. */
  finish(): void;
}

/** The watch of one generator; `start` and `stop` bracket each run. */
export class LoadWatch {
  readonly #load: WatchedLoad;
  readonly #departures: DepartureLog;
  #timer: ReturnType<typeof setInterval> | undefined;
  #seen = -1;
  #seenAt = 0;
  /** The last published requests went without a kick because the device suppressed it. */
  #kickSkipped = false;
  /** A kick was sent after a stall although the device had suppressed it; progress then is a departure. */
  #rescued = false;
  #countingCalls = false;
  #neverCompleted = 0;

  /**
   * @param load The generator.
   * @param departures Where departures go.
   */
  constructor(load: WatchedLoad, departures: DepartureLog) {
    this.#load = load;
    this.#departures = departures;
  }

  /** Requests the last run ended with in flight (0: it did not stall). */
  get neverCompleted(): number {
    return this.#neverCompleted;
  }

  /** Starts watching a run. */
  start(): void {
    this.#seen = -1;
    this.#seenAt = performance.now();
    this.#rescued = false;
    this.#kickSkipped = false;
    this.#countingCalls = false;
    this.#neverCompleted = 0;
    this.#timer = setInterval(() => this.#tick(), Math.min(1000, this.#load.stallMs));
  }

  /** Stops watching. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** After publishing: kicks when the device asks for it, and remembers a batch published without one. */
  notify(): void {
    const { queue } = this.#load;
    if (queue.driver.needsKick()) {
      queue.kick.signal();
      this.#kickSkipped = false;
    } else if (this.#load.submitted() > this.#load.done()) {
      this.#kickSkipped = true;
    }
  }

  /**
   * Poll mode: from here on every call signal is a departure. Called at the completion of a request sent after a
   * reap: the device has then finished the batch before it, so a late signal of the previous run, or of a first
   * batch (which a device may always signal), is left out.
   */
  countCallsFromNow(): void {
    if (this.#countingCalls) return;
    this.#load.queue.call.consume();
    this.#countingCalls = true;
  }

  /** Records the call signals since the last count (poll mode, once counting). */
  countCalls(): void {
    if (!this.#countingCalls) return;
    const { queue } = this.#load;
    const n = Number(queue.call.consume());
    if (n === 0) return;
    const expected = queue.driver.eventIdx ? "none (used_event out of reach)" : "none (NO_INTERRUPT set)";
    this.#departures.record("notified-while-suppressed", { expected, seen: `${n} call signals` }, n);
  }

  /** `used.idx` ran ahead: the ring cannot be read any more, and what is in flight is never completed. */
  usedIdxAhead(e: VirtqueueError): void {
    const { driver } = this.#load.queue;
    const example = { usedIndex: driver.lastUsed, expected: `at most ${driver.size} ahead`, seen: e.message };
    this.#departures.record("used-idx-ahead", example);
    this.#stall(performance.now() - this.#seenAt);
  }

  #tick(): void {
    const now = performance.now();
    this.countCalls();
    const done = this.#load.done();
    if (done !== this.#seen) {
      if (this.#rescued && this.#seen >= 0) this.#kickWasNeeded();
      this.#seen = done;
      this.#seenAt = now;
      return;
    }
    if (now - this.#seenAt <= this.#load.stallMs) return;
    if (done === this.#load.submitted()) return this.#load.finish(); // every slot left was given up
    if (this.#load.mode === "event" && this.#foundWithoutSignal()) return;
    if (this.#kickSkipped && !this.#rescued) {
      this.#rescued = true;
      this.#kickSkipped = false;
      this.#load.queue.kick.signal();
      this.#seenAt = now;
      return;
    }
    this.#stall(now - this.#seenAt);
  }

  /** Event mode, no progress: reads the used ring; completions there were published without the signal asked for. */
  #foundWithoutSignal(): boolean {
    const { driver } = this.#load.queue;
    if (!driver.hasUsed) return false;
    // Recorded before the round: the round may end the run, and the result takes the departures as they are.
    const expected = "a call signal (used_event reached)";
    this.#departures.record("notification-missing", { usedIndex: driver.lastUsed, expected, seen: "none" });
    this.#load.round();
    return true;
  }

  #kickWasNeeded(): void {
    this.#rescued = false;
    const expected = "new requests served without a kick (the device suppressed kicks)";
    this.#departures.record("kick-needed-while-suppressed", { expected, seen: "served only after a kick" });
  }

  #stall(ms: number): void {
    const left = this.#load.submitted() - this.#load.done();
    this.#neverCompleted = left;
    const expected = `every request completed (none for ${Math.round(ms)} ms)`;
    this.#departures.record("never-completed", { expected, seen: `${left} in flight` }, left);
    this.#load.finish();
  }
}
