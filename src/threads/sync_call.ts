/**
 * Synchronous calls from a VM's Worker to the main thread, for the few things only the main thread may do and the
 * Worker needs an answer to before it goes on: create or destroy an accelerator session (the device's control
 * queue is one for all VMs, so the main thread serializes it), map a VM's memory for DMA (the one VFIO container
 * and its IOVA space are shared). Not for the data path.
 *
 * The Worker writes the request into shared memory, nudges the main thread (a `postMessage`; the main thread's
 * event loop never blocks) and blocks in `Atomics.wait` until the answer is there or the deadline passes. Binary
 * arguments (keys) travel as blobs in the shared memory, never in a message (a structured clone is freed by the
 * garbage collector, not zeroed): the main thread zeroes them as soon as it has read them, and the Worker zeroes
 * the request area after the answer.
 *
 * State word: IDLE → REQUEST (Worker) → BUSY (main, by compare-exchange) → REPLY (main) → IDLE (Worker). A Worker
 * that gives up moves REQUEST back to IDLE by compare-exchange, so a late main thread finds nothing to do.
 *
 * @module
 */

const STATE = 0;
const CALL_ID = 1;
const REQUEST_LEN = 2;
const REPLY_LEN = 3;
const CTRL_BYTES = 16;

const IDLE = 0;
const REQUEST = 1;
const BUSY = 2;
const REPLY = 3;

/** A call's error as it crosses threads: the error's class name, its `kind` when it has one, and the message. */
export interface CallFault {
  readonly name: string;
  readonly kind?: string;
  readonly message: string;
}

/** A call that failed on the other side (`fault`) or got no answer in time. */
export class SyncCallError extends Error {
  /** Always `SyncCallError`. */
  override name = "SyncCallError";
  /** What the callee threw, or null for a timeout. */
  readonly fault: CallFault | null;

  /**
   * @param message What happened.
   * @param fault The callee's error, if it threw.
   */
  constructor(message: string, fault: CallFault | null) {
    super(message);
    this.fault = fault;
  }
}

/** Shared memory of one call channel: control words, a request area, a reply area. */
export function createCallBuffer(areaBytes = 1 << 16): SharedArrayBuffer {
  return new SharedArrayBuffer(CTRL_BYTES + 2 * areaBytes);
}

function areas(buffer: SharedArrayBuffer): { ctrl: Int32Array; request: Uint8Array; reply: Uint8Array } {
  const half = (buffer.byteLength - CTRL_BYTES) / 2;
  return {
    ctrl: new Int32Array(buffer, 0, 4),
    request: new Uint8Array(buffer, CTRL_BYTES, half),
    reply: new Uint8Array(buffer, CTRL_BYTES + half, half),
  };
}

function encode(header: unknown, blobs: readonly Uint8Array[], into: Uint8Array): number {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const total = 4 + json.length + blobs.reduce((n, b) => n + b.length, 0);
  if (total > into.length) {
    throw new SyncCallError(`Cannot call: ${total} bytes do not fit in ${into.length}`, null);
  }
  new DataView(into.buffer, into.byteOffset).setUint32(0, json.length, true);
  into.set(json, 4);
  let at = 4 + json.length;
  for (const b of blobs) {
    into.set(b, at);
    at += b.length;
  }
  return total;
}

function decodeHeader(from: Uint8Array, length: number): { header: unknown; blobsAt: number } {
  const jsonLength = new DataView(from.buffer, from.byteOffset).getUint32(0, true);
  if (4 + jsonLength > length) throw new SyncCallError("Cannot decode a call: its header overruns it", null);
  const text = new TextDecoder().decode(from.slice(4, 4 + jsonLength));
  return { header: JSON.parse(text), blobsAt: 4 + jsonLength };
}

/** The Worker's end: blocking calls. */
export class SyncCaller {
  readonly #ctrl: Int32Array;
  readonly #request: Uint8Array;
  readonly #reply: Uint8Array;
  readonly #nudge: () => void;
  #nextId = 1;

