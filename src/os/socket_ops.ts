/**
 * Two socket calls for servers that must never block their thread on a client (the control socket): a send that
 * takes only what the socket buffer holds now, and the peer's credentials (SO_PEERCRED).
 *
 * @module
 */

import { check, lastErrno, libc } from "../../ffi/libc.ts";
import { MSG_DONTWAIT, MSG_NOSIGNAL, SO_PEERCRED, SOL_SOCKET } from "../../ffi/constants.ts";
import { Errno, ErrnoError } from "../../ffi/errno.ts";
import { UCRED_GID, UCRED_PID, UCRED_SIZE, UCRED_UID } from "../../ffi/structs.ts";

/** A peer's credentials (`struct ucred`), as the kernel recorded them at connect(2). */
export interface PeerCredentials {
  /** Its process id. */
  readonly pid: number;
  /** Its user id. */
  readonly uid: number;
  /** Its group id. */
  readonly gid: number;
}

/**
 * Sends what the socket buffer takes now (send with MSG_DONTWAIT | MSG_NOSIGNAL: a closed peer is EPIPE, not
 * SIGPIPE). The caller queues the rest and waits for EPOLLOUT.
 *
 * @param fd A connected stream socket.
 * @param bytes The data (non-empty).
 * @returns Bytes sent: 0 when the buffer is full (EAGAIN).
 * @throws ErrnoError (EPIPE, ECONNRESET).
 */
export function sendNow(fd: number, bytes: Uint8Array<ArrayBuffer>): number {
  for (;;) {
    const n = libc.sendto(fd, bytes, BigInt(bytes.length), MSG_NOSIGNAL | MSG_DONTWAIT, null, 0);
    if (n >= 0n) return Number(n);
    const errno = lastErrno();
    if (errno === Errno.EAGAIN) return 0;
    if (errno !== Errno.EINTR) throw new ErrnoError(errno, "send");
  }
}

/**
 * Who is at the other end of a Unix stream socket (SO_PEERCRED).
 *
 * @param fd A connected Unix stream socket.
 * @returns The peer's process, user and group at connect(2) time.
 * @throws ErrnoError when getsockopt fails.
 */
export function peerCredentials(fd: number): PeerCredentials {
  const cred = new DataView(new ArrayBuffer(UCRED_SIZE));
  const len = new Uint32Array([UCRED_SIZE]);
  check(
    libc.getsockopt(fd, SOL_SOCKET, SO_PEERCRED, new Uint8Array(cred.buffer), new Uint8Array(len.buffer)),
    "getsockopt",
    "SO_PEERCRED",
  );
  return {
    pid: cred.getInt32(UCRED_PID, true),
    uid: cred.getUint32(UCRED_UID, true),
    gid: cred.getUint32(UCRED_GID, true),
  };
}
