/**
 * `DataQueue`: serves one data virtqueue: pop, parse, submit to the engine, write the status byte, complete.
 *
 * A request's failure is a status byte and the queue keeps serving; a ring error (from `popChain`) stops the queue.
 * Synchronous engines complete inside `serve()`, one batch per call: `used.idx` is stored every `PUBLISH_EVERY`
 * requests, and a notification (`vring.flush()`) goes at the batch's end, every `FLUSH_BYTES` of large requests,
 * and with EVENT_IDX while the driver waits (`WAKE_AHEAD_BYTES`, `FLUSH_AWAITED`); an asynchronous engine
 * completes later through `op.complete`, and completions that arrive together are flushed together (a microtask).
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { ChainWriter, DescriptorChain, VirtqueueError } from "../virtio/mod.ts";
import { type CryptoEngine, CryptoOp, PENDING } from "../engine/engine.ts";
import type { VringHandle } from "../vhost_user/backend.ts";
import { Status } from "../spec/virtio_crypto.ts";
import { type ParserContext, RequestParser } from "./request.ts";
import type { DeviceStats } from "./stats.ts";

const log = getLogger(["cryptobridge", "crypto"]);

/**
 * When `serve()` publishes the completions so far, before the batch ends: once at least `FLUSH_REQUESTS` requests
 * and `FLUSH_BYTES` of output have completed since the last publication. With large requests a batch of 32 takes
 * the daemon 100-400 µs, and a driver that waits for the call signal would otherwise refill nothing until the last
 * one is done (the ring runs dry while it reaps and refills). Each publication costs a call signal (an
 * `eventfd_write` and a wake-up of the driver), so the request count keeps it to a few per batch at 16 KiB;
 * small requests never reach the byte bound within a batch (see `WAKE_AHEAD_BYTES` for their early signal).
 * Measured in docs/architecture.md, "Threads".
 */
export const FLUSH_BYTES = 64 * 1024;
/** See `FLUSH_BYTES`. */
export const FLUSH_REQUESTS = 16;
/**
 * Within a batch, completions are made visible (one `used.idx` store, no signal) every `PUBLISH_EVERY` requests,
 * so a driver that is awake (polling, or reaping after a signal) takes them without waiting for the batch's end.
 */
export const PUBLISH_EVERY = 4;
/**
 * With EVENT_IDX the driver says when it waits for a signal (`used_event`), so a mid-batch publication may also
 * wake it: when the work left in the avail ring is shorter than about one wake-up (the driver then refills while
 * the daemon serves the rest, instead of after the batch), and when `FLUSH_AWAITED` completions and `FLUSH_BYTES`
 * of output wait for it (`awaitedUsed()`). The work left is counted in bytes of output, each request weighing its
 * output plus `REQUEST_COST_BYTES` for what it costs whatever its size, against `WAKE_AHEAD_BYTES` (~40 µs of
 * AES-CBC here, one wake-up of a sleeping driver). Waiting completions are counted from `used_event`, not from
 * the last signal, so the driver takes what completed during its wake-up in the same round: a signal costs the
 * daemon an `eventfd_write`, and a wake-up IPI when the driver's CPU sleeps. Without EVENT_IDX (QEMU never
 * passes it on, interop.md 1.9) the device cannot tell a waiting driver from a busy one: only `FLUSH_REQUESTS`
 * with `FLUSH_BYTES`, and the batch's end, signal. Measured in docs/architecture.md, "Threads".
 */
export const WAKE_AHEAD_BYTES = 40 * 1024;
/**
 * A request's fixed cost (ring, parse, engine call, completion: about 1 µs here) in bytes of output that take as
 * long. See `WAKE_AHEAD_BYTES`.
 */
export const REQUEST_COST_BYTES = 2048;
/**
 * From this request size on, the work left is weighed by output alone against `WAKE_AHEAD_OUTPUT`, so at 512 B-2
 * KiB every publication after the driver went to sleep wakes it. Measured against the rule above alone (event
 * completion, depth 32, 3 interleaved rounds): with the daemon now at ~0.5 µs per request, 512 B-2 KiB gained
 * 1.3-1.5x from waking at once, while 256 B lost 12% and 64 B did not move (docs/architecture.md, "Threads").
 */
