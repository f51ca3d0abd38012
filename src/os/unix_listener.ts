/**
 * `UnixListener`: a listening Unix stream socket bound to a path, for the vhost-user server (QEMU connects as the
 * client). A stale socket file (nobody accepts on it) is replaced; a live one is an error; `close()` removes the
 * file it created.
 *
 * @module
 */

import { check, cString, lastErrno, libc } from "../../ffi/libc.ts";
import { AF_UNIX, O_RDONLY, SOCK_CLOEXEC, SOCK_NONBLOCK } from "../../ffi/constants.ts";
import { Errno, ErrnoError } from "../../ffi/errno.ts";
import { encodeSockaddrUn, SOCKADDR_UN_PATH_MAX, SOCKADDR_UN_SIZE } from "../../ffi/structs.ts";
import { Fd } from "./fd.ts";
import { openPath } from "./file.ts";
import { newSocket, UnixConnection, type UnixConnectionOptions, UnixSocketError } from "./unix_socket.ts";
import { checkSocketPath, setOwnership } from "./socket_path.ts";

/** Options of `UnixListener.listen`. */
export interface UnixListenOptions {
  /** listen(2) backlog (default 128). */
  readonly backlog?: number;
  /** Permission bits of the socket file (default 0600): it is born 0600 whatever the umask, then set to these. */
  readonly mode?: number;
  /** Owner (uid) of the socket file; default: the process's. */
  readonly owner?: number | null;
  /** Group (gid) of the socket file; default: the process's. */
  readonly group?: number | null;
}

/** A listening Unix stream socket bound to a path; `close()` removes the socket file it created. */
export class UnixListener implements Disposable {
  readonly #fd: Fd;
  readonly #path: string;
  readonly #inode: number | null;
  readonly #owned: boolean;
  /** A spare descriptor, given up to accept and refuse a connection when the process is out of fds. */
  #reserve: Fd | null;

  private constructor(fd: Fd, path: string, inode: number | null, owned = true) {
    this.#fd = fd;
    this.#path = path;
    this.#inode = inode;
    this.#owned = owned;
    this.#reserve = openReserve();
  }

