/**
 * Memory order of the four ring indices (`avail.idx`, `used.idx`, `used_event`, `avail_event`), shared by the
 * device's `SplitQueue` and the driver's `DriverQueue` (style.md rule 11). Each side needs an Acquire load of the
 * index the other side advances, a Release store of its own, and a store-load fence in two places, or both sides
 * can read each other's old value and sleep (a lost wake-up).
 * - On x86-64 (TSO: loads are not reordered with loads, nor stores with stores) a plain load is an Acquire and a
 *   plain store a Release, as in Linux's and DPDK's x86 barriers; only the fence is real, a seq-cst
 *   `Atomics.store` (an `xchg`).
 * - Elsewhere (aarch64) every index access is a seq-cst `Atomics` operation, which covers all of it.
 *
 * @module
 */

/** Whether the host orders memory as x86-64 does (TSO). */
export const TSO = Deno.build.arch === "x86_64";

/** Loads an index the other side advances (an Acquire). */
export function loadIndex(view: Uint16Array): number {
  return TSO ? view[0]! : Atomics.load(view, 0);
}

/** Stores an index the other side reads (a Release). */
export function storeIndex(view: Uint16Array, value: number): void {
  if (TSO) view[0] = value;
  else Atomics.store(view, 0, value);
}

/**
 * The store-load fence after `storeIndex(view, value)`, before the load it must not pass: on x86-64 a seq-cst store
 * of the same value; elsewhere nothing, the store was seq-cst.
 */
export function fenceAfterStore(view: Uint16Array, value: number): void {
  if (TSO) Atomics.store(view, 0, value);
}

/**
 * Loads `idx` (an Acquire), and when it still reads `seen` (nothing new), stores `value` into `mine` with a seq-cst
 * store (the fence) and loads `idx` again: a peer that read the old `mine` and so skipped its notification had
 * stored `idx` before that read, and the second load sees it. The caller need not have stored `mine` before.
 */
export function loadIndexFenced(idx: Uint16Array, seen: number, mine: Uint16Array, value: number): number {
  const first = loadIndex(idx);
  if (first !== seen) return first;
  Atomics.store(mine, 0, value);
  return loadIndex(idx);
}
