/**
 * `SpscRing`: a single-producer single-consumer ring of 32-bit words in a `SharedArrayBuffer`, without a lock:
 * the producer stores the word, then the tail (Atomics, sequentially consistent); the consumer loads the tail,
 * reads, then stores the head. Neither side can hold the other up: a full ring makes `push` return false, an
 * empty one makes `pop` return -1. For request and completion slot numbers between a VM's thread and the thread
 * that drives a shared accelerator queue.
 *
 * @module
 */

const HEAD = 0;
const TAIL = 1;

/** One end (either) of a ring; both ends are this class over the same memory. */
export class SpscRing {
  readonly #index: Int32Array;
  readonly #slots: Uint32Array;
  readonly #mask: number;

  private constructor(buffer: SharedArrayBuffer) {
    this.#index = new Int32Array(buffer, 0, 2);
    this.#slots = new Uint32Array(buffer, 8);
    this.#mask = this.#slots.length - 1;
  }

  /**
   * Shared memory for a ring.
   *
   * @param capacity Words, a power of two.
   * @returns The buffer, for `attach` on both sides.
   */
  static create(capacity: number): SharedArrayBuffer {
    if (capacity < 2 || (capacity & (capacity - 1)) !== 0) {
      throw new RangeError(
        `Cannot create ring: capacity must be a power of two >= 2: current value is ${capacity}`,
      );
    }
    return new SharedArrayBuffer(8 + 4 * capacity);
  }

  /**
   * An end of the ring in this thread.
   *
   * @param buffer From `create`.
   * @returns The ring.
   */
  static attach(buffer: SharedArrayBuffer): SpscRing {
    return new SpscRing(buffer);
  }

  /** Words waiting. */
  get size(): number {
    return (Atomics.load(this.#index, TAIL) - Atomics.load(this.#index, HEAD)) >>> 0;
  }

  /**
   * Producer: appends a word.
   *
   * @param word A u32.
   * @returns False when the ring is full.
   */
  push(word: number): boolean {
    const tail = Atomics.load(this.#index, TAIL);
    if (((tail - Atomics.load(this.#index, HEAD)) >>> 0) > this.#mask) return false;
    this.#slots[tail & this.#mask] = word;
    Atomics.store(this.#index, TAIL, (tail + 1) | 0);
    return true;
  }

  /**
   * Consumer: takes the oldest word.
   *
   * @returns It, or -1 when empty.
   */
  pop(): number {
    const head = Atomics.load(this.#index, HEAD);
    if (head === Atomics.load(this.#index, TAIL)) return -1;
    const word = this.#slots[head & this.#mask]!;
    Atomics.store(this.#index, HEAD, (head + 1) | 0);
    return word;
  }
}