  /**
   * @param buffer The channel's shared memory (from `createCallBuffer`, posted by the main thread).
   * @param nudge Tells the main thread a call is waiting (a `postMessage`).
   */
  constructor(buffer: SharedArrayBuffer, nudge: () => void) {
    ({ ctrl: this.#ctrl, request: this.#request, reply: this.#reply } = areas(buffer));
    this.#nudge = nudge;
  }

  /**
   * Calls `method` on the main thread and blocks until it answers.
   *
   * @param method The method name.
   * @param params JSON parameters.
   * @param blobs Binary arguments (keys), zeroed in shared memory after the call.
   * @param timeoutMs How long to wait.
   * @returns The method's JSON result.
   * @throws SyncCallError when the method threw (with its `fault`) or gave no answer in time.
   */
  call(method: string, params: unknown, blobs: readonly Uint8Array[] = [], timeoutMs = 5000): unknown {
    const ctrl = this.#ctrl;
    if (Atomics.load(ctrl, STATE) !== IDLE) {
      throw new SyncCallError(`Cannot call ${method}: a call is under way`, null);
    }
    const id = this.#nextId++;
    try {
      const length = encode({ method, params, blobs: blobs.map((b) => b.length) }, blobs, this.#request);
      Atomics.store(ctrl, REQUEST_LEN, length);
      Atomics.store(ctrl, CALL_ID, id);
      Atomics.store(ctrl, STATE, REQUEST);
      this.#nudge();
      if (!this.#waitForReply(timeoutMs)) {
        throw new SyncCallError(`${method} got no answer from the main thread within ${timeoutMs} ms`, null);
      }
      return this.#readReply(method);
    } finally {
      this.#request.fill(0);
    }
  }

  #waitForReply(timeoutMs: number): boolean {
    const ctrl = this.#ctrl;
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const state = Atomics.load(ctrl, STATE);
      if (state === REPLY) return true;
      const left = deadline - performance.now();
      if (left <= 0) {
        // Still REQUEST: take it back, the main thread will find nothing. BUSY: it is being served; wait on.
        if (Atomics.compareExchange(ctrl, STATE, REQUEST, IDLE) === REQUEST) return false;
        if (left < -timeoutMs) return false; // served but never finished: give up on this channel
      }
      Atomics.wait(ctrl, STATE, state, Math.max(left, 1));
    }
  }

  #readReply(method: string): unknown {
    const ctrl = this.#ctrl;
    const { header } = decodeHeader(this.#reply, Atomics.load(ctrl, REPLY_LEN));
    Atomics.store(ctrl, STATE, IDLE);
    const reply = header as { result?: unknown; fault?: CallFault };
    if (reply.fault !== undefined) {
      throw new SyncCallError(`${method} failed: ${reply.fault.message}`, reply.fault);
    }
    return reply.result;
  }
}

/** A call as the main thread's handler receives it. */
export interface IncomingCall {
  readonly method: string;
  readonly params: unknown;
  /** Copies of the binary arguments; the handler zeroes them when done (the shared copy is zeroed already). */
  readonly blobs: readonly Uint8Array[];
}

/** The main thread's end: serves one waiting call when nudged. */
export class SyncCallee {
  readonly #ctrl: Int32Array;
  readonly #request: Uint8Array;
  readonly #reply: Uint8Array;

  /** @param buffer The channel's shared memory. */
  constructor(buffer: SharedArrayBuffer) {
    ({ ctrl: this.#ctrl, request: this.#request, reply: this.#reply } = areas(buffer));
  }

  /**
   * Serves the waiting call, if any (a nudge may arrive after the caller gave up).
   *
   * @param handler Runs the call; what it throws goes back as the call's fault.
   * @returns Whether a call was served.
   */
  serve(handler: (call: IncomingCall) => unknown): boolean {
    const ctrl = this.#ctrl;
    if (Atomics.compareExchange(ctrl, STATE, REQUEST, BUSY) !== REQUEST) return false;
    let reply: { result?: unknown; fault?: CallFault };
    let call: IncomingCall | null = null;
    try {
      call = this.#takeRequest();
      reply = { result: handler(call) ?? null };
    } catch (e) {
      reply = { fault: faultOf(e) };
    } finally {
      for (const b of call?.blobs ?? []) b.fill(0);
    }
    Atomics.store(ctrl, REPLY_LEN, encode(reply, [], this.#reply));
    Atomics.store(ctrl, STATE, REPLY);
    Atomics.notify(ctrl, STATE);
    return true;
  }

  #takeRequest(): IncomingCall {
    const length = Atomics.load(this.#ctrl, REQUEST_LEN);
    const { header, blobsAt } = decodeHeader(this.#request, length);
    const h = header as { method: string; params: unknown; blobs: number[] };
    const blobs: Uint8Array[] = [];
    let at = blobsAt;
    for (const n of h.blobs) {
      blobs.push(this.#request.slice(at, at + n));
      at += n;
    }
    this.#request.fill(0, 0, length); // keys leave shared memory as soon as they are read
    return { method: h.method, params: h.params, blobs };
  }
}

/**
 * An error as it crosses threads.
 *
 * @param e What was thrown.
 * @returns Its name, kind and message.
 */
export function faultOf(e: unknown): CallFault {
  if (!(e instanceof Error)) return { name: "Error", message: String(e) };
  const kind = (e as { kind?: unknown }).kind;
  return typeof kind === "string"
    ? { name: e.name, kind, message: e.message }
    : { name: e.name, message: e.message };
}
