/**
 * Honest logs about front-ends (issue 14, item 5): who the peer is (pid, command, uid from SO_PEERCRED, and the
 * socket), and what a dropped connection was. A peer that stops reading, resets or vanishes is the peer's doing:
 * a warning that names it and says why, with no stack trace. A stack trace is kept for what is a bug in the
 * daemon: anything that is not one of the peer faults below.
 *
 * @module
 */

import {
  Errno,
  ErrnoError,
  peerCredentials,
  Sysfs,
  type UnixConnection,
  UnixSocketError,
} from "../os/mod.ts";
import { VhostUserError } from "./message.ts";

/** A connected front-end, as log lines name it. */
export interface PeerInfo {
  /** Its process id, or -1 when unknown. */
  readonly pid: number;
  /** Its user id, or -1 when unknown. */
  readonly uid: number;
  /** Its command name (/proc/PID/comm), or "" when unknown. */
  readonly command: string;
  /** The socket it connected to. */
  readonly socket: string;
}

const proc = new Sysfs("/proc");

/**
 * Who is on the other end of a freshly accepted connection.
 *
 * @param connection The connection.
 * @param socket The socket path it came in on.
 * @returns The peer, with what the kernel could tell.
 */
export function identifyPeer(connection: UnixConnection, socket: string): PeerInfo {
  let cred: { readonly pid: number; readonly uid: number } | null = null;
  try {
    cred = peerCredentials(connection.fd);
  } catch {
    cred = null; // the kernel cannot say (not a connected Unix socket any more): the socket still names it
  }
  let command = "";
  if (cred !== null && cred.pid > 0) {
    try {
      command = proc.readText(`${cred.pid}/comm`)?.trim() ?? "";
    } catch {
      command = ""; // gone already, or /proc hidden: the pid still names it
    }
  }
  return { pid: cred?.pid ?? -1, uid: cred?.uid ?? -1, command, socket };
}

/**
 * A peer for a log line: `front-end pid 4242 (qemu-system-x86) uid 0 on /run/vm1.sock`.
 *
 * @param p The peer.
 * @returns The text.
 */
export function describePeer(p: PeerInfo): string {
  const who = p.pid > 0 ? `pid ${p.pid}${p.command === "" ? "" : ` (${p.command})`} uid ${p.uid}` : "unknown";
  return `front-end ${who} on ${p.socket}`;
}

/** What kind of end a connection came to. */
export type DropKind =
  | "disconnected"
  | "reset"
  | "stopped-reading"
  | "vanished"
  | "fds-dropped"
  | "stalled"
  | "protocol"
  | "internal";

/** How to log a dropped connection. */
export interface DropReport {
  readonly kind: DropKind;
  /** info for an orderly disconnect, warning for a peer's fault, error for a bug of the daemon. */
  readonly level: "info" | "warning" | "error";
  /** What happened, in words (no stack). */
  readonly reason: string;
  /** Only for `internal`: the error itself, whose stack the log keeps. */
  readonly error?: unknown;
}

/** Thrown when a front-end overran a time limit (see `peer_deadline.ts`). */
export class PeerStalledError extends Error {
  override name = "PeerStalledError";
}

/**
 * Sorts the reason a connection is dropped into the peer's faults and the daemon's bugs.
 *
 * @param reason What was thrown (or the error the server dropped it for).
 * @returns How to log it.
 */
export function classifyDrop(reason: unknown): DropReport {
  if (reason instanceof VhostUserError) {
    if (reason.kind === "peer-closed") return { kind: "disconnected", level: "info", reason: reason.message };
    if (reason.kind === "io") return classifyIo(reason.cause, reason.message);
    return { kind: "protocol", level: "warning", reason: reason.message };
  }
  if (reason instanceof PeerStalledError) {
    return { kind: "stalled", level: "warning", reason: reason.message };
  }
  const io = classifyIo(reason, "");
  if (io.kind !== "internal") return io;
  return {
    kind: "internal",
    level: "error",
    reason: (reason as Error)?.message ?? String(reason),
    error: reason,
  };
}

function classifyIo(cause: unknown, message: string): DropReport {
  if (cause instanceof UnixSocketError) {
    if (cause.kind === "send-timeout") {
      return {
        kind: "stopped-reading",
        level: "warning",
        reason: `it stopped reading replies (${cause.message})`,
      };
    }
    if (cause.kind === "control-truncated") {
      return {
        kind: "fds-dropped",
        level: "warning",
        reason: `the kernel dropped its fds (${cause.message})`,
      };
    }
  }
  if (cause instanceof ErrnoError) {
    if (cause.errno === Errno.ECONNRESET) {
      return { kind: "reset", level: "warning", reason: "it reset the connection (ECONNRESET)" };
    }
    if (cause.errno === Errno.EPIPE || cause.errno === Errno.ENOTCONN) {
      return {
        kind: "vanished",
        level: "warning",
        reason: `it vanished while a reply was sent (${cause.code})`,
      };
    }
  }
  const unknown = message === "" ? cause : new Error(message, { cause });
  return {
    kind: "internal",
    level: "error",
    reason: (unknown as Error)?.message ?? String(cause),
    error: unknown,
  };
}
