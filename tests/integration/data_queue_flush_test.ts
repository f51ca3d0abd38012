// A batch publishes its completions as it goes, so a driver refills the ring while the rest of the batch runs:
// `used.idx` is stored every `PUBLISH_EVERY` requests, and a publication may also signal (`vring.flush()`). Without
// EVENT_IDX (QEMU's path): every `FLUSH_REQUESTS` requests once they wrote `FLUSH_BYTES`, so small requests signal
// once per batch. With EVENT_IDX, whenever the avail ring holds less than `WAKE_AHEAD_BYTES` of work (each
// request weighing its output and `REQUEST_COST_BYTES`; from `WAKE_AHEAD_FROM_SIZE` on, output alone against
// `WAKE_AHEAD_OUTPUT`), and when `FLUSH_AWAITED` completions wait for the driver
// (counted from `used_event`). The device and its driver run in one thread over memfd guest RAM
// (tests/bench/device_path_cases.ts), the device served exactly as a VM's thread serves it after a kick.

import assert from "node:assert/strict";
import {
  BATCH_LIMIT,
  FLUSH_AWAITED,
  FLUSH_BYTES,
  FLUSH_REQUESTS,
  PUBLISH_EVERY,
  REQUEST_COST_BYTES,
  WAKE_AHEAD_BYTES,
  WAKE_AHEAD_FROM_SIZE,
  WAKE_AHEAD_OUTPUT,
} from "../../src/crypto/data_queue.ts";
import { DevicePath } from "../bench/device_path_cases.ts";

interface Batch {
  /** The used index after each `used.idx` store that changed it. */
  readonly published: number[];
  /** The used index at each `vring.flush()` with completions since the previous one (where a signal may go). */
  readonly flushed: number[];
}

/**
 * Runs one batch of `depth` requests of `size` bytes, the device knowing of EVENT_IDX or not, the driver waiting
 * from `usedEvent` on (0: from the first completion).
 */
function oneBatch(size: number, depth: number, eventIdx: boolean, usedEvent = 0): Batch {
  const path = new DevicePath({ size, depth, indirect: false });
  const { queue } = path.vring;
  queue.eventIdx = eventIdx;
  path.driver.setUsedEvent(usedEvent);
  const batch: Batch = { published: [], flushed: [] };
  const publishUsed = queue.publishUsed.bind(queue);
  Object.assign(queue, {
    publishUsed: (mem: Parameters<typeof publishUsed>[0]) => {
      publishUsed(mem);
      if (batch.published.at(-1) !== queue.nextUsed) batch.published.push(queue.nextUsed);
    },
  });
  const flush = path.vring.flush;
  Object.assign(path.vring, {
    flush: () => {
      flush();
      // A flush with no completion since the previous one signals nothing (the batch's own end, right after one).
      if (batch.flushed.at(-1) !== queue.nextUsed) batch.flushed.push(queue.nextUsed);
    },
  });
  assert.equal(path.round(), depth);
  return batch;
}

const every = (step: number, last: number): number[] =>
  Array.from({ length: last / step }, (_, i) => (i + 1) * step);

/** The first completion count k (a multiple of PUBLISH_EVERY) after which 32 - k requests are under a wake-up. */
const wakeAheadFrom = (size: number): number => {
  let k = PUBLISH_EVERY;
  const little = (pending: number): boolean =>
    size < WAKE_AHEAD_FROM_SIZE
      ? pending * (size + REQUEST_COST_BYTES) < WAKE_AHEAD_BYTES
      : pending * size < WAKE_AHEAD_OUTPUT;
  while (k < 32 && !little(32 - k)) k += PUBLISH_EVERY;
  return k;
};

Deno.test("64 B requests: used.idx every PUBLISH_EVERY requests; with EVENT_IDX a signal once little work is left", () => {
  assert.equal(wakeAheadFrom(64), 16, "the figures below assume 16");
  const withIdx = oneBatch(64, 32, true);
  assert.deepEqual(withIdx.published, every(PUBLISH_EVERY, 32));
  assert.deepEqual(withIdx.flushed, [16, 20, 24, 28, 32]);
  // QEMU's path: the device cannot tell a waiting driver, so a signal is an interrupt: once per batch.
  const withoutIdx = oneBatch(64, 32, false);
  assert.deepEqual(withoutIdx.published, every(PUBLISH_EVERY, 32));
  assert.deepEqual(withoutIdx.flushed, [32]);
});

Deno.test("with EVENT_IDX, 1 KiB requests wake the driver at every publication", () => {
  // From WAKE_AHEAD_FROM_SIZE on, 28 requests of 1 KiB left are under WAKE_AHEAD_OUTPUT: the first publication
  // signals, and so does every later one the driver has not taken (here it sleeps through the batch).
  assert.equal(wakeAheadFrom(1024), PUBLISH_EVERY);
  const withIdx = oneBatch(1024, 32, true);
  assert.deepEqual(withIdx.flushed, every(PUBLISH_EVERY, 32));
  // 256 B stays below WAKE_AHEAD_FROM_SIZE: from the 16th on, as 64 B.
  assert.equal(wakeAheadFrom(256), 16);
  assert.deepEqual(oneBatch(256, 32, true).flushed, [16, 20, 24, 28, 32]);
});

