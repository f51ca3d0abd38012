/**
 * Unix stream sockets with descriptor passing (SCM_RIGHTS): the vhost-user transport. `UnixListener` is the
 * back-end's socket; `UnixConnection` is one connected end (accepted, connected as a front-end would, or a
 * `socketpair`). Every socket is O_NONBLOCK and O_CLOEXEC, ready for the reactor.
 *
 * Deno cannot adopt raw fds and `node:net` loses SCM_RIGHTS (vfio-ffi.md §0 item 7), so this is libc through FFI.
 *
 * @module
 */

import { check, lastErrno, libc } from "../../ffi/libc.ts";
import {
  AF_UNIX,
  MSG_CMSG_CLOEXEC,
  MSG_CTRUNC,
  MSG_DONTWAIT,
  MSG_NOSIGNAL,
  POLLOUT,
  SCM_MAX_FD,
  SCM_RIGHTS,
  SHUT_RDWR,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  SOL_SOCKET,
} from "../../ffi/constants.ts";
import { Errno, ErrnoError } from "../../ffi/errno.ts";
import {
  cmsgAlign,
  CMSGHDR_DATA,
  CMSGHDR_SIZE,
  cmsghdrLen,
  cmsghdrLevel,
  cmsghdrType,
  cmsgSpace,
  encodeCmsghdr,
  encodeIovec,
  encodeMsghdr,
  encodePollfd,
  encodeSockaddrUn,
  IOVEC_SIZE,
  MSGHDR_SIZE,
  msghdrControllen,
  msghdrFlags,
  POLLFD_SIZE,
  SOCKADDR_UN_SIZE,
} from "../../ffi/structs.ts";
import { Fd } from "./fd.ts";

/** Most descriptors one `recv()` accepts (rust-vmm vhost MAX_ATTACHED_FD_ENTRIES); `send()` allows the kernel's 253. */
export const MAX_FDS = 32;

/** What went wrong, beyond a plain errno. */
export type UnixSocketErrorKind =
  | "in-use"
  | "not-a-socket"
  | "control-truncated"
  | "send-timeout"
  /** The process has no file descriptor left to accept a connection with. */
  | "fd-limit"
  /** The socket's directory is writable by other users without the sticky bit: the file could be replaced. */
  | "unsafe-directory"
  /** A socket file of another user is at the path: likely a squat. */
  | "squatted";

/** A Unix socket failure that is not a single failing call (those are `ErrnoError`). */
export class UnixSocketError extends Error {
  /** Always `"UnixSocketError"`. */
  override name: string = "UnixSocketError";
  /** The failure, for callers that react to it. */
  readonly kind: UnixSocketErrorKind;

  /**
   * Creates the error.
   *
   * @param kind The failure.
   * @param message A std-style message.
   * @param options The cause, if any.
   */
  constructor(kind: UnixSocketErrorKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.kind = kind;
  }
}

/** Options of a `UnixConnection`. */
export interface UnixConnectionOptions {
  /** Bytes of the receive control buffer (default `CMSG_SPACE(4 * MAX_FDS)` = 144, room for 32 fds). */
  readonly controlSize?: number;
  /** How long `send()` waits for a peer that reads nothing, in milliseconds (default 100). */
  readonly sendTimeoutMs?: number;
}

// Base address of every ArrayBuffer handed to C, found again without allocating. Reading `.buffer` moves an
// on-heap typed array's bytes off the V8 heap for good, and an ArrayBuffer's bytes never move after that.
const baseAddresses = new WeakMap<ArrayBufferLike, number>();

function addressOf(bytes: Uint8Array): number {
  const buffer = bytes.buffer;
  let base = baseAddresses.get(buffer);
  if (base === undefined) {
    base = Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buffer)));
    baseAddresses.set(buffer, base);
  }
  return base + bytes.byteOffset;
}

/** A new non-blocking, close-on-exec AF_UNIX stream socket (shared with `unix_listener.ts`). */
export function newSocket(): Fd {
  return new Fd(check(libc.socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), "socket"));
}

function intOption(what: string, value: number | undefined, fallback: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new RangeError(
      `Cannot create unix connection: ${what} must be in [0, ${max}]: current value is ${v}`,
    );
  }
  return v;
}

/** One connected Unix stream socket; reuses its msghdr, iovec and control buffers for every call. */
export class UnixConnection implements Disposable {
  readonly #fd: Fd;
  readonly #msg = new DataView(new ArrayBuffer(MSGHDR_SIZE));
  readonly #msgBytes = new Uint8Array(this.#msg.buffer);
  readonly #iov = new DataView(new ArrayBuffer(IOVEC_SIZE));
  readonly #iovAddress = addressOf(new Uint8Array(this.#iov.buffer));
  readonly #control: DataView;
  readonly #controlAddress: number;
  readonly #sendControl = new DataView(new ArrayBuffer(cmsgSpace(4 * MAX_FDS)));
  readonly #pollfd = new DataView(new ArrayBuffer(POLLFD_SIZE));
  readonly #pollfdBytes = new Uint8Array(this.#pollfd.buffer);
  readonly #received: number[] = [];
  readonly #sendTimeoutMs: number;

