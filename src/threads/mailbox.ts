/**
 * `Mailbox`: a single-producer single-consumer queue of JSON messages in a `SharedArrayBuffer`, for commands from
 * the main thread to a VM's Worker. The Worker reads it synchronously inside its reactor (the producer signals an
 * eventfd in the Worker's epoll set), so a command never depends on the Worker's event loop running: a thread
 * blocked in `epoll_wait` sees it at once (design.md decision 2).
 *
 * Layout: `Int32Array` header `[head, tail]` (byte counters, wrapping at 2^32), then a power-of-two data ring. A
 * message is a little-endian u32 length and that many UTF-8 bytes, split across the ring's end when it wraps.
 * `tail` is stored (Atomics) after the bytes are written, `head` after they are read, so each side sees only
 * complete messages.
 *
 * @module
 */

const HEAD = 0;
const TAIL = 1;
const HEADER_BYTES = 8;

/** A mailbox too small for a message, or a malformed one. */
export class MailboxError extends Error {
  /** Always `MailboxError`. */
  override name = "MailboxError";
}

/** One end of a mailbox (both ends are the same class over the same memory). */
export class Mailbox {
  readonly #buffer: SharedArrayBuffer;
  readonly #index: Int32Array;
  readonly #data: Uint8Array;
  readonly #mask: number;
  readonly #encoder = new TextEncoder();
  readonly #decoder = new TextDecoder();

  private constructor(buffer: SharedArrayBuffer) {
    this.#buffer = buffer;
    this.#index = new Int32Array(buffer, 0, 2);
    this.#data = new Uint8Array(buffer, HEADER_BYTES);
    this.#mask = this.#data.length - 1;
  }

  /**
   * A new, empty mailbox.
   *
   * @param capacity Data bytes, a power of two (default 64 KiB).
   * @returns The mailbox.
   */
  static create(capacity = 1 << 16): Mailbox {
    if (capacity < 16 || (capacity & (capacity - 1)) !== 0) {
      throw new RangeError(
        `Cannot create mailbox: capacity must be a power of two >= 16: current value is ${capacity}`,
      );
    }
    return new Mailbox(new SharedArrayBuffer(HEADER_BYTES + capacity));
  }

  /**
   * The other end of a mailbox, in another thread.
   *
   * @param buffer The `buffer` of the mailbox, posted to this thread.
   * @returns The mailbox.
   */
  static attach(buffer: SharedArrayBuffer): Mailbox {
    return new Mailbox(buffer);
  }

  /** The shared memory, to post to the other thread. */
  get buffer(): SharedArrayBuffer {
    return this.#buffer;
  }

  /**
   * Producer: appends a message.
   *
   * @param message Anything `JSON.stringify` takes.
   * @returns False when there is no room now (the consumer is behind); the message is not queued then.
   * @throws MailboxError when the message could never fit.
   */
  post(message: unknown): boolean {
    const bytes = this.#encoder.encode(JSON.stringify(message));
    const need = 4 + bytes.length;
    if (need > this.#data.length) {
      throw new MailboxError(`Cannot post ${need} bytes: the mailbox holds ${this.#data.length}`);
    }
    const head = Atomics.load(this.#index, HEAD) >>> 0;
    const tail = Atomics.load(this.#index, TAIL) >>> 0;
    if (this.#data.length - ((tail - head) >>> 0) < need) return false;
    const length = new Uint8Array(new Uint32Array([bytes.length]).buffer);
    this.#copyIn(tail, length);
    this.#copyIn(tail + 4, bytes);
    Atomics.store(this.#index, TAIL, (tail + need) | 0);
    return true;
  }

  /**
   * Consumer: takes the oldest message.
   *
   * @returns The parsed message, or undefined when the mailbox is empty.
   * @throws MailboxError when the bytes are not a message (the producer broke the format).
   */
  take(): unknown {
    const head = Atomics.load(this.#index, HEAD) >>> 0;
    const tail = Atomics.load(this.#index, TAIL) >>> 0;
    const queued = (tail - head) >>> 0;
    if (queued === 0) return undefined;
    const lengthBytes = this.#copyOut(head, 4);
    const length = new DataView(lengthBytes.buffer).getUint32(0, true);
    if (queued < 4 + length) {
      throw new MailboxError(`Cannot take a message: ${length} bytes announced, ${queued} queued`);
    }
    const text = this.#decoder.decode(this.#copyOut(head + 4, length));
    Atomics.store(this.#index, HEAD, (head + 4 + length) | 0);
    return JSON.parse(text);
  }

  #copyIn(at: number, bytes: Uint8Array): void {
    const start = at & this.#mask;
    const first = Math.min(bytes.length, this.#data.length - start);
    this.#data.set(bytes.subarray(0, first), start);
    if (first < bytes.length) this.#data.set(bytes.subarray(first), 0);
  }

  #copyOut(at: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    const start = at & this.#mask;
    const first = Math.min(length, this.#data.length - start);
    out.set(this.#data.subarray(start, start + first));
    if (first < length) out.set(this.#data.subarray(0, length - first), first);
    return out;
  }
}