Deno.test("4 KiB requests signal every FLUSH_BYTES of output; with EVENT_IDX every FLUSH_AWAITED", () => {
  const perFlush = Math.max(FLUSH_REQUESTS, Math.ceil(FLUSH_BYTES / (4096 + 1)));
  assert.equal(perFlush, 16, "the figures below assume 16");
  const withoutIdx = oneBatch(4096, 32, false);
  assert.deepEqual(withoutIdx.flushed, [16, 32]);
  assert.deepEqual(withoutIdx.published, every(PUBLISH_EVERY, 32));
  // 12 requests left (after 20) are under a wake-up's work; FLUSH_AWAITED completions wait from 24 on anyway.
  assert.equal(FLUSH_AWAITED, 24, "the figures below assume 24");
  assert.equal(wakeAheadFrom(4096), 20);
  const withIdx = oneBatch(4096, 32, true);
  assert.deepEqual(withIdx.flushed, [20, 24, 28, 32]);
  assert.deepEqual(withIdx.published, every(PUBLISH_EVERY, 32));
});

Deno.test("without EVENT_IDX the FLUSH_BYTES bound is checked after every request, not at publications only", () => {
  // 3 KiB: 16 requests are under FLUSH_BYTES, 22 (not a multiple of PUBLISH_EVERY) the first over it.
  const size = 3 * 1024;
  assert.ok(16 * (size + 1) < FLUSH_BYTES && 21 * (size + 1) < FLUSH_BYTES && 22 * (size + 1) >= FLUSH_BYTES);
  const batch = oneBatch(size, 32, false);
  assert.deepEqual(batch.flushed, [22, 32]);
});

Deno.test("16 KiB requests are signalled every FLUSH_REQUESTS requests, or FLUSH_AWAITED with EVENT_IDX", () => {
  assert.ok(16 * 1024 * FLUSH_REQUESTS > FLUSH_BYTES);
  // Even the 4 requests left at the last publication are more than a wake-up's work: only the count of waiting
  // completions signals.
  assert.equal(wakeAheadFrom(16 * 1024), 32);
  const withoutIdx = oneBatch(16 * 1024, 32, false);
  assert.deepEqual(withoutIdx.flushed, every(FLUSH_REQUESTS, 32));
  const withIdx = oneBatch(16 * 1024, 32, true);
  assert.deepEqual(withIdx.flushed, [24, 28, 32]);
  for (const batch of [withoutIdx, withIdx]) assert.deepEqual(batch.published, every(PUBLISH_EVERY, 32));
});

Deno.test("with EVENT_IDX the waiting completions are counted from used_event, not from the last signal", () => {
  // The driver took the first 8 in an earlier round: 24 wait for it only at the batch's end.
  const batch = oneBatch(16 * 1024, 32, true, 8);
  assert.deepEqual(batch.flushed, [32]);
  assert.deepEqual(batch.published, every(PUBLISH_EVERY, 32));
});

Deno.test("with EVENT_IDX a driver that polls (used_event out of reach) waits for no completion", () => {
  const batch = oneBatch(16 * 1024, 32, true, 0x8000);
  assert.deepEqual(batch.flushed, [32]);
  assert.deepEqual(batch.published, every(PUBLISH_EVERY, 32));
});

Deno.test("a driver that refills as fast as the device serves: BATCH_LIMIT requests per call, never a signal", () => {
  // The driver refills at every `used.idx` store, so without a limit one `processQueue` call would serve all 100k
  // requests: its thread would never get back to its messages, and with EVENT_IDX the decision at the batch's end
  // would compare `used_event` with a window that wrapped the u16 indices, and signal (seen with `bench
  // --completion poll`: a dozen per run).
  const path = new DevicePath({ size: 64, depth: 32, indirect: true });
  const { queue, memory } = path.vring;
  const driver = path.driver;
  const total = 0x10000 + 0x9000; // one window this long, mod 2^16, would cross used_event
  let served = 0;
  let signals = 0;
  const publishUsed = queue.publishUsed.bind(queue);
  Object.assign(queue, {
    publishUsed: (mem: Parameters<typeof publishUsed>[0]) => {
      publishUsed(mem);
      served += path.refill(served < total);
      driver.setUsedEvent(driver.lastUsed + 0x8000); // as `bench --completion poll` keeps it
    },
  });
  Object.assign(path.vring, {
    flush: () => {
      queue.publishUsed(memory);
      if (queue.needsNotification(memory)) signals++;
    },
  });
  path.submit(); // the first 32
  queue.needsNotification(memory); // the first decision may always signal (nothing to compare with yet)
  driver.setUsedEvent(driver.lastUsed + 0x8000);
  let calls = 0;
  while (served < total || queue.availPending > 0 || driver.lastUsed !== queue.nextUsed) {
    const before = queue.nextAvail;
    path.device.processQueue(path.vring);
    const taken = (queue.nextAvail - before) & 0xffff;
    assert.ok(taken <= BATCH_LIMIT, `one call took ${taken} requests`);
    if (taken === 0) break;
    calls++;
  }
  assert.ok(served >= total, `served ${served}`);
  assert.ok(calls >= total / BATCH_LIMIT, `${calls} calls`);
  assert.equal(signals, 0, `${signals} signals in ${calls} calls`);
});
