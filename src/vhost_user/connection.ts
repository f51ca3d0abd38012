/**
 * `VhostUserConnection`: vhost-user messages over a Unix stream socket: bytes and fds in, whole messages out.
 *
 * Framing rule: the header is read first (12 bytes), then exactly `size` payload bytes, so a read never reaches
 * into the next message; fds that arrive while a message is read belong to that message (they come with its
 * first byte). A message's fds are owned by the `Message` until the handler takes them; anything not taken is
 * closed (style.md rule 9).
 *
 * @module
 */

import type { Fd, UnixConnection } from "../os/mod.ts";
import {
  decodeHeader,
  encodeHeader,
  type Header,
  HEADER_SIZE,
  MAX_FDS,
  MAX_PAYLOAD,
  requestName,
  VhostUserError,
} from "./message.ts";

/** A whole message: header, a copy of the payload, and the fds that came with it. */
export interface Message {
  readonly header: Header;
  /** The payload bytes (a copy: safe to keep). */
  readonly payload: Uint8Array;
  /** Owned fds; the handler takes what it uses, `closeFds()` closes the rest. */
  readonly fds: Fd[];
}

/** Closes every fd still in a message (after the handler took what it needed). */
export function closeFds(message: Message): void {
  for (const fd of message.fds) fd.close();
  message.fds.length = 0;
}

/** Reads whole messages off a connection and writes replies. */
export class VhostUserConnection implements Disposable {
  readonly #socket: UnixConnection;
  readonly #buf = new Uint8Array(new ArrayBuffer(HEADER_SIZE + MAX_PAYLOAD));
  #have = 0;
  #header: Header | null = null;
  #fds: Fd[] = [];

  /** @param socket The connected socket; owned from now on. */
  constructor(socket: UnixConnection) {
    this.#socket = socket;
  }

  /** Bytes of a message read so far and not complete yet (0 between messages): the peer's time limits. */
  get partialBytes(): number {
    return this.#have;
  }

  /** The socket's descriptor, for the reactor. */
  get fd(): number {
    return this.#socket.fd;
  }

  /**
   * Reads what is available and returns the next whole message, or `null` when more bytes are needed.
   * Call it until it returns `null` each time the socket is readable.
   *
   * @throws VhostUserError("peer-closed") at end of stream, ("bad-header"/"bad-size"/"bad-fds") for a malformed
   *   message; the caller drops the connection.
   */
  receive(): Message | null {
    for (;;) {
      const want = this.#header === null ? HEADER_SIZE : HEADER_SIZE + this.#header.size;
      if (this.#have === want) return this.#complete();
      const n = this.#recv(want - this.#have);
      if (n < 0) return null;
      this.#have += n;
      if (this.#header === null && this.#have === HEADER_SIZE) this.#header = decodeHeader(this.#buf);
    }
  }

  #recv(length: number): number {
    let n: number;
    try {
      n = this.#socket.recv(this.#buf, this.#have, length, this.#fds);
    } catch (e) {
      throw new VhostUserError("io", `Cannot read vhost-user message: ${(e as Error).message}`, { cause: e });
    }
    if (n === 0) {
      const mid = this.#have > 0 ? ` in the middle of a message (${this.#have} bytes read)` : "";
      throw new VhostUserError("peer-closed", `Front-end closed the connection${mid}`);
    }
    if (this.#fds.length > MAX_FDS) {
      throw new VhostUserError(
        "bad-fds",
        `Cannot accept message: at most ${MAX_FDS} fds per message: current count is ${this.#fds.length}`,
      );
    }
    return n;
  }

  #complete(): Message {
    const header = this.#header!;
    const payload = this.#buf.slice(HEADER_SIZE, HEADER_SIZE + header.size);
    const fds = this.#fds;
    this.#fds = [];
    this.#header = null;
    this.#have = 0;
    return { header, payload, fds };
  }

  /**
   * Sends a message.
   *
   * @param header The header (its size must equal `payload.length`).
   * @param payload The payload.
   * @param fds Raw fds to pass (the caller keeps its own copies).
   */
  send(header: Header, payload: Uint8Array, fds: readonly number[] = []): void {
    if (header.size !== payload.length) {
      throw new RangeError(
        `Cannot send ${
          requestName(header.request)
        }: size must be ${payload.length}: current value is ${header.size}`,
      );
    }
    const bytes = new Uint8Array(new ArrayBuffer(HEADER_SIZE + payload.length));
    encodeHeader(bytes, header);
    bytes.set(payload, HEADER_SIZE);
    this.#socket.send(bytes, fds);
  }

  /** Closes the socket and any fds of a half-read message; idempotent. */
  close(): void {
    for (const fd of this.#fds) fd.close();
    this.#fds = [];
    this.#socket.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
