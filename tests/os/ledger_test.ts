/**
 * `ResourceLedger` (src/os/ledger.ts): what a thread owns is recorded where another thread can reclaim it. The
 * worker test is the case the ledger exists for: a thread that dies of an uncaught error with a descriptor and a
 * mapping open; what it closed itself and what it only borrowed stay out of the reclaim.
 */

import assert from "node:assert/strict";
import { EventFd, isFdOpen, MAX_LEDGER_FD, MAX_LEDGER_MAPPINGS, ResourceLedger } from "../../src/os/mod.ts";

Deno.test("a dead thread's descriptor and mapping are reclaimed; what it closed or borrowed is left alone", async () => {
  const ledger = new ResourceLedger(ResourceLedger.createBuffer());
  const borrowed = new EventFd(); // owned by this thread, lent to the worker
  const worker = new Worker(new URL("../_fixtures/ledger_worker.ts", import.meta.url).href, {
    type: "module",
  });
  const died = new Promise<void>((resolve) => {
    worker.onerror = (e) => {
      e.preventDefault();
      resolve();
    };
  });
  const report = new Promise<{ own: number; closed: number; mapped: number }>((resolve) => {
    worker.onmessage = (e) => resolve(e.data);
  });
  worker.postMessage({ ledger: ledger.buffer, borrowed: borrowed.fd });
  const { own, mapped } = await report;
  await died;
  worker.terminate();
  assert.ok(isFdOpen(own), "the dead thread left its eventfd open");
  assert.deepEqual(ledger.held(), { fds: [own], mappings: 1 });
  const r = ledger.reclaim();
  assert.deepEqual(r, { fds: 1, mappings: 1, bytes: mapped });
  assert.equal(isFdOpen(own), false);
  assert.ok(borrowed.isOpen && isFdOpen(borrowed.fd), "the borrowed descriptor is its owner's to close");
  assert.deepEqual(ledger.held(), { fds: [], mappings: 0 });
  assert.deepEqual(ledger.reclaim(), { fds: 0, mappings: 0, bytes: 0 }, "reclaiming twice closes nothing");
  borrowed.close();
});

Deno.test("the ledger records by hand: descriptors past its range are counted, a full mapping table says -1", () => {
  const ledger = new ResourceLedger(ResourceLedger.createBuffer());
  ledger.addFd(3);
  ledger.addFd(MAX_LEDGER_FD + 5);
  assert.deepEqual(ledger.held().fds, [3]);
  assert.equal(ledger.untracked, 1);
  ledger.removeFd(3);
  assert.deepEqual(ledger.held().fds, []);
  const slots: number[] = [];
  for (let i = 0; i < MAX_LEDGER_MAPPINGS; i++) {
    slots.push(ledger.addMapping(BigInt(0x10000 * (i + 1)), 4096));
  }
  assert.equal(new Set(slots).size, MAX_LEDGER_MAPPINGS);
  assert.equal(ledger.addMapping(0x7000_0000n, 4096), -1);
  ledger.removeMapping(slots[7]!);
  assert.equal(ledger.addMapping(0x7000_0000n, 4096), slots[7]);
  for (const s of slots) ledger.removeMapping(s);
  assert.equal(ledger.held().mappings, 0);
});

Deno.test("a ledger refuses a buffer of the wrong size", () => {
  assert.throws(() => new ResourceLedger(new SharedArrayBuffer(16)), RangeError);
});
