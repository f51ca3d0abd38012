/**
 * `ControlServer`: the daemon's control socket (docs/control.md). JSON-RPC 2.0, one request per line, over a Unix
 * stream socket created mode 0600 whatever the umask (only the daemon's user, and root, may connect), in a
 * reactor: the daemon's main-thread reactor, or one of its own.
 *
 * Beyond the socket's mode, each client's credentials (SO_PEERCRED) are checked, so a socket given a wider mode by
 * mistake still admits only the daemon's user and root. Clients beyond `maxConnections` get one error line and
 * are closed.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import {
  effectiveUid,
  EPOLLIN,
  type PeerCredentials,
  peerCredentials,
  Reactor,
  sendNow,
  type UnixConnection,
  UnixListener,
} from "../os/mod.ts";
import { type ConnectionLimits, ControlConnection } from "./connection.ts";
import { DEFAULT_MAX_BATCH } from "./dispatch.ts";
import { ErrorCode, failure, RpcError } from "./protocol.ts";
import type { DaemonControl } from "./reports.ts";

const log = getLogger(["cryptobridge", "control"]);

/** Defaults of the limits. */
export const CONTROL_DEFAULTS = {
  mode: 0o600,
  maxConnections: 16,
  maxLineBytes: 64 * 1024,
  maxBatch: DEFAULT_MAX_BATCH,
  maxQueuedLines: 32,
  maxOutputBytes: 16 * 1024 * 1024,
} as const;

/** Options of `ControlServer.listen`. */
export interface ControlServerOptions extends Partial<ConnectionLimits> {
  /** The socket path (a stale socket file is replaced; a served one is an error). */
  readonly path: string;
  /** What answers the methods. */
  readonly control: DaemonControl;
  /** The reactor to serve in (the daemon's main thread's); default: one of its own, closed with the server. */
  readonly reactor?: Reactor;
  /** Permission bits of the socket file. Default 0600. */
  readonly mode?: number;
  /** Clients at once; more get a -32000 error and are closed. Default 16. */
  readonly maxConnections?: number;
  /** Who may use the socket, by credentials. Default: root and the daemon's own user. */
  readonly allowPeer?: (peer: PeerCredentials) => boolean;
}

/** The control socket, serving. */
export class ControlServer {
  readonly #listener: UnixListener;
  readonly #reactor: Reactor;
  readonly #ownReactor: Promise<void> | null;
  readonly #token: number;
  readonly #options: ControlServerOptions;
  readonly #limits: ConnectionLimits;
  readonly #clients = new Set<ControlConnection>();
  #closing: Promise<void> | null = null;

  private constructor(listener: UnixListener, reactor: Reactor, own: boolean, options: ControlServerOptions) {
    this.#listener = listener;
    this.#reactor = reactor;
    this.#options = options;
    this.#limits = {
      maxLineBytes: options.maxLineBytes ?? CONTROL_DEFAULTS.maxLineBytes,
      maxBatch: options.maxBatch ?? CONTROL_DEFAULTS.maxBatch,
      maxQueuedLines: options.maxQueuedLines ?? CONTROL_DEFAULTS.maxQueuedLines,
      maxOutputBytes: options.maxOutputBytes ?? CONTROL_DEFAULTS.maxOutputBytes,
    };
    this.#token = reactor.add(listener.fd, EPOLLIN, () => this.#acceptAll());
    this.#ownReactor = own ? reactor.run() : null;
  }

  /**
   * Listens on the socket and serves until `close()`.
   *
   * @param options Path, daemon, reactor, mode and limits.
   * @returns The server.
   * @throws RangeError for a limit out of range; UnixSocketError (`in-use`, `not-a-socket`); ErrnoError.
   */
  static listen(options: ControlServerOptions): ControlServer {
    checkLimits(options);
    const listener = UnixListener.listen(options.path, { mode: options.mode ?? CONTROL_DEFAULTS.mode });
    const own = options.reactor === undefined;
    const reactor = options.reactor ??
      new Reactor({ onError: (error) => log.error("control socket handler failed: {error}", { error }) });
    try {
      return new ControlServer(listener, reactor, own, options);
    } catch (e) {
      listener.close();
      if (own) reactor.close();
      throw e;
    }
  }

  /** The socket path. */
  get path(): string {
    return this.#listener.path;
  }

  /** Clients connected now. */
  get connections(): number {
    return this.#clients.size;
  }

  /**
   * Stops: closes every client and the socket (its file removed), and its own reactor if it has one. Idempotent.
   *
   * @returns Once stopped.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#reactor.remove(this.#token);
      for (const c of [...this.#clients]) c.close();
      this.#listener.close();
      if (this.#ownReactor !== null) {
        this.#reactor.stop();
        await this.#ownReactor.catch((e) => log.error("control reactor failed: {error}", { error: e }));
        this.#reactor.close();
      }
    })();
    return this.#closing;
  }

  #acceptAll(): void {
    for (let conn = this.#listener.accept(); conn !== null; conn = this.#listener.accept()) {
      this.#admit(conn);
    }
  }

  #admit(conn: UnixConnection): void {
    const peer = peerCredentials(conn.fd);
    const allow = this.#options.allowPeer ??
      ((p: PeerCredentials) => p.uid === 0 || p.uid === effectiveUid());
    if (!allow(peer)) {
      log.warning("control socket: refused uid {uid} (pid {pid})", { uid: peer.uid, pid: peer.pid });
      refuse(conn, ErrorCode.PERMISSION_DENIED, `Permission denied: uid ${peer.uid} may not use this socket`);
      return;
    }
    const max = this.#options.maxConnections ?? CONTROL_DEFAULTS.maxConnections;
    if (this.#clients.size >= max) {
      refuse(conn, ErrorCode.SERVER_BUSY, `Server busy: ${max} clients are connected: close one and retry`);
      return;
    }
    const client = new ControlConnection(conn, {
      reactor: this.#reactor,
      control: this.#options.control,
      limits: this.#limits,
      onClose: (c) => this.#clients.delete(c),
    });
    this.#clients.add(client);
  }
}

/** One error line, if the socket takes it at once, then close. */
function refuse(conn: UnixConnection, code: number, message: string): void {
  try {
    const line = `${JSON.stringify(failure(null, new RpcError(code, message)))}\n`;
    sendNow(conn.fd, new TextEncoder().encode(line) as Uint8Array<ArrayBuffer>);
  } catch {
    // the client is gone already
  } finally {
    conn.close();
  }
}

function checkLimits(options: ControlServerOptions): void {
  const limits: [string, number | undefined, number][] = [
    ["maxConnections", options.maxConnections, 4096],
    ["maxLineBytes", options.maxLineBytes, 1 << 26],
    ["maxBatch", options.maxBatch, 65536],
    ["maxQueuedLines", options.maxQueuedLines, 65536],
    ["maxOutputBytes", options.maxOutputBytes, 1 << 30],
  ];
  for (const [name, v, max] of limits) {
    if (v !== undefined && (!Number.isInteger(v) || v < 1 || v > max)) {
      throw new RangeError(
        `Cannot listen on the control socket: ${name} must be in 1..${max}: current value is ${v}`,
      );
    }
  }
}