export const WAKE_AHEAD_FROM_SIZE = 512;
/** See `WAKE_AHEAD_FROM_SIZE`: 16 requests of 4 KiB, 4 of 16 KiB. */
export const WAKE_AHEAD_OUTPUT = 64 * 1024;
/** See `WAKE_AHEAD_BYTES`. */
export const FLUSH_AWAITED = 24;
/**
 * Most requests one `serve()` call takes off the ring (vhost-net's `VHOST_NET_PKT_WEIGHT` is the same 256). A
 * driver that refills as fast as the device serves, or a guest that only bumps `avail.idx` over the same chain,
 * would otherwise keep one call going for ever, and its thread would never get to its vhost-user messages, its
 * control commands or a stop. The caller serves the ring again while `availPending` says work is left. The limit
 * also bounds the window of each notification decision (made at the batch's end): with EVENT_IDX a window longer
 * than half the u16 index space wraps and crosses any `used_event`, a signal the driver had suppressed (seen with
 * `bench --completion poll` before the limit: a dozen per run).
 */
export const BATCH_LIMIT = 256;

/** Everything one in-flight request needs until it completes. */
class Slot {
  readonly chain: DescriptorChain;
  readonly op: CryptoOp;
  readonly parser: RequestParser;

  constructor(maxQueueSize: number, ctx: ParserContext) {
    this.chain = new DescriptorChain(maxQueueSize);
    this.op = new CryptoOp(maxQueueSize);
    this.parser = new RequestParser(ctx, maxQueueSize);
  }
}

/**
 * The requests a device may have in flight at once, shared by its data queues (a VM's `maxInflight`): past it,
 * chains stay in the avail ring until completions free room, so one VM cannot take all of an accelerator.
 */
export class InflightBudget {
  /** The limit. */
  readonly limit: number;
  /** Requests in flight now. */
  used = 0;

  /** @param limit The limit (>= 1). */
  constructor(limit: number) {
    this.limit = limit;
  }
}

/** One data queue of the device. */
export class DataQueue {
  readonly #engine: CryptoEngine;
  readonly #ctx: ParserContext;
  readonly #maxQueueSize: number;
  readonly #stats: DeviceStats;
  readonly #budget: InflightBudget;
  readonly #writer = new ChainWriter();
  readonly #free: Slot[] = [];
  #inflight = 0;
  #flushScheduled = false;
  #throttled = false;
  #vring: VringHandle | null = null;
  /** Output bytes and requests completed since the last flush (counted together, in `#finish`). */
  #unflushed = 0;
  #unflushedRequests = 0;
  /** Requests completed since the last `used.idx` store. */
  #unpublished = 0;

  /**
   * @param engine The engine requests go to.
   * @param ctx What the parser needs from the device.
   * @param maxQueueSize Largest queue size (chains and lists are sized by it).
   * @param stats Counters to update.
   * @param budget The device's in-flight limit, shared with its other queues.
   */
  constructor(
    engine: CryptoEngine,
    ctx: ParserContext,
    maxQueueSize: number,
    stats: DeviceStats,
    budget: InflightBudget,
  ) {
    this.#engine = engine;
    this.#ctx = ctx;
    this.#maxQueueSize = maxQueueSize;
    this.#stats = stats;
    this.#budget = budget;
  }

  /** Requests submitted to an asynchronous engine and not completed yet. */
  get inflight(): number {
    return this.#inflight;
  }

  /**
   * Serves what is available on the ring, up to `BATCH_LIMIT` requests, then flushes the batch.
   *
   * @param vring The ring.
   */
  serve(vring: VringHandle): void {
    this.#vring = vring;
    this.#throttled = false;
    let taken = 0;
    for (; taken < BATCH_LIMIT; taken++) {
      if (this.#budget.used >= this.#budget.limit) {
        this.#throttled = true; // served again when a completion frees room
        break;
      }
      const slot = this.#take();
      if (!this.#pop(vring, slot)) {
        this.#free.push(slot);
        break;
      }
      if (taken === 0) this.#engine.beginBatch?.(); // after the pop: an empty poll round reads no clock
      this.#run(vring, slot);
      if (this.#countedFlushDue(vring)) this.#flush(vring);
      else if (this.#unpublished >= PUBLISH_EVERY) this.#publish(vring, slot);
    }
    if (taken > 0) this.#engine.endBatch?.(); // `taken` requests were popped, the first began the batch
    this.#flush(vring);
  }

  #flush(vring: VringHandle): void {
    this.#unflushed = 0;
    this.#unflushedRequests = 0;
    this.#unpublished = 0;
    vring.flush();
  }

  // Without EVENT_IDX, checked after every request: FLUSH_REQUESTS requests and FLUSH_BYTES of output since the
  // last flush. With it the driver's used_event decides instead, at the publication points (#signalDue).
  #countedFlushDue(vring: VringHandle): boolean {
    return !vring.queue.eventIdx && this.#unflushedRequests >= FLUSH_REQUESTS &&
      this.#unflushed >= FLUSH_BYTES;
  }

