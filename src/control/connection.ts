/**
 * `ControlConnection`: one client of the control socket, in the daemon's reactor. Bytes become lines (at most
 * `maxLineBytes` each: a longer one is answered with one error and skipped up to its newline, and the
 * connection goes on); lines are answered one after another, in order; answers are queued and written as the
 * socket takes them (EPOLLOUT), so a client that reads slowly never blocks the daemon's thread. A client that
 * sends faster than it is answered is not read from until its queue drains; one that reads nothing while its
 * answers pile up past `maxOutputBytes` is dropped.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import {
  EPOLLERR,
  EPOLLHUP,
  EPOLLIN,
  EPOLLOUT,
  type Fd,
  type Reactor,
  sendNow,
  type UnixConnection,
} from "../os/mod.ts";
import { answerLine } from "./dispatch.ts";
import { ErrorCode, failure, RpcError } from "./protocol.ts";
import type { DaemonControl } from "./reports.ts";

const log = getLogger(["cryptobridge", "control"]);

/** The limits of one connection. */
export interface ConnectionLimits {
  /** Longest request line in bytes, without its newline. */
  readonly maxLineBytes: number;
  /** Most requests in one batch. */
  readonly maxBatch: number;
  /** Lines read and not answered yet before reading pauses. */
  readonly maxQueuedLines: number;
  /** Answers queued and not taken by the socket before the client is dropped. */
  readonly maxOutputBytes: number;
}

type Item = { readonly line: Uint8Array } | { readonly tooLong: number };

const NEWLINE = 0x0a;
const CHUNK = 64 * 1024;

/** A copy: the last part may be a view of the receive buffer, which the next recv overwrites. */
function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** One client. */
export class ControlConnection {
  readonly #conn: UnixConnection;
  readonly #reactor: Reactor;
  readonly #control: DaemonControl;
  readonly #limits: ConnectionLimits;
  readonly #onClose: (c: ControlConnection) => void;
  readonly #token: number;
  readonly #decoder = new TextDecoder("utf-8", { fatal: true });
  readonly #chunk = new Uint8Array(CHUNK);
  readonly #received: Fd[] = [];
  #partial: Uint8Array[] = [];
  #partialBytes = 0;
  #discarding = false;
  readonly #items: Item[] = [];
  #answering = false;
  readonly #output: Uint8Array<ArrayBuffer>[] = [];
  #outputBytes = 0;
  #events = EPOLLIN;
  #eof = false;
  #closed = false;

  /**
   * Takes the connection and starts reading it.
   *
   * @param conn The accepted connection (owned from now on).
   * @param options The reactor, the daemon, the limits, and what to call once closed.
   */
  constructor(
    conn: UnixConnection,
    options: {
      readonly reactor: Reactor;
      readonly control: DaemonControl;
      readonly limits: ConnectionLimits;
      readonly onClose: (c: ControlConnection) => void;
    },
  ) {
    this.#conn = conn;
    this.#reactor = options.reactor;
    this.#control = options.control;
    this.#limits = options.limits;
    this.#onClose = options.onClose;
    this.#token = this.#reactor.add(conn.fd, EPOLLIN, (events) => this.#ready(events));
  }