  /**
   * Wraps a connected stream socket; takes ownership of `fd`, even when it throws.
   *
   * @param fd An owned, connected AF_UNIX stream socket (O_NONBLOCK is not required: calls pass MSG_DONTWAIT).
   * @param options Control buffer size and send timeout.
   * @throws RangeError for an option out of range.
   */
  constructor(fd: Fd, options: UnixConnectionOptions = {}) {
    this.#fd = fd;
    try {
      const controlSize = intOption(
        "controlSize",
        options.controlSize,
        cmsgSpace(4 * MAX_FDS),
        1 << 16,
      );
      this.#sendTimeoutMs = intOption("sendTimeoutMs", options.sendTimeoutMs, 100, 60_000);
      this.#control = new DataView(new ArrayBuffer(controlSize));
      this.#controlAddress = controlSize === 0 ? 0 : addressOf(new Uint8Array(this.#control.buffer));
    } catch (e) {
      fd.close();
      throw e;
    }
  }

  /**
   * Connects to a listening socket, as a vhost-user front-end (QEMU) does.
   *
   * @param path The socket path.
   * @param options Connection options.
   * @returns The connection.
   * @throws RangeError for a path longer than 107 bytes; ErrnoError when connect fails (ENOENT, ECONNREFUSED,
   *   or EAGAIN when the listener's backlog is full).
   */
  static connect(path: string, options?: UnixConnectionOptions): UnixConnection {
    const address = encodeSockaddrUn(AF_UNIX, path);
    const fd = newSocket();
    try {
      check(libc.connect(fd.raw, address, SOCKADDR_UN_SIZE), "connect", `to ${path}`);
    } catch (e) {
      fd.close();
      throw e;
    }
    return new UnixConnection(fd, options);
  }

