/**
 * `UsedSignal`: the device's used buffer notification decision for one split queue (VIRTIO v1.2, 2.7.7.2): the
 * used index at the previous decision, and the rule that compares the new one with it. `SplitQueue` owns one.
 *
 * Rule: nothing published since the previous decision → no. With EVENT_IDX → `virtq_need_event(used_event, new,
 * old)` (always yes the first time, when there is no `old`). Without it → yes, ignoring
 * VRING_AVAIL_F_NO_INTERRUPT: the device cannot know that EVENT_IDX is off (QEMU never says, interop.md 1.9), and
 * a driver that did negotiate it relies on `used_event` alone, so the flag is no safe reason to stay silent. A
 * spurious notification costs one interrupt, which the driver MUST tolerate (2.7.7.1); a missing one hangs it.
 *
 * @module
 */

import type { RingViews } from "./_ring_views.ts";
import { fenceAfterStore } from "./_index_order.ts";
import { virtqNeedEvent } from "./ring.ts";

/** The notification decision's state: the used index at the previous decision. */
export class UsedSignal {
  #signalled = 0;
  #valid = false;

  /** Forgets the previous decision (a new `next_used`): the next one with anything published says yes. */
  reset(usedIdx: number): void {
    this.#signalled = usedIdx;
    this.#valid = false;
  }

  /** Whether `published` differs from the index at the previous decision (so there is anything to decide). */
  changed(published: number): boolean {
    return published !== this.#signalled;
  }

  /**
   * Decides, and makes `published` the base of the next decision.
   *
   * @param published The `used.idx` published now.
   * @param eventIdx The ring's views when EVENT_IDX is in use (to read `used_event`), else `null`. The caller may
   *   pass `null` with EVENT_IDX too when `changed(published)` is false: the answer is then no either way.
   * @returns true when the driver needs a notification.
   */
  needed(published: number, eventIdx: RingViews | null): boolean {
    const old = this.#signalled;
    const valid = this.#valid;
    this.#signalled = published;
    this.#valid = true;
    if (published === old) return false;
    if (eventIdx === null || !valid) return true;
    // The store-load fence that keeps a driver re-arming `used_event` from being missed (vm-virtio's
    // fence(SeqCst)): on x86-64 a seq-cst store of the same `used.idx`, elsewhere the one publishUsed() made.
    fenceAfterStore(eventIdx.usedIdx, published);
    return virtqNeedEvent(Atomics.load(eventIdx.usedEvent, 0), published, old);
  }
}