  /** Closes the connection (queued answers are dropped); idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#reactor.remove(this.#token);
    this.#conn.close();
    this.#onClose(this);
  }

  #ready(events: number): void {
    // The peer is gone both ways (epoll reports HUP whatever the events asked for): nothing can be answered.
    if ((events & (EPOLLHUP | EPOLLERR)) !== 0 && this.#eof) {
      this.close();
      return;
    }
    try {
      if ((events & EPOLLOUT) !== 0) this.#flush();
      if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) !== 0 && !this.#eof && !this.#closed) this.#read();
    } catch (e) {
      log.debug("control client dropped: {error}", { error: (e as Error).message });
      this.close();
    }
  }

  #read(): void {
    while (this.#items.length < this.#limits.maxQueuedLines) {
      const n = this.#conn.recv(this.#chunk, 0, CHUNK, this.#received);
      for (const fd of this.#received.splice(0)) fd.close(); // descriptors mean nothing here
      if (n < 0) break;
      if (n === 0) {
        this.#endOfStream();
        break;
      }
      this.#feed(this.#chunk.subarray(0, n));
    }
    this.#updateEvents();
    this.#answerQueued();
  }

  /** The peer will send no more: its last line, if unterminated, is a request; close once all is answered. */
  #endOfStream(): void {
    this.#eof = true;
    if (this.#partialBytes > 0 && !this.#discarding) {
      this.#items.push({ line: concat(this.#partial, this.#partialBytes) });
    }
    this.#partial = [];
    this.#partialBytes = 0;
  }

  #feed(bytes: Uint8Array): void {
    let start = 0;
    for (let nl = bytes.indexOf(NEWLINE); nl >= 0; nl = bytes.indexOf(NEWLINE, start)) {
      this.#take(bytes.subarray(start, nl), true);
      start = nl + 1;
    }
    if (start < bytes.length) this.#take(bytes.slice(start), false);
  }

  /** Adds bytes to the line being read; `ends`: they end it. */
  #take(bytes: Uint8Array, ends: boolean): void {
    if (!this.#discarding) {
      if (this.#partialBytes + bytes.length > this.#limits.maxLineBytes) {
        this.#items.push({ tooLong: this.#partialBytes + bytes.length });
        this.#discarding = true;
        this.#partial = [];
        this.#partialBytes = 0;
      } else if (ends) {
        const line = concat([...this.#partial, bytes], this.#partialBytes + bytes.length);
        this.#partial = [];
        this.#partialBytes = 0;
        if (line.some((b) => b !== 0x20 && b !== 0x09 && b !== 0x0d)) this.#items.push({ line });
      } else {
        this.#partial.push(bytes);
        this.#partialBytes += bytes.length;
      }
    }
    if (ends) this.#discarding = false;
  }

  #answerQueued(): void {
    if (this.#answering || this.#closed) return;
    this.#answering = true;
    (async () => {
      try {
        for (
          let item = this.#items.shift();
          item !== undefined && !this.#closed;
          item = this.#items.shift()
        ) {
          const answer = await this.#answer(item);
          if (answer !== null) this.#send(answer);
          this.#updateEvents();
        }
      } finally {
        this.#answering = false;
      }
      if (this.#eof && this.#outputBytes === 0) this.close();
    })().catch((e) => {
      log.debug("control client dropped: {error}", { error: (e as Error).message });
      this.close();
    });
  }

  #answer(item: Item): Promise<string | null> {
    if ("tooLong" in item) {
      const max = this.#limits.maxLineBytes;
      const error = new RpcError(
        ErrorCode.INVALID_REQUEST,
        `Invalid Request: a line may hold at most ${max} bytes: this one held more (skipped up to its newline)`,
        { limit: max },
      );
      return Promise.resolve(JSON.stringify(failure(null, error)));
    }
    let text: string;
    try {
      text = this.#decoder.decode(item.line);
    } catch {
      const error = new RpcError(ErrorCode.PARSE_ERROR, "Parse error: the line is not UTF-8");
      return Promise.resolve(JSON.stringify(failure(null, error)));
    }
    return answerLine(this.#control, text, this.#limits.maxBatch);
  }

  #send(answer: string): void {
    const bytes = new TextEncoder().encode(`${answer}\n`) as Uint8Array<ArrayBuffer>;
    this.#output.push(bytes);
    this.#outputBytes += bytes.length;
    if (this.#outputBytes > this.#limits.maxOutputBytes) {
      throw new Error(`the client read none of ${this.#outputBytes} bytes of answers`);
    }
    this.#flush();
  }

  #flush(): void {
    while (this.#output.length > 0) {
      const head = this.#output[0]!;
      const n = sendNow(this.#conn.fd, head);
      if (n === 0) break;
      this.#outputBytes -= n;
      if (n === head.length) this.#output.shift();
      else this.#output[0] = head.subarray(n);
    }
    this.#updateEvents();
    if (this.#eof && !this.#answering && this.#items.length === 0 && this.#outputBytes === 0) this.close();
  }

  #updateEvents(): void {
    if (this.#closed) return;
    const reading = !this.#eof && this.#items.length < this.#limits.maxQueuedLines;
    const events = (reading ? EPOLLIN : 0) | (this.#outputBytes > 0 ? EPOLLOUT : 0);
    if (events === this.#events) return;
    this.#events = events;
    this.#reactor.modify(this.#token, events);
  }
}