  /**
   * A connected pair (socketpair), such as the back-end request channel a front-end hands over.
   *
   * @param options Options for both ends.
   * @returns Both ends.
   */
  static pair(options?: UnixConnectionOptions): [UnixConnection, UnixConnection] {
    const sv = new Int32Array(new ArrayBuffer(8));
    check(libc.socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), "socketpair");
    const a = new Fd(sv[0]!);
    const b = new Fd(sv[1]!);
    try {
      return [new UnixConnection(a, options), new UnixConnection(b, options)];
    } catch (e) {
      a.close(); // the constructor that threw closed its own end; Fd.close() is idempotent
      b.close();
      throw e;
    }
  }

  /** The raw descriptor, for reactor registration. */
  get fd(): number {
    return this.#fd.raw;
  }

  /** Whether it is still open. */
  get isOpen(): boolean {
    return this.#fd.isOpen;
  }

  /**
   * Receives up to `length` bytes into `buf[offset…]` without blocking. Received descriptors are appended to
   * `fds` as owned, close-on-exec `Fd`s (at most `MAX_FDS`; extra ones are closed). Descriptors arrive with the
   * first byte of the message they were sent with.
   *
   * @param buf Destination.
   * @param offset Start in `buf`.
   * @param length Bytes wanted (> 0).
   * @param fds Receives the descriptors.
   * @returns Bytes read, 0 at end of stream (the peer closed), -1 when nothing is available (EAGAIN).
   * @throws UnixSocketError("control-truncated") when the kernel dropped descriptors (MSG_CTRUNC): every
   *   descriptor of this call is closed and the bytes already consumed cannot be trusted (drop the connection);
   *   ErrnoError for other failures (ECONNRESET included).
   */
  recv(buf: Uint8Array, offset: number, length: number, fds: Fd[]): number {
    checkSpan("receive", buf, offset, length);
    encodeIovec(this.#iov, 0, addressOf(buf) + offset, length);
    for (;;) {
      // recvmsg writes msg_controllen and msg_flags back: refill the header on every call.
      encodeMsghdr(this.#msg, this.#iovAddress, 1, this.#controlAddress, this.#control.byteLength);
      const n = libc.recvmsg(this.#fd.raw, this.#msgBytes, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
      if (n >= 0n) {
        this.#takeFds(fds);
        return Number(n);
      }
      const errno = lastErrno();
      if (errno === Errno.EAGAIN) return -1;
      if (errno !== Errno.EINTR) throw new ErrnoError(errno, "recvmsg");
    }
  }

  /** Walks every cmsghdr of the last recvmsg; closes everything on MSG_CTRUNC. */
  #takeFds(fds: Fd[]): void {
    const controllen = msghdrControllen(this.#msg);
    const truncated = (msghdrFlags(this.#msg) & MSG_CTRUNC) !== 0;
    if (controllen === 0 && !truncated) return;
    const received = this.#received;
    received.length = 0;
    const view = this.#control;
    for (let off = 0; off + CMSGHDR_SIZE <= controllen;) {
      const len = cmsghdrLen(view, off);
      if (len < CMSGHDR_SIZE || off + len > controllen) break;
      if (cmsghdrLevel(view, off) === SOL_SOCKET && cmsghdrType(view, off) === SCM_RIGHTS) {
        for (let p = off + CMSGHDR_DATA; p + 4 <= off + len; p += 4) {
          received.push(view.getInt32(p, true));
        }
      }
      off += cmsgAlign(len);
    }
    if (truncated) {
      for (const raw of received) libc.close(raw);
      const count = received.length;
      received.length = 0;
      throw new UnixSocketError(
        "control-truncated",
        `Cannot receive on unix socket: the kernel dropped file descriptors (MSG_CTRUNC): closed the ${count} received`,
      );
    }
    for (let i = 0; i < received.length; i++) {
      if (i < MAX_FDS) fds.push(new Fd(received[i]!));
      else libc.close(received[i]!);
    }
    received.length = 0;
  }

  /**
   * Sends all of `bytes`, looping on partial writes; `fds` go with the first byte. When the socket buffer is full
   * it waits with a synchronous `poll(POLLOUT)`, which blocks the event loop, for at most `sendTimeoutMs` without
   * progress (vhost-user replies are small; a peer that reads none of them is broken). MSG_NOSIGNAL: a closed
   * peer gives EPIPE, not SIGPIPE.
   *
   * @param bytes The data (non-empty when fds are given).
   * @param fds Raw descriptors to pass; the caller keeps owning them (the peer gets duplicates).
   * @throws RangeError for more than 253 fds or fds without data; UnixSocketError("send-timeout");
   *   ErrnoError (EPIPE, ECONNRESET, EBADF for a bad fd in `fds`).
   */
  send(bytes: Uint8Array, fds: readonly number[] = []): void {
    if (fds.length > SCM_MAX_FD) {
      throw new RangeError(
        `Cannot send on unix socket: at most ${SCM_MAX_FD} file descriptors per message: current count is ${fds.length}`,
      );
    }
    if (bytes.length === 0) {
      if (fds.length > 0) {
        throw new RangeError("Cannot send file descriptors on unix socket: the data is empty");
      }
      return;
    }
    // More than MAX_FDS only for tests of hostile peers: a control buffer for that one call (kept alive by `control`).
    const control = fds.length <= MAX_FDS
      ? this.#sendControl
      : new DataView(new ArrayBuffer(cmsgSpace(4 * fds.length)));
    const controlAddress = fds.length === 0 ? 0 : addressOf(new Uint8Array(control.buffer));
    const controlLength = fds.length === 0 ? 0 : encodeRights(control, fds);
    const base = addressOf(bytes);
    for (let sent = 0; sent < bytes.length;) {
      encodeIovec(this.#iov, 0, base + sent, bytes.length - sent);
      const first = sent === 0; // the fds go with the first byte: after a partial write they were sent
      encodeMsghdr(this.#msg, this.#iovAddress, 1, first ? controlAddress : 0, first ? controlLength : 0);
      const n = libc.sendmsg(this.#fd.raw, this.#msgBytes, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n >= 0n) {
        sent += Number(n);
        continue;
      }
      const errno = lastErrno();
      if (errno === Errno.EAGAIN) this.#waitWritable();
      else if (errno !== Errno.EINTR) throw new ErrnoError(errno, "sendmsg");
    }
  }

  #waitWritable(): void {
    encodePollfd(this.#pollfd, 0, this.#fd.raw, POLLOUT);
    for (;;) {
      const n = libc.poll(this.#pollfdBytes, 1n, this.#sendTimeoutMs);
      if (n > 0) return; // writable, or POLLERR/POLLHUP: the next sendmsg reports it
      if (n === 0) {
        throw new UnixSocketError(
          "send-timeout",
          `Cannot send on unix socket: the peer read nothing for ${this.#sendTimeoutMs} ms`,
        );
      }
      const errno = lastErrno();
      if (errno !== Errno.EINTR) throw new ErrnoError(errno, "poll");
    }
  }

  /** Shuts both directions down (the peer sees end of stream); ENOTCONN is ignored. */
  shutdown(): void {
    if (libc.shutdown(this.#fd.raw, SHUT_RDWR) < 0) {
      const errno = lastErrno();
      if (errno !== Errno.ENOTCONN) throw new ErrnoError(errno, "shutdown");
    }
  }

  /** Closes the socket; idempotent. */
  close(): void {
    this.#fd.close();
  }

  /** `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

function encodeRights(view: DataView, fds: readonly number[]): number {
  encodeCmsghdr(view, 0, SOL_SOCKET, SCM_RIGHTS, 4 * fds.length);
  for (let i = 0; i < fds.length; i++) view.setInt32(CMSGHDR_DATA + 4 * i, fds[i]!, true);
  return cmsgSpace(4 * fds.length);
}

function checkSpan(action: string, buf: Uint8Array, offset: number, length: number): void {
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length <= 0) {
    throw new RangeError(
      `Cannot ${action} on unix socket: offset must be >= 0 and length > 0: current values are ${offset}, ${length}`,
    );
  }
  if (offset + length > buf.length) {
    throw new RangeError(
      `Cannot ${action} on unix socket: span must fit the buffer (${buf.length} bytes): current end is ${
        offset + length
      }`,
    );
  }
}
