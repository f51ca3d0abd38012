// A batch of large requests publishes its completions as it goes (every `FLUSH_REQUESTS` requests once they wrote
// `FLUSH_BYTES`), so a driver
// waiting for the call signal refills the ring while the rest of the batch runs; a batch of small requests is
// still one `used.idx` store and one signal. The device and its driver run in one thread over memfd guest RAM
// (tests/bench/device_path_cases.ts), the device served exactly as a VM's thread serves it after a kick.

import assert from "node:assert/strict";
import { FLUSH_BYTES, FLUSH_REQUESTS } from "../../src/crypto/data_queue.ts";
import { DevicePath } from "../bench/device_path_cases.ts";

/** Runs one batch of `depth` requests of `size` bytes; returns the used index each publication made known. */
function flushesOfOneBatch(size: number, depth: number): number[] {
  const path = new DevicePath({ size, depth, indirect: false });
  const seen: number[] = [];
  const flush = path.vring.flush;
  Object.assign(path.vring, {
    flush: () => {
      flush();
      // A flush with nothing new publishes nothing and signals nothing (the batch's own end, right after one).
      if (seen.at(-1) !== path.vring.queue.nextUsed) seen.push(path.vring.queue.nextUsed);
    },
  });
  assert.equal(path.round(), depth);
  return seen;
}

Deno.test("a batch of 32 AES-CBC requests of 4 KiB publishes completions every FLUSH_BYTES of output", () => {
  // Each request writes its output and a status byte.
  const perFlush = Math.max(FLUSH_REQUESTS, Math.ceil(FLUSH_BYTES / (4096 + 1)));
  const seen = flushesOfOneBatch(4096, 32);
  // Completions reach the driver before the batch ends, in steps of the bound, and all of them at its end.
  assert.ok(seen.length >= 2, `flushes: ${seen}`);
  assert.equal(seen[0], perFlush);
  assert.equal(seen.at(-1), 32);
  for (let i = 1; i < seen.length - 1; i++) assert.equal(seen[i]! - seen[i - 1]!, perFlush);
});

Deno.test("a batch of 32 AES-CBC requests of 16 KiB is published every FLUSH_REQUESTS requests, not every 64 KiB", () => {
  assert.ok(16 * 1024 * FLUSH_REQUESTS > FLUSH_BYTES);
  const seen = flushesOfOneBatch(16 * 1024, 32);
  assert.deepEqual(seen, Array.from({ length: 32 / FLUSH_REQUESTS }, (_, i) => (i + 1) * FLUSH_REQUESTS));
});

Deno.test("a batch of 32 AES-CBC requests of 64 B is published once, at its end", () => {
  assert.deepEqual(flushesOfOneBatch(64, 32), [32]);
});
