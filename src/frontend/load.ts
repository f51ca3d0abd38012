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
import { DriverBufferList, UsedBuffer } from "../virtio/mod.ts";
import type { ClaimedQueue } from "./crypto_driver.ts";
import type { GuestRam } from "./guest_ram.ts";
import { LatencyHistogram, type LatencySummary } from "./latency.ts";

/** One slot's request: device-readable parts (header first), then the lengths of the device-writable parts. */
export interface LoadRequest {
  /** Bytes of each device-readable part, in order (header and `op_flf`, then the `op_vlf` parts). */
  readonly out: readonly Uint8Array[];
  /** Lengths of the device-writable parts before the status byte, in order. */
  readonly inLengths: readonly number[];
}

/** How completions are noticed. */
export type CompletionMode = "event" | "poll";

/** Options of a `LoadGenerator`. */
export interface LoadGeneratorOptions {
  /** Guest RAM (the requests are laid out in it). */
  readonly ram: GuestRam;
  /** The data queue to drive. */
  readonly queue: ClaimedQueue;
  /** The reactor to wait for the call eventfd in (`event` mode). */
  readonly reactor: Reactor;
  /** Guest-physical address of the area the slots go in (`VirtioCryptoDriver.reserveRam`). */
  readonly area: number;
  /** Bytes of that area. */
  readonly areaSize: number;
  /** Requests in flight. */
  readonly depth: number;
  /** The request of a slot (called once per slot). */
  readonly request: (slot: number) => LoadRequest;
  /**
   * The expected bytes of a slot's device-writable parts (concatenated, without the status byte), called once per
   * slot.
   */
  readonly expected: (slot: number) => Uint8Array;
  /** Indirect chains (one descriptor in the ring per request). Default false. */
  readonly indirect?: boolean;
  /** Default `event`. */
  readonly completion?: CompletionMode;
  /** Compare every n-th completion (and the first of each slot) with the expected output. Default 1024. */
  readonly verifyEvery?: number;
  /** Fail when nothing completes for this long. Default 5000 ms. */
  readonly stallMs?: number;
}

/** What stops a run. */
export type LoadErrorKind = "status" | "used-length" | "mismatch" | "stalled";

/** A run failed: a request answered with an error status or a wrong output, or the back-end stopped answering. */
export class LoadError extends Error {
  override name = "LoadError";
  /** What went wrong. */
  readonly kind: LoadErrorKind;

  /**
   * @param kind What went wrong.
   * @param message What, where, and the values.
   */
  constructor(kind: LoadErrorKind, message: string) {
    super(message);
    this.kind = kind;
  }
}

/** When a run stops submitting: after `count` requests, after `durationMs`, or whichever comes first. */
export interface LoadLimit {
  readonly count?: number;
  readonly durationMs?: number;
}

/** The outcome of one run. */
export interface LoadResult {
  /** Requests completed (every one checked for status and used length). */
  readonly completed: number;
  /** From the first submission to the last completion. */
  readonly elapsedMs: number;
  /** Completions compared with the expected output. */
  readonly verified: number;
  /** Latency from submission to completion, as seen by the driver. */
  readonly latency: LatencySummary;
}