  // A mid-batch `used.idx` store; with EVENT_IDX a signal too when one is due (#signalDue).
  #publish(vring: VringHandle, last: Slot): void {
    const queue = vring.queue;
    if (queue.eventIdx && this.#signalDue(vring, last.parser.outputLen)) return this.#flush(vring);
    this.#unpublished = 0;
    queue.publishUsed(vring.memory);
  }

  // With EVENT_IDX: when the avail ring holds little work (WAKE_AHEAD_BYTES, REQUEST_COST_BYTES), or when
  // FLUSH_AWAITED completions and FLUSH_BYTES of output wait for the driver.
  #signalDue(vring: VringHandle, size: number): boolean {
    const queue = vring.queue;
    const pending = queue.availAhead(vring.memory);
    const little = size < WAKE_AHEAD_FROM_SIZE
      ? pending * (size + REQUEST_COST_BYTES) < WAKE_AHEAD_BYTES
      : pending * size < WAKE_AHEAD_OUTPUT;
    if (little) return true;
    const awaited = queue.awaitedUsed(vring.memory);
    return awaited >= FLUSH_AWAITED && awaited * size >= FLUSH_BYTES;
  }

  #pop(vring: VringHandle, slot: Slot): boolean {
    try {
      return vring.queue.popChain(vring.memory, slot.chain);
    } catch (e) {
      // A ring error: the queue is now broken and stays stopped; the handler reports it.
      if (e instanceof VirtqueueError) return false;
      throw e;
    }
  }

  #take(): Slot {
    const reused = this.#free.pop();
    if (reused !== undefined) return reused;
    const slot = new Slot(this.#maxQueueSize, this.#ctx);
    // Created once per slot, not per request: the hot path allocates no closure.
    slot.op.complete = (_op, status) => this.#completeAsync(slot, status);
    return slot;
  }

  #run(vring: VringHandle, slot: Slot): void {
    const { chain, op, parser } = slot;
    if (chain.error !== null) {
      // A guest can send one per request: rate-limited, or a 16-entry ring floods the host's log (issue 14).
      this.#stats.log.warn(log, "malformed-chain", "malformed chain {head} on vring {index}: {reason}", {
        head: chain.head,
        index: vring.index,
        reason: chain.error.message,
      });
    }
    let status = parser.parse(vring.memory, chain, op);
    if (status === Status.OK) {
      op.tag = chain.head;
      status = this.#engine.submit(op);
      if (status === PENDING) {
        this.#inflight++;
        this.#budget.used++;
        return;
      }
    }
    this.#finish(vring, slot, status);
  }

  #finish(vring: VringHandle, slot: Slot, status: number): void {
    const { chain, parser } = slot;
    const temporary = parser.temporarySession;
    if (temporary !== null) temporary.engine.closeSession(temporary);
    let used = 0;
    if (
      parser.statusOffset >= 0 && this.#writer.writeByte(vring.memory, chain, parser.statusOffset, status)
    ) {
      used = status === Status.OK ? parser.outputLen + 1 : 1;
    }
    this.#stats.count(status, status === Status.OK ? parser.outputLen : 0);
    this.#unflushed += used;
    this.#unflushedRequests++;
    this.#unpublished++;
    vring.queue.addUsed(vring.memory, chain.head, used);
    slot.op.reset();
    this.#free.push(slot);
  }

  #completeAsync(slot: Slot, status: number): void {
    this.#inflight--;
    this.#budget.used--;
    const vring = this.#vring;
    if (vring === null) return;
    this.#finish(vring, slot, status);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(this.#flushTask);
  }

  // Made once: a closure per batch would be garbage per batch. A throttled queue takes the freed room.
  readonly #flushTask = (): void => {
    this.#flushScheduled = false;
    const vring = this.#vring;
    if (vring === null) return;
    if (this.#throttled) this.serve(vring);
    else this.#flush(vring);
  };
}
