/**
 * `LoadGenerator`: the fast path of the front-end, for `cryptobridge bench`. It drives one claimed data queue
 * (`VirtioCryptoDriver.claimQueue`) at a fixed depth with requests laid out once in guest RAM, and allocates
 * nothing per request: each slot's descriptor list is built at setup, `DriverQueue.addList`/`popUsed` reuse their
 * buffers, tokens are slot numbers, and latencies go into a fixed histogram. Per request it writes the status
 * byte (0xff, a value no status has), records the submit time and adds the slot's chain; per completion it checks
 * the status byte and the used length.
 *
 * Every slot's request is the same each time it is sent (same header, IV, source): the expected output of each
 * slot is computed once, by the caller (the CLI, with the software engine: this layer may not import engines).
 * A sample of completions is compared with it: the first request of every slot, then every `verifyEvery`-th.
 * Before a sampled request is sent its output area is overwritten (0xa5), so a back-end that stops writing cannot
 * pass on the previous answer. Benchmark-only: reusing a slot's IV (or GCM nonce) with the same key is what
 * makes that possible, and must never be done outside a benchmark.
 *
 * Completion modes: `event` waits for the call eventfd in the driver's reactor (as a guest's interrupt handler
 * does); `poll` busy-polls the used index and sets `used_event` just behind it (VRING_AVAIL_F_NO_INTERRUPT
 * without EVENT_IDX), so the device never needs to signal (as a polling guest driver, DPDK's virtio PMD, does). Poll mode yields to the event loop every few
 * thousand rounds, so timers (progress, the stall watchdog) still run.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import { Status } from "../spec/virtio_crypto.ts";
import { EPOLLIN, type Reactor } from "../os/mod.ts";
import { type DriverBufferList, UsedBuffer, VirtqueueError } from "../virtio/mod.ts";
import type { ClaimedQueue } from "./crypto_driver.ts";
import { LatencyHistogram } from "./latency.ts";
import { layOutSlots } from "./_load_slots.ts";
import { DepartureLog } from "./departures.ts";
import { LoadWatch, type WatchedLoad } from "./_load_watch.ts";
import { mismatchError, NO_STATUS, statusError } from "./load_error.ts";
import type { CompletionMode, LoadGeneratorOptions, LoadLimit, LoadResult } from "./load_options.ts";

const POISON = 0xa5;
/** Refills made visible (`avail.idx`) at a time within a round. */
const PUBLISH_EVERY = 4;
/** Poll mode: rounds between yields to the event loop. */
const YIELD_EVERY = 4096;
/**
 * Poll mode with EVENT_IDX: `used_event` this far ahead of the last used index. The device's used index is never
 * more than the queue size ahead of the driver's, so no batch of it can cross `used_event` (virtq_need_event is
 * false): any call signal is one the device should not have sent. (Just behind, `lastUsed - 1`, a batch the
 * driver has already reaped can still legitimately cross it.)
 */
const NO_EVENT_AHEAD = 0x8000;
/**
 * Poll mode: `used_event` is moved on only this close (plus the queue size), not per round: a rewrite per round
 * makes the device's read of it a cache miss each time (4.5% of `serve --poll` at 64 B).
 */
const USED_EVENT_SLACK = 0x1000;

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A fixed-depth load on one data queue. */
export class LoadGenerator {
  /** Requests in flight at most. */
  readonly depth: number;
  readonly #ram: Uint8Array; // the whole RAM region; offsets below are into it
  readonly #queue: ClaimedQueue;
  readonly #reactor: Reactor;
  readonly #indirect: boolean;
  readonly #mode: CompletionMode;
  readonly #verifyEvery: number;
  readonly #watch: LoadWatch;
  readonly #lists: DriverBufferList[];
  readonly #outputs: Uint8Array[]; // each slot's writable parts (a view of guest RAM)
  readonly #expected: Uint8Array[];
  readonly #statusAt: Float64Array;
  readonly #usedLen: Float64Array;
  readonly #submitAt: Float64Array;
  readonly #sampled: Uint8Array;
  readonly #requestNo: Float64Array;
  readonly #ready: Int32Array;
  /** Slots not sent because their avail position's head was in flight (avail-order heads only). */
  readonly #waiting: number[] = [];
  /** 1 for a slot whose request the device answered with a stale used element: it may still be working on it. */
  readonly #lostSlot: Uint8Array;
  readonly #departures = new DepartureLog();
  #lost = 0;
  readonly #used = new UsedBuffer<number>();
  readonly #histogram = new LatencyHistogram();
  #submitted = 0;
  #completed = 0;
  #verified = 0;
  #limit = 0;
  #deadline = 0;
  #submitting = false;
  #running = false;
  #startAt = 0;
  #lastAt = 0;
  /** Poll mode: the `used_event` last set. */
  #usedEventAt = 0;
  #token = -1;
  #resolve: ((r: LoadResult) => void) | null = null;
  #reject: ((e: unknown) => void) | null = null;

