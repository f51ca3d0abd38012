/**
 * `UnixDatagram`: an AF_UNIX datagram socket, to a filesystem path or an abstract name (`@name`, unix(7)). It
 * carries sd_notify(3) messages to `$NOTIFY_SOCKET`; tests bind one to play systemd's end.
 *
 * @module
 */

import { check, checkSize, cString, lastErrno, libc } from "../../ffi/libc.ts";
import { AF_UNIX, MSG_NOSIGNAL, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK } from "../../ffi/constants.ts";
import { Errno, ErrnoError } from "../../ffi/errno.ts";
import { encodeAbstractSockaddrUn, encodeSockaddrUn, SOCKADDR_UN_SIZE } from "../../ffi/structs.ts";
import { Fd } from "./fd.ts";

/**
 * A Unix socket address as systemd writes it: a path, or `@name` for the abstract namespace.
 *
 * @param address The address.
 * @returns The sockaddr_un and its exact length.
 * @throws RangeError for an empty or too long address.
 */
export function encodeUnixAddress(address: string): { address: Uint8Array<ArrayBuffer>; length: number } {
  if (address.startsWith("@")) return encodeAbstractSockaddrUn(AF_UNIX, address.slice(1));
  return { address: encodeSockaddrUn(AF_UNIX, address), length: SOCKADDR_UN_SIZE };
}

/** An AF_UNIX datagram socket. */
export class UnixDatagram implements Disposable {
  readonly #fd: Fd;
  readonly #path: string | null;

  private constructor(fd: Fd, path: string | null) {
    this.#fd = fd;
    this.#path = path;
  }

  /**
   * An unbound socket, to send from (blocking sends: a notification must not be dropped for a full buffer).
   *
   * @returns The socket.
   * @throws ErrnoError when socket(2) fails.
   */
  static open(): UnixDatagram {
    return new UnixDatagram(
      new Fd(check(libc.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), "socket")),
      null,
    );
  }

  /**
   * A non-blocking socket bound to an address, to receive on. `close()` removes a path it created.
   *
   * @param address A path (mode 0600) or `@name`.
   * @returns The socket.
   * @throws RangeError for a bad address; ErrnoError when bind fails (EADDRINUSE).
   */
  static bind(address: string): UnixDatagram {
    const { address: sa, length } = encodeUnixAddress(address);
    const fd = new Fd(
      check(libc.socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), "socket"),
    );
    try {
      check(libc.fchmod(fd.raw, 0o600), "fchmod", `socket for ${address}`);
      check(libc.bind(fd.raw, sa, length), "bind", address);
    } catch (e) {
      fd.close();
      throw e;
    }
    return new UnixDatagram(fd, address.startsWith("@") ? null : address);
  }

  /** The raw descriptor, for reactor registration. */
  get fd(): number {
    return this.#fd.raw;
  }

  /**
   * Sends one datagram.
   *
   * @param address A path or `@name`.
   * @param bytes The datagram.
   * @throws ErrnoError (ENOENT or ECONNREFUSED: nobody is bound there; EMSGSIZE).
   */
  sendTo(address: string, bytes: Uint8Array<ArrayBuffer>): void {
    const { address: sa, length } = encodeUnixAddress(address);
    for (;;) {
      const n = libc.sendto(this.#fd.raw, bytes, BigInt(bytes.length), MSG_NOSIGNAL, sa, length);
      if (n >= 0n) return;
      const errno = lastErrno();
      if (errno !== Errno.EINTR) throw new ErrnoError(errno, "sendto", address);
    }
  }

  /**
   * Receives one datagram without waiting (a longer one is cut to `buf`'s size).
   *
   * @param buf Where it goes.
   * @returns Its length, or -1 when none is waiting.
   * @throws ErrnoError when read fails.
   */
  recv(buf: Uint8Array<ArrayBuffer>): number {
    const n = libc.read(this.#fd.raw, buf, BigInt(buf.length));
    if (n < 0n && lastErrno() === Errno.EAGAIN) return -1;
    return checkSize(n, "read");
  }

  /** Closes, and removes the path it bound; idempotent. */
  close(): void {
    if (!this.#fd.isOpen) return;
    this.#fd.close();
    if (this.#path !== null) libc.unlink(cString(this.#path));
  }

  /** `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
