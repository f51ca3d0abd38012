/**
 * The driver half of `tests/threads/ring_fences_test.ts`, on its own thread: a `DriverQueue` over the guest RAM the
 * test shares (a SharedArrayBuffer), racing the device on the main thread in lock step. Each round it records in
 * the control words whether it saw the device's side of the race.
 *
 * @module
 */

import { DriverQueue, splitRingLayout, UsedBuffer } from "../../src/virtio/mod.ts";
import { CTL, FENCE_SIZE, type FenceJob, jitter, RING_GPA, sharedRam, SpinBarrier } from "./ring_fences.ts";

const self = globalThis as unknown as Worker;

self.onmessage = (e: MessageEvent<FenceJob>) => {
  const { ram, ctl: buffer, rounds, race } = e.data;
  const ctl = new Int32Array(buffer);
  const mem = sharedRam(ram);
  const layout = splitRingLayout(RING_GPA, FENCE_SIZE);
  const driver = new DriverQueue<number>(mem, { size: FENCE_SIZE, ...layout, eventIdx: true });
  const chain = { out: [], in: [{ gpa: RING_GPA + 0x8000, len: 1 }] };
  const used = new UsedBuffer<number>();
  const barrier = new SpinBarrier(ctl);
  const seed = new Int32Array([7, 0]);
  for (let r = 0; r < rounds; r++) {
    // a: the driver's set-up. Kicks: Y published. Notifications: X and Y published.
    while (driver.popUsed(used));
    driver.add(chain, {}, 0);
    if (race === "notify") driver.add(chain, {}, 1);
    driver.publish();
    driver.needsKick();
    barrier.wait();
    barrier.wait(); // b: the device's set-up
    jitter(seed);
    if (race === "kick") {
      // c: Z goes in while the device pops Y and looks for more.
      driver.add(chain, {}, 2);
      driver.publish();
      ctl[CTL.driverSaw] = driver.needsKick() ? 1 : 0;
    } else {
      // c: X is complete and Y in flight; reaping X re-arms used_event, then the driver looks for Y.
      driver.popUsed(used);
      ctl[CTL.driverSaw] = driver.popUsed(used) ? 1 : 0;
    }
    barrier.wait();
  }
  self.postMessage("done");
};
