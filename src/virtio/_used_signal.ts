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
   * @param eventIdx Whether EVENT_IDX is in use.
   * @param views The ring's views, to read `used_event`; needed only with `eventIdx` when `changed(published)`.
   * @returns true when the driver needs a notification.
   */
  needed(published: number, eventIdx: boolean, views: RingViews | null): boolean {
    const old = this.#signalled;
    const valid = this.#valid;
    this.#signalled = published;
    this.#valid = true;
    if (published === old) return false;
    if (!eventIdx || !valid || views === null) return true;
    // The store-load fence that keeps a driver re-arming `used_event` from being missed (vm-virtio's
    // fence(SeqCst)): on x86-64 a seq-cst store of the same `used.idx`, elsewhere the one publishUsed() made.
    fenceAfterStore(views.usedIdx, published);
    return virtqNeedEvent(Atomics.load(views.usedEvent, 0), published, old);
  }
}
