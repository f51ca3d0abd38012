/**
 * `PeerDeadline`: time limits on one front-end connection (issue 14, item 4), so a silent or stalled peer cannot
 * hold a VM's slot: the first byte must come within `firstMessageMs` of connecting, a started message must be
 * complete within `messageMs` of its first byte, and the handshake (SET_OWNER, SET_FEATURES or SET_MEM_TABLE,
 * whichever comes first) within `handshakeMs` of connecting. QEMU sends its handshake in one burst right after
 * connecting and writes each message whole, so the limits are far from anything it does; after the handshake a
 * quiet front-end is a VM whose guest has not started the device yet, and has no limit.
 *
 * The server reports what it read (`onRead`) and handles the expiry (`onExpire`, with a `PeerStalledError`). The
 * timer is the event loop's, which runs between the reactor's dispatches in both of its wait modes.
 *
 * @module
 */

import { PeerStalledError } from "./peer.ts";
import { Request, requestName } from "./message.ts";

/** The time limits, in milliseconds. */
export interface PeerLimits {
  /** Connecting to the first byte (a front-end that sends nothing). */
  readonly firstMessageMs: number;
  /** First byte of a message to its last (a front-end that sends half a message). */
  readonly messageMs: number;
  /** Connecting to the end of the handshake. */
  readonly handshakeMs: number;
}

/** Defaults: generous for a loaded host, short enough that a stalled peer frees the slot soon. */
export const DEFAULT_PEER_LIMITS: PeerLimits = {
  firstMessageMs: 10_000,
  messageMs: 2_000,
  handshakeMs: 30_000,
};

/** Requests that end the handshake: QEMU's device set-up starts with them. */
const HANDSHAKE_DONE = new Set<number>([Request.SET_OWNER, Request.SET_FEATURES, Request.SET_MEM_TABLE]);

/** Time limits of one connection. */
export class PeerDeadline {
  readonly #limits: PeerLimits;
  readonly #onExpire: (e: PeerStalledError) => void;
  readonly #connectedAt = performance.now();
  #sawByte = false;
  #handshakeDone = false;
  /** When the message being read started, or -1 between messages. */
  #messageAt = -1;
  #partial = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  /**
   * Starts the clock (the connection was just accepted).
   *
   * @param limits The limits.
   * @param onExpire Called once when a limit passes; the caller drops the connection.
   */
  constructor(limits: PeerLimits, onExpire: (e: PeerStalledError) => void) {
    this.#limits = limits;
    this.#onExpire = onExpire;
    this.#arm();
  }

  /**
   * Whether the peer might still be dropped by a limit: it has not finished its handshake or is in the middle
   * of a message. A new front-end may wait for such a slot; a settled one is refused at once.
   */
  get unsettled(): boolean {
    return !this.#handshakeDone || this.#messageAt >= 0;
  }

  /** Milliseconds until the earliest limit passes (Infinity when none applies). */
  get remainingMs(): number {
    return Math.max(0, this.#due() - performance.now());
  }

  /**
   * Reports what a read left: the requests completed and the bytes of a message still being read.
   *
   * @param completed Request codes of the messages completed by this read.
   * @param partialBytes Bytes of the next message already read (0: none started).
   */
  onRead(completed: readonly number[], partialBytes: number): void {
    if (completed.length > 0 || partialBytes > 0) this.#sawByte = true;
    if (completed.some((r) => HANDSHAKE_DONE.has(r))) this.#handshakeDone = true;
    if (partialBytes === 0) this.#messageAt = -1;
    else if (this.#messageAt < 0 || completed.length > 0 || partialBytes < this.#partial) {
      this.#messageAt = performance.now(); // a new message started
    }
    this.#partial = partialBytes;
    this.#arm();
  }

  /** Stops the clock (the connection is gone); idempotent. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #due(): number {
    const l = this.#limits;
    let due = Infinity;
    if (!this.#sawByte) due = Math.min(due, this.#connectedAt + l.firstMessageMs);
    if (!this.#handshakeDone) due = Math.min(due, this.#connectedAt + l.handshakeMs);
    if (this.#messageAt >= 0) due = Math.min(due, this.#messageAt + l.messageMs);
    return due;
  }

  #arm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const due = this.#due();
    if (this.#closed || due === Infinity) return;
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, due - performance.now()));
  }

  #expire(): void {
    this.#timer = undefined;
    if (this.#closed) return;
    const now = performance.now();
    const l = this.#limits;
    let why: string | null = null;
    if (!this.#sawByte && now >= this.#connectedAt + l.firstMessageMs) {
      why = `it sent nothing for ${l.firstMessageMs} ms after connecting`;
    } else if (this.#messageAt >= 0 && now >= this.#messageAt + l.messageMs) {
      why = `it sent ${this.#partial} bytes of a message and nothing more for ${l.messageMs} ms`;
    } else if (!this.#handshakeDone && now >= this.#connectedAt + l.handshakeMs) {
      why = `it did not finish its handshake (${requestName(Request.SET_OWNER)} or ` +
        `${requestName(Request.SET_FEATURES)}) within ${l.handshakeMs} ms`;
    }
    if (why === null) return this.#arm(); // woke early (timer granularity)
    this.close();
    this.#onExpire(new PeerStalledError(why));
  }
}
