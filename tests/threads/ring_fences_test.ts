/**
 * The store-load fences of the split ring (`src/virtio/_index_order.ts`, used by split_queue.ts and
 * driver_queue.ts), raced for real: the device here, the driver on a Worker, both over one SharedArrayBuffer of
 * guest RAM, in lock step with a spin barrier and a different offset between them each round. Each race is a
 * Dekker pair, where one side stores and then loads what the other stores:
 * - kicks: the device stores `avail_event` after a pop and then finds the ring empty or not; the driver stores
 *   `avail.idx` and then reads `avail_event` to decide its kick (VIRTIO v1.2, 2.7.10.1).
 * - notifications: the device stores `used.idx` and then reads `used_event`; the driver stores `used_event` after
 *   reaping and then looks for more (2.7.10.2).
 * Without the fence on both sides, both can read the other's old value: the device then sleeps on a ring the driver
 * will not kick, or the driver on a completion the device will not signal (a lost wake-up, a hung queue). With the
 * fences, no round may end that way. The device's start moves each round towards the point where the two sides
 * meet (`Aligner`), where a missing fence shows: on this project's 2-vCPU test host, without the `used.idx` fence
 * about 20 of 100,000 notification rounds were lost, and without the driver's (`DriverQueue` re-reading an empty
 * used ring after a seq-cst `used_event` store) the test failed in each of 2 runs; the kick race, without its
 * fence, lost none in 100,000, so it guards the rule less well than the notification race does.
 */

import assert from "node:assert/strict";
import type { RegionGuestMemory } from "../../src/memory/mod.ts";
import { DescriptorChain, SplitQueue, splitRingLayout } from "../../src/virtio/mod.ts";
import {
  Aligner,
  CTL,
  FENCE_SIZE,
  type FenceRace,
  jitter,
  RING_GPA,
  sharedRam,
  SpinBarrier,
} from "../_fixtures/ring_fences.ts";

const ROUNDS = 100_000;

interface Device {
  readonly mem: RegionGuestMemory;
  readonly queue: SplitQueue;
  readonly chains: readonly DescriptorChain[];
}

function device(ram: SharedArrayBuffer): Device {
  const mem = sharedRam(ram);
  const queue = new SplitQueue(FENCE_SIZE);
  queue.setAddresses(splitRingLayout(RING_GPA, FENCE_SIZE));
  queue.eventIdx = true;
  queue.setReady(true);
  return { mem, queue, chains: [new DescriptorChain(FENCE_SIZE), new DescriptorChain(FENCE_SIZE)] };
}

// b: for notifications, X and Y popped, X completed and its notification decided.
function setUp(kind: FenceRace, { mem, queue, chains }: Device): void {
  if (kind !== "notify") return;
  assert.ok(queue.popChain(mem, chains[0]!) && queue.popChain(mem, chains[1]!));
  queue.addUsed(mem, chains[0]!.head, 0);
  queue.publishUsed(mem);
  queue.needsNotification(mem);
}

// c: the device's side of the race; true when it saw the driver's.
function raceOnce(kind: FenceRace, { mem, queue, chains }: Device): boolean {
  if (kind === "kick") {
    assert.ok(queue.popChain(mem, chains[0]!), "Y is there");
    return queue.popChain(mem, chains[1]!);
  }
  queue.addUsed(mem, chains[1]!.head, 0);
  queue.publishUsed(mem);
  return queue.needsNotification(mem);
}

// After the race, for kicks: Z popped if it was missed, Y and Z completed.
function finish(kind: FenceRace, deviceSaw: boolean, { mem, queue, chains }: Device): void {
  if (kind !== "kick") return;
  if (!deviceSaw) assert.ok(queue.popChain(mem, chains[1]!), "Z is there once both sides have arrived");
  for (const c of chains) queue.addUsed(mem, c.head, 0);
  queue.publishUsed(mem);
}

/** Runs the device side of `rounds` rounds; returns the rounds where both sides missed each other. */
async function race(kind: FenceRace, rounds: number): Promise<number> {
  const ram = new SharedArrayBuffer(0x1_0000);
  const ctlBuffer = new SharedArrayBuffer(64);
  const ctl = new Int32Array(ctlBuffer);
  const d = device(ram);
  const worker = new Worker(new URL("../_fixtures/ring_fences_driver.ts", import.meta.url).href, {
    type: "module",
  });
  const done = new Promise<void>((resolve) => (worker.onmessage = () => resolve()));
  worker.postMessage({ ram, ctl: ctlBuffer, rounds, race: kind });
  const barrier = new SpinBarrier(ctl);
  const seed = new Int32Array([11, 0]);
  const aligner = new Aligner();
  let missed = 0;
  try {
    for (let r = 0; r < rounds; r++) {
      barrier.wait(); // a: the driver's set-up
      setUp(kind, d);
      barrier.wait();
      jitter(seed, aligner.base);
      const deviceSaw = raceOnce(kind, d);
      barrier.wait();
      const driverSaw = ctl[CTL.driverSaw] === 1;
      if (!deviceSaw && !driverSaw) missed++;
      aligner.update(deviceSaw, driverSaw);
      finish(kind, deviceSaw, d);
    }
  } finally {
    await done;
    worker.terminate();
  }
  return missed;
}

Deno.test("an empty avail ring is never believed while the driver skips its kick", async () => {
  assert.equal(await race("kick", ROUNDS), 0, "rounds where the device slept and the driver did not kick");
});

Deno.test("a completion is never left unsignalled while the driver sleeps on it", async () => {
  assert.equal(await race("notify", ROUNDS), 0, "rounds where neither notified nor saw the completion");
});
