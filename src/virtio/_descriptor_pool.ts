/**
 * `DescriptorPool`: which descriptors of a `DriverQueue`'s table are free, and which head a new chain gets
 * (`HeadOrder`). `free-list` keeps Linux's free list (the most recently freed head first, a chain's descriptors
 * linked through `next`); `avail-order` gives each request head `availIdx mod size`, one descriptor each.
 *
 * @module
 */

import type { HeadOrder } from "./head_order.ts";

/** The free descriptors of one descriptor table. */
export class DescriptorPool {
  /** Free-list links, and the links of each chain in use (`DriverQueue` writes `next` fields from them). */
  readonly next: Uint16Array;
  /** 1 for a head in flight. */
  readonly inUse: Uint8Array;
  readonly #count: Uint16Array; // descriptors taken by each head
  readonly #order: HeadOrder;
  readonly #size: number;
  #freeHead = 0;
  #numFree: number;

  /**
   * @param size Queue size (a power of 2).
   * @param order How heads are handed out.
   */
  constructor(size: number, order: HeadOrder) {
    this.#size = size;
    this.#order = order;
    this.next = new Uint16Array(size).map((_, i) => (i + 1) & (size - 1));
    this.inUse = new Uint8Array(size);
    this.#count = new Uint16Array(size);
    this.#numFree = size;
  }

  /** Free descriptors. */
  get numFree(): number {
    return this.#numFree;
  }

  /**
   * Takes `needed` descriptors for a chain and marks its head in flight.
   *
   * @param needed Descriptors of the chain (1 for an indirect one).
   * @param availIdx The avail index the chain will be put at (`avail-order` uses it).
   * @returns The head, or -1 when too few are free (`avail-order`: when this position's head is in flight).
   * @throws RangeError for a chain of more than one descriptor with `avail-order` heads.
   */
  take(needed: number, availIdx: number): number {
    if (this.#numFree < needed) return -1;
    let head: number;
    if (this.#order === "free-list") {
      head = this.#freeHead;
      let last = head;
      for (let k = 1; k < needed; k++) last = this.next[last]!;
      this.#freeHead = this.next[last]!;
    } else {
      if (needed !== 1) throw new RangeError("Cannot add chain: avail-order heads need indirect chains");
      head = availIdx & (this.#size - 1);
      if (this.inUse[head] === 1) return -1;
    }
    this.#numFree -= needed;
    this.#count[head] = needed;
    this.inUse[head] = 1;
    return head;
  }

  /**
   * Returns a completed chain's descriptors.
   *
   * @param head Its head (in flight).
   */
  release(head: number): void {
    const n = this.#count[head]!;
    this.inUse[head] = 0;
    this.#numFree += n;
    if (this.#order === "avail-order") return; // no free list: the head of an avail position is fixed
    let last = head;
    for (let k = 1; k < n; k++) last = this.next[last]!;
    this.next[last] = this.#freeHead;
    this.#freeHead = head;
  }
}
