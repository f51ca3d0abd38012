/**
 * What a guest driver hands a `DriverQueue` and gets back from it: guest buffers, a chain of them
 * (`DriverChain`, or the reusable `DriverBufferList` of the allocation-free path), and a completion
 * (`UsedBuffer`, filled in place by `popUsed()`).
 *
 * @module
 */

/** A guest buffer: guest-physical address and length. */
export interface GuestBuffer {
  /** Guest-physical address. */
  readonly gpa: number;
  /** Length in bytes. */
  readonly len: number;
}

/** A request as the driver builds it: device-readable buffers (`out`), then device-writable ones (`in`). */
export interface DriverChain {
  /** Buffers the device reads. */
  readonly out: readonly GuestBuffer[];
  /** Buffers the device writes. */
  readonly in: readonly GuestBuffer[];
}

/** A reusable list of buffers for `DriverQueue.addList()`: no allocation per request. */
export class DriverBufferList {
  /** Most buffers. */
  readonly capacity: number;
  /** Guest-physical address of each buffer. */
  readonly gpa: Float64Array;
  /** Length of each buffer. */
  readonly len: Uint32Array;
  /** 1 for device-writable, 0 for device-readable. */
  readonly writable: Uint8Array;
  /** Buffers in use. */
  count = 0;

  /** @param capacity Most buffers. */
  constructor(capacity: number) {
    this.capacity = capacity;
    this.gpa = new Float64Array(capacity);
    this.len = new Uint32Array(capacity);
    this.writable = new Uint8Array(capacity);
  }

  /** Empties the list. */
  clear(): void {
    this.count = 0;
  }

  /**
   * Appends a buffer. The order is kept as given (readable first is the caller's job, 2.7.4.2), so tests can also
   * build chains a correct driver would not.
   *
   * @throws RangeError when the list is full.
   */
  push(gpa: number, len: number, writable: boolean): void {
    if (this.count === this.capacity) {
      throw new RangeError(`Cannot add buffer: list is full: capacity is ${this.capacity}`);
    }
    const i = this.count++;
    this.gpa[i] = gpa;
    this.len[i] = len;
    this.writable[i] = writable ? 1 : 0;
  }
}

/** One completion, filled by `DriverQueue.popUsed()`; reuse it. */
export class UsedBuffer<T = unknown> {
  /** Head index the device returned (`id`). */
  head = 0;
  /** Bytes the device wrote (`len`). */
  len = 0;
  /** The token given to `add()`. */
  token: T | undefined = undefined;
}