  /**
   * Lays every slot's request out in guest RAM and builds its descriptor list.
   *
   * @param o RAM, queue, area, depth, requests and expected outputs.
   * @throws RangeError when the depth does not fit the queue (direct chains take one descriptor per part) or the
   *   slots do not fit the area.
   */
  constructor(o: LoadGeneratorOptions) {
    const depth = o.depth;
    const size = o.queue.driver.size;
    if (!Number.isInteger(depth) || depth < 1 || depth > size) {
      throw new RangeError(`Cannot set up load: depth must be in 1..${size}: current value is ${depth}`);
    }
    this.depth = depth;
    this.#ram = o.ram.region.bytes;
    this.#queue = o.queue;
    this.#reactor = o.reactor;
    this.#indirect = o.indirect ?? false;
    this.#mode = o.completion ?? "event";
    this.#verifyEvery = Math.max(1, Math.floor(o.verifyEvery ?? 1024));
    this.#watch = new LoadWatch(this.#watched(o), this.#departures);
    this.#submitAt = new Float64Array(depth);
    this.#sampled = new Uint8Array(depth);
    this.#requestNo = new Float64Array(depth);
    this.#ready = new Int32Array(depth);
    this.#lostSlot = new Uint8Array(depth);
    // The slots' arrays are held directly, not through the LoadSlots object: the rounds read them per request.
    const slots = layOutSlots(o, depth, this.#indirect);
    this.#lists = slots.lists;
    this.#outputs = slots.outputs;
    this.#expected = slots.expected;
    this.#statusAt = slots.statusAt;
    this.#usedLen = slots.usedLen;
  }

  /** Requests completed in the current (or last) run. */
  get completed(): number {
    return this.#completed;
  }

  /** Milliseconds since the current run started (0 before). */
  get elapsedMs(): number {
    return this.#running ? performance.now() - this.#startAt : this.#lastAt - this.#startAt;
  }

  /**
   * Runs the load until the limit, then waits for the requests in flight.
   *
   * @param limit How many requests, or for how long (both: whichever comes first).
   * @returns Counts, time and latency of the run, and the departures from the specs seen so far (wrong used
   *   elements, a stall: `stalled` with `neverCompleted` requests, instead of waiting forever).
   * @throws LoadError (the promise rejects) on an error status or a wrong output.
   */
  run(limit: LoadLimit): Promise<LoadResult> {
    if (this.#running) throw new Error("Cannot run load: a run is in progress");
    const count = limit.count ?? Infinity;
    const duration = limit.durationMs ?? Infinity;
    if (count === Infinity && duration === Infinity) {
      throw new RangeError("Cannot run load: give a count, a duration or both");
    }
    this.#histogram.reset();
    this.#submitted = 0;
    this.#completed = 0;
    this.#verified = 0;
    this.#limit = count;
    this.#waiting.length = 0;

    return new Promise<LoadResult>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
      this.#running = true;
      this.#watch.start();
      if (this.#mode === "event") {
        // A signal left from before the run (the one a back-end gives at SET_VRING_CALL, or the last case's) would
        // reap this run's first completions as if the device had signalled them.
        this.#queue.call.consume();
        this.#token = this.#reactor.add(this.#queue.call.fd, EPOLLIN, () => this.#onCall());
      } else {
        // No notifications wanted: used_event out of reach (EVENT_IDX), or the flag (2.7.7.1).
        this.#queue.driver.rearmOnPop = false;
        this.#setUsedEventAhead();
        if (!this.#queue.driver.eventIdx) this.#queue.driver.setNoInterrupt(true);
      }
      const now = performance.now();
      this.#startAt = now;
      this.#lastAt = now;
      this.#deadline = now + duration;
      this.#submitting = true;
      const q = this.#queue.driver;
      for (let slot = 0; slot < this.depth && this.#canSubmit(now); slot++) {
        if (this.#lostSlot[slot] === 0) this.#submit(slot, now);
      }
      q.publish();
      this.#watch.notify();
      if (this.#submitted === 0) this.#finish();
      else if (this.#mode === "poll") this.#pollLoop();
    });
  }

  #onCall(): void {
    this.#queue.call.consume();
    this.#round();
  }

  async #pollLoop(): Promise<void> {
    let round = 0;
    while (this.#running) {
      this.#round();
      if (++round % YIELD_EVERY === 0) await yieldToEventLoop();
    }
  }

  /** Takes every completion, checks it, records its latency, and sends the freed slots again. */
  #round(): void {
    if (!this.#running) return;
    const q = this.#queue.driver;
    let n: number;
    try {
      n = this.#reap();
    } catch (e) {
      if (e instanceof VirtqueueError && e.kind === "invalid-used-index") this.#watch.usedIdxAhead(e);
      else this.#fail(e);
      return;
    }
    if (n === 0) return;
    if (this.#mode === "poll" && ((this.#usedEventAt - q.lastUsed) & 0xffff) < q.size + USED_EVENT_SLACK) {
      this.#setUsedEventAhead();
    }
    const now = performance.now();
    this.#lastAt = now;
    const ready = this.#ready;
    for (let i = 0; i < n; i++) this.#histogram.record((now - this.#submitAt[ready[i]!]!) * 1e6);
    this.#completed += n;
    if (this.#submitting) {
      if (this.#waiting.length > 0) this.#retryWaiting(now);
      for (let i = 0; i < n && this.#canSubmit(now); i++) {
        this.#submit(ready[i]!, now);
        // Publish in small groups: a polling device starts on them while the rest are being added. The kick
        // decision waits for the end of the round (a driver may notify late, never skip a needed notification).
        if (i % PUBLISH_EVERY === PUBLISH_EVERY - 1) q.publish();
      }
      q.publish();
      this.#watch.notify();
    }
    if (this.#completed + this.#lost === this.#submitted && !this.#canSubmit(now)) this.#finish();
  }

  #setUsedEventAhead(): void {
    const q = this.#queue.driver;
    this.#usedEventAt = (q.lastUsed + NO_EVENT_AHEAD) & 0xffff;
    q.setUsedEvent(this.#usedEventAt);
  }

  #canSubmit(now: number): boolean {
    if (!this.#submitting) return false;
    if (this.#submitted < this.#limit && now < this.#deadline) return true;
    this.#submitting = false;
    return false;
  }

  #submit(slot: number, now: number): void {
    const n = this.#submitted;
    const sample = n < this.depth || n % this.#verifyEvery === 0;
    this.#sampled[slot] = sample ? 1 : 0;
    this.#requestNo[slot] = n;
    if (sample) this.#outputs[slot]!.fill(POISON);
    this.#ram[this.#statusAt[slot]!] = NO_STATUS;
    this.#submitAt[slot] = now;
    // With free-list heads this cannot fail (a slot's descriptors were freed by its completion, and the depth
    // fits the queue). With avail-order heads the head of this avail position may still be in flight (a request
    // `size` positions back completed late): the slot waits for the next round.
    if (this.#queue.driver.addList(this.#lists[slot]!, this.#indirect, slot) < 0) {
      this.#waiting.push(slot);
      return;
    }
    this.#submitted++;
  }

  /** Sends the slots that found their avail position's head in flight, before any freed in this round. */
  #retryWaiting(now: number): void {
    const waiting = this.#waiting.splice(0);
    for (const slot of waiting) {
      if (this.#canSubmit(now)) this.#submit(slot, now);
    }
  }

  #reap(): number {
    const q = this.#queue.driver;
    const used = this.#used;
    let n = 0;
    for (;;) {
      const at = q.lastUsed;
      const got = this.#popChecked(used, at);
      if (got === 0) break;
      if (got < 0) continue;
      const slot = used.token!;
      const request = this.#requestNo[slot]!;
      const status = this.#ram[this.#statusAt[slot]!]!;
      if (status === NO_STATUS) {
        // The device has not answered this request: the element is left from an earlier lap. The slot is not
        // sent again (the device may still write it).
        const where = { request, head: used.head, usedIndex: at };
        this.#departures.record("used-entry-stale", { ...where, expected: "status written", seen: "none" });
        this.#lostSlot[slot] = 1;
        this.#lost++;
        continue;
      }
      if (status !== Status.OK) throw statusError(request, slot, status);
      const want = this.#usedLen[slot]!;
      if (used.len !== want) {
        // Built only here: the generator allocates nothing per completion that conforms.
        const where = { request, head: used.head, usedIndex: at };
        this.#departures.record("used-len", { ...where, expected: want, seen: used.len });
      }
      if (this.#sampled[slot] === 1) {
        this.#check(slot);
        this.#verified++;
      }
      if (this.#mode === "poll" && request >= this.depth) this.#watch.countCallsFromNow();
      this.#ready[n++] = slot;
    }
    return n;
  }

  /**
   * `popUsed`, stepping over an element whose id is no head in flight (recorded).
   *
   * @returns 1: taken; -1: stepped over; 0: nothing new.
   */
  #popChecked(used: UsedBuffer<number>, at: number): number {
    const q = this.#queue.driver;
    try {
      return q.popUsed(used) ? 1 : 0;
    } catch (e) {
      if (!(e instanceof VirtqueueError) || e.kind !== "invalid-used-id") throw e;
    }
    q.discardUsed(used);
    const example = { head: used.head, usedIndex: at, expected: "a head in flight", seen: used.head };
    this.#departures.record("used-id-not-in-flight", example);
    return -1;
  }

  /** What the watch sees of this generator. */
  #watched(o: LoadGeneratorOptions): WatchedLoad {
    return {
      queue: o.queue,
      mode: this.#mode,
      stallMs: o.stallMs ?? 5000,
      done: () => this.#completed + this.#lost,
      submitted: () => this.#submitted,
      round: () => this.#round(),
      finish: () => this.#finish(),
    };
  }

  #check(slot: number): void {
    const got = this.#outputs[slot]!;
    const want = this.#expected[slot]!;
    for (let i = 0; i < want.length; i++) {
      if (got[i] !== want[i]) throw mismatchError(this.#requestNo[slot]!, slot, i, { got, want });
    }
  }

  #stop(): void {
    this.#running = false;
    this.#submitting = false;
    this.#watch.stop();
    if (this.#token >= 0) this.#reactor.remove(this.#token);
    this.#token = -1;
    // Back to "notify me at the next used element", what the driver's own (event-driven) path expects.
    const q = this.#queue.driver;
    q.rearmOnPop = true;
    q.setUsedEvent(q.lastUsed);
    q.setNoInterrupt(false);
  }

  #finish(): void {
    this.#watch.countCalls();
    this.#stop();
    const resolve = this.#resolve!;
    this.#resolve = this.#reject = null;
    resolve({
      completed: this.#completed,
      elapsedMs: this.#lastAt - this.#startAt,
      verified: this.#verified,
      latency: this.#histogram.summary(),
      departures: this.#departures.list(),
      stalled: this.#watch.neverCompleted > 0,
      neverCompleted: this.#watch.neverCompleted,
    });
  }

  #fail(e: unknown): void {
    if (!this.#running) return;
    this.#stop();
    const reject = this.#reject!;
    this.#resolve = this.#reject = null;
    reject(e);
  }
}
