/**
 * `ResourceLedger`: the descriptors and mappings one thread owns, written where another thread can read them, so
 * that the main thread can reclaim what a VM's Worker left behind when it died of an uncaught error.
 *
 * Why: every thread of the process shares one fd table and one address space, and a Worker that throws ends
 * without running its `finally` blocks' cleanup of the OS resources it opened through FFI (they are not Deno
 * resources, so Deno does not close them). Without the ledger a crashed VM's thread leaves behind the front-end's
 * socket (QEMU would never see the hang-up), the guest-memory memfds and their mappings (the guest's RAM stays
 * pinned in this process), its epoll set and eventfds.
 *
 * A thread installs its ledger once (`installLedger`); from then on `Fd` records each descriptor it comes to own
 * and `Mapping` each range it maps, in shared memory. Ownership is dropped from the ledger BEFORE the close or
 * unmap call: a thread that dies in between leaks that one resource, whereas the other order could make the
 * reclaiming thread close a number the kernel has already given to someone else.
 *
 * Descriptors from `MAX_LEDGER_FD` on are not recorded (counted in `untracked`), nor are borrowed ones
 * (`Fd.borrow`: the main thread's listening socket, its eventfds), which their owner closes.
 *
 * @module
 */

import { libc } from "../../ffi/libc.ts";

/** Descriptors below this number are recorded (the daemon's default RLIMIT_NOFILE soft limit is far below it). */
export const MAX_LEDGER_FD = 65536;
/** Mappings one thread may have recorded at once (a vhost-user memory table has at most 509 regions). */
export const MAX_LEDGER_MAPPINGS = 1024;

// Layout of the shared buffer: a byte per descriptor number, then (address, length) pairs as doubles (addresses
// are user-space pointers, below 2^47, exact in a double), then one Int32 counter of unrecorded descriptors.
const FDS_BYTES = MAX_LEDGER_FD;
const MAPS_OFFSET = FDS_BYTES;
const MAPS_BYTES = MAX_LEDGER_MAPPINGS * 2 * 8;
const UNTRACKED_OFFSET = MAPS_OFFSET + MAPS_BYTES;
const LEDGER_BYTES = UNTRACKED_OFFSET + 8;

/** What `reclaim` closed and unmapped. */
export interface Reclaimed {
  /** Descriptors closed. */
  readonly fds: number;
  /** Mappings unmapped. */
  readonly mappings: number;
  /** Bytes unmapped. */
  readonly bytes: number;
}

/** One thread's resources, in shared memory. */
export class ResourceLedger {
  readonly #fds: Uint8Array;
  readonly #maps: Float64Array;
  readonly #untracked: Int32Array;
  // Free mapping slots: used only by the owning thread, which alone adds and removes.
  readonly #freeSlots: number[] = [];

  /** @param buffer A buffer from `ResourceLedger.createBuffer()`, shared with the thread that owns the resources. */
  constructor(readonly buffer: SharedArrayBuffer) {
    if (buffer.byteLength !== LEDGER_BYTES) {
      throw new RangeError(
        `Cannot use ledger: its buffer must be ${LEDGER_BYTES} bytes: it is ${buffer.byteLength}`,
      );
    }
    this.#fds = new Uint8Array(buffer, 0, FDS_BYTES);
    this.#maps = new Float64Array(buffer, MAPS_OFFSET, MAX_LEDGER_MAPPINGS * 2);
    this.#untracked = new Int32Array(buffer, UNTRACKED_OFFSET, 1);
    for (let slot = MAX_LEDGER_MAPPINGS - 1; slot >= 0; slot--) {
      if (this.#maps[slot * 2 + 1] === 0) this.#freeSlots.push(slot);
    }
  }

  /** A zeroed buffer for a new ledger. */
  static createBuffer(): SharedArrayBuffer {
    return new SharedArrayBuffer(LEDGER_BYTES);
  }

  /** Records a descriptor the thread now owns. */
  addFd(fd: number): void {
    if (fd < MAX_LEDGER_FD) Atomics.store(this.#fds, fd, 1);
    else Atomics.add(this.#untracked, 0, 1);
  }

  /** Forgets a descriptor, before it is closed or handed on. */
  removeFd(fd: number): void {
    if (fd < MAX_LEDGER_FD) Atomics.store(this.#fds, fd, 0);
  }

  /** Descriptors the ledger could not record (numbers from `MAX_LEDGER_FD` on). */
  get untracked(): number {
    return Atomics.load(this.#untracked, 0);
  }

  /**
   * Records a mapping.
   *
   * @returns Its slot (for `removeMapping`), or -1 when the ledger is full (the mapping is then not recorded).
   */
  addMapping(address: bigint, length: number): number {
    const slot = this.#freeSlots.pop();
    if (slot === undefined) return -1;
    this.#maps[slot * 2] = Number(address);
    this.#maps[slot * 2 + 1] = length; // written last: a non-zero length marks the slot as used
    return slot;
  }

  /** Forgets a mapping, before it is unmapped. */
  removeMapping(slot: number): void {
    if (slot < 0) return;
    this.#maps[slot * 2 + 1] = 0;
    this.#maps[slot * 2] = 0;
    this.#freeSlots.push(slot);
  }

  /** Descriptors and mappings recorded now (tests, logs). */
  held(): { fds: number[]; mappings: number } {
    const fds: number[] = [];
    for (let fd = 0; fd < FDS_BYTES; fd++) if (Atomics.load(this.#fds, fd) === 1) fds.push(fd);
    let mappings = 0;
    for (let slot = 0; slot < MAX_LEDGER_MAPPINGS; slot++) if (this.#maps[slot * 2 + 1] !== 0) mappings++;
    return { fds, mappings };
  }

  /**
   * Closes every recorded descriptor and unmaps every recorded mapping: only once the owning thread has ended.
   *
   * @returns What was reclaimed.
   */
  reclaim(): Reclaimed {
    const { fds } = this.held();
    for (const fd of fds) {
      Atomics.store(this.#fds, fd, 0);
      libc.close(fd);
    }
    let mappings = 0;
    let bytes = 0;
    for (let slot = 0; slot < MAX_LEDGER_MAPPINGS; slot++) {
      const length = this.#maps[slot * 2 + 1]!;
      if (length === 0) continue;
      const address = BigInt(this.#maps[slot * 2]!);
      this.removeMapping(slot);
      libc.munmap(Deno.UnsafePointer.create(address), BigInt(length));
      mappings++;
      bytes += length;
    }
    return { fds: fds.length, mappings, bytes };
  }
}

let current: ResourceLedger | null = null;

/**
 * Makes `ledger` this thread's: `Fd` and `Mapping` record into it from now on. A VM's Worker calls it first thing.
 *
 * @throws Error when the thread already has one.
 */
export function installLedger(ledger: ResourceLedger): void {
  if (current !== null) throw new Error("Cannot install a resource ledger: this thread already has one");
  current = ledger;
}

/** This thread's ledger, or null (the main thread keeps none: it owns its resources until exit). */
export function currentLedger(): ResourceLedger | null {
  return current;
}