const POISON = 0xa5;
const NO_STATUS = 0xff;
/** Refills made visible (`avail.idx`) at a time within a round. */
const PUBLISH_EVERY = 4;
/** Poll mode: rounds between yields to the event loop. */
const YIELD_EVERY = 4096;

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A fixed-depth load on one data queue. */
export class LoadGenerator {
  /** Requests in flight at most. */
  readonly depth: number;
  readonly #ram: Uint8Array; // the whole RAM region; offsets below are into it
  readonly #ramBase: number;
  readonly #queue: ClaimedQueue;
  readonly #reactor: Reactor;
  readonly #indirect: boolean;
  readonly #mode: CompletionMode;
  readonly #verifyEvery: number;
  readonly #stallMs: number;
  readonly #lists: DriverBufferList[] = [];
  readonly #outputs: Uint8Array[] = []; // each slot's writable parts (a view of guest RAM)
  readonly #expected: Uint8Array[] = [];
  readonly #statusAt: Float64Array;
  readonly #usedLen: Float64Array;
  readonly #submitAt: Float64Array;
  readonly #sampled: Uint8Array;
  readonly #requestNo: Float64Array;
  readonly #ready: Int32Array;
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
  #token = -1;
  #watchdog: ReturnType<typeof setInterval> | undefined;
  #watchdogSeen = 0;
  #watchdogAt = 0;
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
    this.#ramBase = o.ram.region.gpa;
    this.#queue = o.queue;
    this.#reactor = o.reactor;
    this.#indirect = o.indirect ?? false;
    this.#mode = o.completion ?? "event";
    this.#verifyEvery = Math.max(1, Math.floor(o.verifyEvery ?? 1024));
    this.#stallMs = o.stallMs ?? 5000;
    this.#statusAt = new Float64Array(depth);
    this.#usedLen = new Float64Array(depth);
    this.#submitAt = new Float64Array(depth);
    this.#sampled = new Uint8Array(depth);
    this.#requestNo = new Float64Array(depth);
    this.#ready = new Int32Array(depth);
    let at = o.area;
    for (let slot = 0; slot < depth; slot++) at = this.#layOut(slot, o, at, size);
  }

  // Out parts each 64-byte aligned; in parts contiguous (one view compares them all), then the status byte.
  #layOut(slot: number, o: LoadGeneratorOptions, start: number, queueSize: number): number {
    const req = o.request(slot);
    const parts = req.out.length + req.inLengths.length + 1;
    const inTotal = req.inLengths.reduce((n, len) => n + len, 0);
    const need = req.out.reduce((n, b) => n + align(b.length, 64), 0) + inTotal + 1;
    this.#checkFits(parts, queueSize, start + need <= o.area + o.areaSize ? 0 : o.areaSize);
    const list = new DriverBufferList(parts);
    let at = start;
    for (const bytes of req.out) {
      this.#bytesAt(at, bytes.length).set(bytes);
      list.push(at, bytes.length, false);
      at = align(at + bytes.length, 64);
    }
    const inStart = at;
    for (const len of req.inLengths) {
      list.push(at, len, true);
      at += len;
    }
    list.push(at, 1, true);
    this.#statusAt[slot] = at - this.#ramBase;
    this.#usedLen[slot] = inTotal + 1;
    this.#outputs[slot] = this.#bytesAt(inStart, inTotal);
    const expected = o.expected(slot);
    if (expected.length !== inTotal) {
      throw new RangeError(
        `Cannot set up load: expected output of slot ${slot} must be ${inTotal} bytes: current length is ${expected.length}`,
      );
    }
    this.#expected[slot] = expected;
    this.#lists[slot] = list;
    return align(at + 1, 64);
  }

  /**
   * Throws when a slot's chain cannot be added at this depth, or when its bytes overflow the area (`overflowed`:
   * the area's size, 0 when it fits).
   */
  #checkFits(parts: number, queueSize: number, overflowed: number): void {
    const fits = this.#indirect ? parts <= 64 : parts * this.depth <= queueSize;
    if (!fits) {
      const why = this.#indirect
        ? `a request of ${parts} descriptors exceeds the indirect table of 64`
        : `depth ${this.depth} × ${parts} descriptors exceeds the queue size ${queueSize}: lower the depth or use indirect chains`;
      throw new RangeError(`Cannot set up load: ${why}`);
    }
    if (overflowed > 0) {
      throw new RangeError(
        `Cannot set up load: ${this.depth} requests need more than the ${overflowed} bytes of the area`,
      );
    }
  }

  #bytesAt(gpa: number, len: number): Uint8Array {
    const off = gpa - this.#ramBase;
    return this.#ram.subarray(off, off + len);
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
   * @returns Counts, time and latency of the run.
   * @throws LoadError (the promise rejects) on an error status, a wrong used length, a wrong output, or a stall.
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
    return new Promise<LoadResult>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
      this.#running = true;
      this.#startWatchdog();
      if (this.#mode === "event") {
        this.#token = this.#reactor.add(this.#queue.call.fd, EPOLLIN, () => this.#onCall());
      } else {
        // No notifications wanted: used_event behind the used index (EVENT_IDX), or the flag (2.7.7.1).
        this.#queue.driver.setUsedEvent(this.#queue.driver.lastUsed - 1);
        if (!this.#queue.driver.eventIdx) this.#queue.driver.setNoInterrupt(true);
      }
      const now = performance.now();
      this.#startAt = now;
      this.#lastAt = now;
      this.#deadline = now + duration;
      this.#submitting = true;
      const q = this.#queue.driver;
      for (let slot = 0; slot < this.depth && this.#canSubmit(now); slot++) this.#submit(slot, now);
      q.publish();
      if (q.needsKick()) this.#queue.kick.signal();
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
      this.#fail(e);
      return;
    }
    if (n === 0) return;
    if (this.#mode === "poll") q.setUsedEvent(q.lastUsed - 1);
    const now = performance.now();
    this.#lastAt = now;
    const ready = this.#ready;
    for (let i = 0; i < n; i++) this.#histogram.record((now - this.#submitAt[ready[i]!]!) * 1e6);
    this.#completed += n;
    if (this.#submitting) {
      for (let i = 0; i < n && this.#canSubmit(now); i++) {
        this.#submit(ready[i]!, now);
        // Publish in small groups: a polling device starts on them while the rest are being added. The kick
        // decision waits for the end of the round (a driver may notify late, never skip a needed notification).
        if (i % PUBLISH_EVERY === PUBLISH_EVERY - 1) q.publish();
      }
      q.publish();
      if (q.needsKick()) this.#queue.kick.signal();
    }
    if (this.#completed === this.#submitted && !this.#canSubmit(now)) this.#finish();
  }

  #canSubmit(now: number): boolean {
    if (!this.#submitting) return false;
    if (this.#submitted < this.#limit && now < this.#deadline) return true;
    this.#submitting = false;
    return false;
  }

  #submit(slot: number, now: number): void {
    const n = this.#submitted++;
    const sample = n < this.depth || n % this.#verifyEvery === 0;
    this.#sampled[slot] = sample ? 1 : 0;
    this.#requestNo[slot] = n;
    if (sample) this.#outputs[slot]!.fill(POISON);
    this.#ram[this.#statusAt[slot]!] = NO_STATUS;
    this.#submitAt[slot] = now;
    // Cannot fail: a slot's descriptors were freed by its completion, and the depth fits the queue.
    this.#queue.driver.addList(this.#lists[slot]!, this.#indirect, slot);
  }

  #reap(): number {
    const q = this.#queue.driver;
    const used = this.#used;
    let n = 0;
    while (q.popUsed(used)) {
      const slot = used.token!;
      const status = this.#ram[this.#statusAt[slot]!]!;
      if (status !== Status.OK) {
        throw new LoadError(
          "status",
          `Request ${this.#requestNo[slot]} (slot ${slot}) completed with status ${statusName(status)}`,
        );
      }
      if (used.len !== this.#usedLen[slot]) {
        throw new LoadError(
          "used-length",
          `Request ${this.#requestNo[slot]} (slot ${slot}): used length must be ${
            this.#usedLen[slot]
          }: current value is ${used.len}`,
        );
      }
      if (this.#sampled[slot] === 1) {
        this.#check(slot);
        this.#verified++;
      }
      this.#ready[n++] = slot;
    }
    return n;
  }

  #check(slot: number): void {
    const got = this.#outputs[slot]!;
    const want = this.#expected[slot]!;
    for (let i = 0; i < want.length; i++) {
      if (got[i] !== want[i]) {
        const hex = (b: number): string => b.toString(16).padStart(2, "0");
        throw new LoadError(
          "mismatch",
          `Request ${
            this.#requestNo[slot]
          } (slot ${slot}): output differs from the expected one at byte ${i} of ${want.length}: got 0x${
            hex(got[i]!)
          }, expected 0x${hex(want[i]!)}`,
        );
      }
    }
  }

  #startWatchdog(): void {
    this.#watchdogSeen = -1;
    this.#watchdogAt = performance.now();
    this.#watchdog = setInterval(() => {
      const now = performance.now();
      if (this.#completed !== this.#watchdogSeen) {
        this.#watchdogSeen = this.#completed;
        this.#watchdogAt = now;
      } else if (now - this.#watchdogAt > this.#stallMs) {
        const inflight = this.#submitted - this.#completed;
        this.#fail(
          new LoadError(
            "stalled",
            `No completion for ${
              Math.round(now - this.#watchdogAt)
            } ms with ${inflight} requests in flight: the back-end stopped answering`,
          ),
        );
      }
    }, Math.min(1000, this.#stallMs));
  }

  #stop(): void {
    this.#running = false;
    this.#submitting = false;
    clearInterval(this.#watchdog);
    this.#watchdog = undefined;
    if (this.#token >= 0) this.#reactor.remove(this.#token);
    this.#token = -1;
    // Back to "notify me at the next used element", what the driver's own (event-driven) path expects.
    const q = this.#queue.driver;
    q.setUsedEvent(q.lastUsed);
    q.setNoInterrupt(false);
  }

  #finish(): void {
    this.#stop();
    const resolve = this.#resolve!;
    this.#resolve = this.#reject = null;
    resolve({
      completed: this.#completed,
      elapsedMs: this.#lastAt - this.#startAt,
      verified: this.#verified,
      latency: this.#histogram.summary(),
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

const STATUS_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(Status).map(([name, value]) => [value, name]),
);

function statusName(status: number): string {
  return status === NO_STATUS
    ? "none (0xff: never written)"
    : `${STATUS_NAMES[status] ?? "unknown"} (${status})`;
}

function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}