  /**
   * Checks that `listen(path)` could bind: the directory is safe, and what is at the path (if anything) is a
   * socket of ours that nobody serves. Binds nothing, so a daemon checks every path before it binds any.
   *
   * @param path The socket path.
   * @param owner The uid the socket file will be given, or null (the daemon's user): a stale file of theirs is
   *   no squat.
   * @throws UnixSocketError `unsafe-directory`, `squatted`, `in-use`, `not-a-socket`.
   */
  static check(path: string, owner: number | null = null): void {
    checkSocketPath(path, owner);
    let info: Deno.FileInfo;
    try {
      info = Deno.lstatSync(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      throw e;
    }
    if (!info.isSocket) {
      throw new UnixSocketError("not-a-socket", `Cannot listen on ${path}: it exists and is not a socket`);
    }
    if (isServed(encodeSockaddrUn(AF_UNIX, path), path)) {
      throw new UnixSocketError("in-use", `Cannot listen on ${path}: another process is serving it`);
    }
  }

  /**
   * A listener over a socket another part of the process owns (a VM's thread accepts on the socket the main thread
   * bound: fd numbers are the process's, valid in every thread). `close()` of the borrowed one only stops using it:
   * the owner closes the fd and removes the file.
   *
   * @param fd The listening socket's descriptor.
   * @param path Its path (for messages).
   * @returns The borrowed listener.
   */
  static borrow(fd: number, path: string): UnixListener {
    return new UnixListener(Fd.borrow(fd), path, null, false); // never closed here: see close()
  }

  /**
   * Binds and listens; the socket file appears at `path` only once it listens (bound under a hidden name, then
   * renamed). A stale socket file at `path` (nobody accepts: connect gives ECONNREFUSED) is replaced.
   *
   * @param path The socket path (at most 107 bytes).
   * @param options The backlog.
   * @returns The listener.
   * @throws RangeError for a path that is too long; UnixSocketError("in-use") when another process is serving
   *   the path, ("not-a-socket") when something else is there; ErrnoError when a call fails.
   */
  static listen(path: string, options: UnixListenOptions = {}): UnixListener {
    checkSocketPath(path, options.owner ?? null);
    const fd = newSocket();
    let bound: string | null = null;
    try {
      bound = bindPrivately(fd, path);
      setOwnership(bound, options);
      check(libc.listen(fd.raw, options.backlog ?? 128), "listen", `on ${path}`);
      if (bound !== path) publish(bound, path);
      bound = path;
      return new UnixListener(fd, path, Deno.lstatSync(path).ino);
    } catch (e) {
      if (bound !== null) libc.unlink(cString(bound));
      fd.close();
      throw e;
    }
  }

  /** The raw descriptor, for reactor registration (readable = a connection is waiting). */
  get fd(): number {
    return this.#fd.raw;
  }

  /** The socket path. */
  get path(): string {
    return this.#path;
  }

  /**
   * Accepts one waiting connection without blocking (accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC).
   *
   * @param options Options of the new connection.
   * When the process is out of descriptors (EMFILE, ENFILE), the waiting connection is accepted with the spare
   * descriptor and closed at once, so the peer sees its connection refused instead of hanging in the backlog
   * (and the level-triggered listener does not spin the reactor), and `UnixSocketError("fd-limit")` says so.
   *
   * @param options Options of the new connection.
   * @returns The connection, or null when none is waiting (EAGAIN).
   * @throws UnixSocketError("fd-limit") after refusing a connection for want of descriptors (`cause` is the
   *   ErrnoError; without a spare, nothing was refused and the caller should stop accepting for a while);
   *   ErrnoError when accept4 fails otherwise.
   */
  accept(options?: UnixConnectionOptions): UnixConnection | null {
    for (;;) {
      const raw = libc.accept4(this.#fd.raw, null, null, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (raw >= 0) return new UnixConnection(new Fd(raw), options);
      const errno = lastErrno();
      if (errno === Errno.EAGAIN) return null;
      if (errno === Errno.EMFILE || errno === Errno.ENFILE) this.#refuseOverLimit(errno);
      if (errno !== Errno.EINTR) throw new ErrnoError(errno, "accept4", `on ${this.#path}`);
    }
  }

  /** Whether a spare descriptor is held for refusing connections over the fd limit. */
  get hasReserve(): boolean {
    return this.#reserve !== null;
  }

  #refuseOverLimit(errno: number): never {
    const cause = new ErrnoError(errno, "accept4", `on ${this.#path}`);
    const reserve = this.#reserve;
    this.#reserve = null;
    let refused = false;
    if (reserve !== null) {
      reserve.close();
      const raw = libc.accept4(this.#fd.raw, null, null, SOCK_CLOEXEC);
      if (raw >= 0) {
        libc.close(raw);
        refused = true;
      }
      this.#reserve = openReserve();
    }
    throw new UnixSocketError(
      "fd-limit",
      `Cannot accept a connection on ${this.#path}: the process has no file descriptor left (${cause.code})` +
        (refused ? ": refused it" : ": it waits in the backlog"),
      { cause },
    );
  }

  /** Removes the socket file (if it is still the one this listener created) and closes; idempotent. */
  close(): void {
    this.#reserve?.close();
    this.#reserve = null;
    if (!this.#owned) return;
    if (!this.#fd.isOpen) return;
    try {
      if (Deno.lstatSync(this.#path).ino === this.#inode) libc.unlink(cString(this.#path));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    } finally {
      this.#fd.close();
    }
  }

  /** `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

function openReserve(): Fd | null {
  try {
    return openPath("/dev/null", O_RDONLY);
  } catch {
    return null; // out of descriptors already: refusals then wait for one
  }
}

/**
 * Binds under a hidden name beside `path` (or at `path` itself when that name would not fit in sockaddr_un or is
 * taken), so that the socket file appears at `path` only once it listens: a front-end that waits for the file
 * (`bench`, a script, QEMU started right after the daemon) never connects before listen(2) and gets ECONNREFUSED,
 * nor finds it 0600 before its owner and mode are set.
 *
 * @returns The path bound.
 */
function bindPrivately(fd: Fd, path: string): string {
  // umask is the process's: 0177 only around bind(2), so the file is never more open than 0600 meanwhile.
  const umask = libc.umask(0o177);
  try {
    const staging = stagingPath(path);
    if (staging !== null && libc.bind(fd.raw, encodeSockaddrUn(AF_UNIX, staging), SOCKADDR_UN_SIZE) === 0) {
      return staging;
    }
    bindReplacingStale(fd, encodeSockaddrUn(AF_UNIX, path), path);
    return path;
  } finally {
    libc.umask(umask);
  }
}

/** A hidden, unguessable name in `path`'s directory, or null when it would be too long for sockaddr_un. */
function stagingPath(path: string): string | null {
  const random = crypto.getRandomValues(new Uint8Array(6));
  const name = `.cryptobridge-${Array.from(random, (b) => b.toString(16).padStart(2, "0")).join("")}.binding`;
  const slash = path.lastIndexOf("/");
  const staging = slash < 0 ? name : path.slice(0, slash + 1) + name;
  return new TextEncoder().encode(staging).length <= SOCKADDR_UN_PATH_MAX ? staging : null;
}

/** Moves the listening socket's file from `staging` onto `path`, replacing a stale socket, never a live one. */
function publish(staging: string, path: string): void {
  removeStale(encodeSockaddrUn(AF_UNIX, path), path);
  check(libc.rename(cString(staging), cString(path)), "rename", `${staging} to ${path}`);
}

function bindReplacingStale(fd: Fd, address: Uint8Array<ArrayBuffer>, path: string): void {
  if (libc.bind(fd.raw, address, SOCKADDR_UN_SIZE) === 0) return;
  const errno = lastErrno();
  if (errno !== Errno.EADDRINUSE) throw new ErrnoError(errno, "bind", path);
  removeStale(address, path);
  check(libc.bind(fd.raw, address, SOCKADDR_UN_SIZE), "bind", path);
}

/** Unlinks `path` if it is a socket nobody accepts on; throws if it is served or is not a socket. */
function removeStale(address: Uint8Array<ArrayBuffer>, path: string): void {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return; // removed meanwhile: bind again
    throw e;
  }
  if (!info.isSocket) {
    throw new UnixSocketError("not-a-socket", `Cannot listen on ${path}: it exists and is not a socket`);
  }
  if (isServed(address, path)) {
    throw new UnixSocketError("in-use", `Cannot listen on ${path}: another process is serving it`);
  }
  if (libc.unlink(cString(path)) < 0) {
    const errno = lastErrno();
    if (errno !== Errno.ENOENT) throw new ErrnoError(errno, "unlink", path);
  }
}

function isServed(address: Uint8Array<ArrayBuffer>, path: string): boolean {
  const probe = newSocket();
  try {
    if (libc.connect(probe.raw, address, SOCKADDR_UN_SIZE) === 0) return true;
    const errno = lastErrno();
    if (errno === Errno.ECONNREFUSED) return false;
    if (errno === Errno.EAGAIN) return true; // listening, with a full backlog
    throw new ErrnoError(errno, "connect", `to ${path}`);
  } finally {
    probe.close();
  }
}
