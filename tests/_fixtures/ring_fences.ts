/**
 * What `tests/virtio/ring_fences_test.ts` and its driver thread (`ring_fences_driver.ts`) share: the job, the
 * layout of the control words, and the lock-step barrier.
 *
 * @module
 */

import { RegionGuestMemory } from "../../src/memory/mod.ts";

/** Which Dekker pair a run races: avail_event against avail.idx (kicks), or used_event against used.idx. */
export type FenceRace = "kick" | "notify";

/** What the test posts to the driver thread. */
export interface FenceJob {
  readonly ram: SharedArrayBuffer;
  readonly ctl: SharedArrayBuffer;
  readonly rounds: number;
  readonly race: FenceRace;
}

/** Guest-physical base of the shared RAM, and the queue size. */
export const RING_GPA = 0x1_0000;
export const FENCE_SIZE = 8;

/** Guest memory of one region over the shared RAM, as both sides see it. */
export function sharedRam(ram: SharedArrayBuffer): RegionGuestMemory {
  const bytes = new Uint8Array(ram);
  return new RegionGuestMemory([{ gpa: RING_GPA, size: bytes.length, frontendVa: 0, bytes, address: 0n }], 1);
}

/** Int32 slots of the control buffer. */
export const CTL = { arrivals: 0, driverSaw: 1 } as const;

/** A two-party spin barrier: `wait()` returns once both sides have called it as often. */
export class SpinBarrier {
  #k = 0;
  readonly #ctl: Int32Array;

  /** @param ctl The shared control words. */
  constructor(ctl: Int32Array) {
    this.#ctl = ctl;
  }

  /** Arrives and spins until the other side has arrived too. */
  wait(): void {
    this.#k++;
    Atomics.add(this.#ctl, CTL.arrivals, 1);
    while (Atomics.load(this.#ctl, CTL.arrivals) < 2 * this.#k);
  }
}

/**
 * Spins `base` plus a pseudo-random 0..31 rounds. The device moves its `base` towards the point where the two
 * sides' critical stores and loads meet (`Aligner`); the driver's is 0.
 */
export function jitter(seed: Int32Array, base = 0): void {
  seed[0] = (Math.imul(seed[0]!, 1103515245) + 12345) | 0;
  const n = base + ((seed[0]! >>> 16) & 31);
  for (let i = 0; i < n; i++) seed[1] = (seed[1]! + i) | 0;
}

/**
 * The device's delay, moved each round towards the point where neither side is clearly first: later when the
 * device saw nothing (the driver came late), earlier when the driver saw nothing (the device came late). The lost
 * wake-ups a missing fence allows happen only there.
 */
export class Aligner {
  /** Spin rounds before the device's side of the race. */
  base = 64;

  /** Moves `base` after a round. */
  update(deviceSaw: boolean, driverSaw: boolean): void {
    if (!deviceSaw && driverSaw) this.base = Math.min(this.base + 1, 4096);
    else if (deviceSaw && !driverSaw) this.base = Math.max(this.base - 1, 0);
  }
}
