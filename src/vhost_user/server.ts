/**
 * `VhostUserServer`: listens on a Unix socket and serves one front-end at a time (QEMU is the socket client).
 * Each connection gets a fresh `VhostUserHandler`; a protocol error drops that connection with a log line that
 * names the peer and says why, and the server keeps listening, so a restarted QEMU is served from a clean state.
 *
 * Nothing a front-end does stops the server (issue 14): time limits (`peer_deadline.ts`) drop a silent or
 * stalled peer, a front-end that arrives meanwhile waits for the slot (`waiting_room.ts`), drops are classified
 * into the peer's faults and the daemon's bugs (`peer.ts`), lines a peer can cause are rate-limited per VM
 * (`RateLimitedLog`), and a process out of file descriptors refuses new connections and serves the one it has.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { RateLimitedLog } from "../log/mod.ts";
import {
  EPOLLERR,
  EPOLLET,
  EPOLLHUP,
  EPOLLIN,
  monotonicMs,
  type Reactor,
  type UnixConnection,
  UnixListener,
  UnixSocketError,
} from "../os/mod.ts";
import type { Backend } from "./backend.ts";
import { VhostUserConnection } from "./connection.ts";
import { type Reply, type RingWatcher, VhostUserHandler } from "./handler.ts";
import { requestName, VhostUserError } from "./message.ts";
import type { ShrinkableMemoryPolicy } from "./memory_table.ts";
import { classifyDrop, describePeer, identifyPeer, type PeerInfo } from "./peer.ts";
import { DEFAULT_PEER_LIMITS, PeerDeadline, type PeerLimits } from "./peer_deadline.ts";
import { registerServer, unregisterServer } from "./shrinkable_guard.ts";
import type { Vring } from "./vring.ts";
import { WaitingRoom } from "./waiting_room.ts";

const log = getLogger(["cryptobridge", "vhost_user"]);

/** Options of `VhostUserServer.listen`. */
export interface ServerOptions {
  /** Socket path. */
  readonly path: string;
  /**
   * A listening socket to serve instead of creating one at `path` (a VM's thread serves the socket the main thread
   * bound; the server then only borrows it: `close()` leaves it to its owner).
   */
  readonly listener?: UnixListener;
  /** The reactor that runs everything. */
  readonly reactor: Reactor;
  /** The device served to every connection (reset between connections). */
  readonly backend: Backend;
  /** Serve rings by polling their avail index instead of waiting for kicks (`serve --poll`). */
  readonly pollMode?: boolean;
  /**
   * After a kick, keep polling that ring for this many microseconds before sleeping again (`serve --busy-poll`;
   * vhost-net's `busyloop_timeout`). Requests that arrive meanwhile are served without a kick's two thread
   * wake-ups; each one served restarts the window. 0 (default) sleeps right after each batch.
   */
  readonly busyPollUs?: number;
  /**
   * Guest RAM that can shrink (unsealed memfd, tmpfs, hugetlbfs or disk files): "refuse" (default) or "allow".
   * "allow" is only for a process that serves this one VM: a truncation then kills the process with SIGBUS and
   * no other VM's device with it, so `listen` refuses it next to any other live server in the process.
   */
  readonly shrinkableMemory?: ShrinkableMemoryPolicy;
  /** Time limits on a front-end that sends nothing, half a message, or no handshake (`DEFAULT_PEER_LIMITS`). */
  readonly peerLimits?: Partial<PeerLimits>;
}

interface Active {
  readonly connection: VhostUserConnection;
  readonly handler: VhostUserHandler;
  readonly token: number;
  readonly peer: PeerInfo;
  readonly deadline: PeerDeadline;
  paused: boolean;
}

/** A vhost-user back-end listening on a Unix socket. */
export class VhostUserServer {
  readonly #reactor: Reactor;
  readonly #backend: Backend;
  readonly #pollMode: boolean;
  readonly #listener: UnixListener;
  readonly #listenToken: number;
  readonly #polled = new Set<Vring>();
  readonly #busyPollMs: number;
  /** Rings polled for a while after a kick, with the time (`monotonicMs`, read per poll round) their window ends. */
  readonly #busy = new Map<Vring, number>();
  readonly #idle = (): boolean => this.#pollRings();
  // Created once: the poll loop calls it every round, and a closure per round is garbage per round.
  readonly #pollOnce = (): void => {
    const handler = this.#active?.handler;
    if (handler === undefined) return;
    for (const v of this.#polled) handler.processRing(v);
    if (this.#busy.size > 0) this.#pollBusy(handler);
  };
  #idleOn = false;
  #active: Active | null = null;
  /** A dropped front-end's handler still waiting for requests in flight; no new front-end meanwhile. */
  #draining: VhostUserHandler | null = null;
  #connections = 0;
  readonly #shrinkable: ShrinkableMemoryPolicy;
  readonly #limits: PeerLimits;
  readonly #log: RateLimitedLog;
  readonly #ownLog: boolean;
  readonly #waiting: WaitingRoom;

  private constructor(options: ServerOptions, listener: UnixListener) {
    this.#reactor = options.reactor;
    this.#backend = options.backend;
    this.#pollMode = options.pollMode ?? false;
    this.#busyPollMs = (options.busyPollUs ?? 0) / 1000;
    this.#shrinkable = options.shrinkableMemory ?? "refuse";
    this.#limits = { ...DEFAULT_PEER_LIMITS, ...options.peerLimits };
    this.#ownLog = options.backend.logLimit === undefined;
    this.#log = options.backend.logLimit ?? new RateLimitedLog();
    if (this.#log.label === "") this.#log.label = listener.path;
    this.#waiting = new WaitingRoom(this.#log, this.#limits);
    this.#listener = listener;
    this.#listenToken = this.#reactor.add(listener.fd, EPOLLIN, () => this.#accept());
  }

  /**
   * Listens on `options.path` (a stale socket file is replaced; a live one is an error).
   *
   * @returns The server, registered with the reactor.
   */
  static listen(options: ServerOptions): VhostUserServer {
    const key = {};
    registerServer(key, options.path, options.shrinkableMemory ?? "refuse");
    try {
      const server = new VhostUserServer(options, options.listener ?? UnixListener.listen(options.path));
      server.#guardKey = key;
      return server;
    } catch (e) {
      unregisterServer(key);
      throw e;
    }
  }

  #guardKey: object | null = null;

  /** The socket path. */
  get path(): string {
    return this.#listener.path;
  }

  /** The handler of the current connection, or null (tests, metrics). */
  get handler(): VhostUserHandler | null {
    return this.#active?.handler ?? null;
  }

  /** Connections accepted so far. */
  get connections(): number {
    return this.#connections;
  }

  #accept(): void {
    for (;;) {
      let c: UnixConnection | null;
      try {
        c = this.#listener.accept();
      } catch (e) {
        if (!(e instanceof UnixSocketError && e.kind === "fd-limit")) throw e;
        this.#log.warn(
          log,
          "fd-limit",
          "refusing a front-end on {path}: {reason}; VMs already connected are " +
            "still served (raise the limit: ulimit -n, systemd LimitNOFILE=)",
          { path: this.path, reason: e.message },
        );
        if (!this.#listener.hasReserve) this.#pauseListener(100);
        return;
      }
      if (c === null) return;
      const peer = identifyPeer(c, this.path);
      if (this.#active === null && this.#draining === null) this.#serve(c, peer);
      else this.#waiting.offer({ connection: c, peer }, this.#active?.deadline);
    }
  }

  #pauseListener(ms: number): void {
    this.#reactor.modify(this.#listenToken, 0);
    setTimeout(() => {
      if (this.#guardKey !== null && this.#draining === null) {
        this.#reactor.modify(this.#listenToken, EPOLLIN);
      }
    }, ms);
  }

  #serve(c: UnixConnection, peer: PeerInfo): void {
    this.#connections++;
    const connection = new VhostUserConnection(c);
    const handler = new VhostUserHandler(this.#backend, {
      watcher: this.#watcher(),
      pollMode: this.#pollMode,
      shrinkableMemory: this.#shrinkable,
      logLimit: this.#log,
    });
    const token = this.#reactor.add(connection.fd, EPOLLIN, (events) => this.#onReadable(events));
    const deadline = new PeerDeadline(this.#limits, (e) => this.#drop(e));
    this.#active = { connection, handler, token, peer, deadline, paused: false };
    this.#log.info(log, "connected", "{peer} connected", { peer: describePeer(peer) });
  }

  #serveWaiting(): void {
    const w = this.#waiting.take();
    if (w !== null) this.#serve(w.connection, w.peer);
  }

  #watcher(): RingWatcher {
    return {
      watch: (vring, fd, onKick) =>
        this.#reactor.add(fd, EPOLLIN | EPOLLET, () =>
          this.#guard(() => {
            onKick();
            this.#keepBusy(vring);
          })),
      unwatch: (token) => this.#reactor.remove(token),
      poll: (vring, on) => this.#setPolled(vring, on),
    };
  }

  #setPolled(vring: Vring, on: boolean): void {
    if (on) this.#polled.add(vring);
    else {
      this.#polled.delete(vring);
      this.#busy.delete(vring);
    }
    this.#updateIdle();
  }

  // A kicked ring is polled for `busyPollUs` more: a burst's next requests need no kick. Without a window, one
  // whose batch stopped at its limit with work left is polled until a round finds nothing (no kick comes for it).
  #keepBusy(vring: Vring): void {
    if (this.#polled.has(vring) || !vring.started) return;
    if (this.#busyPollMs <= 0 && vring.queue.availPending === 0) return;
    this.#busy.set(vring, monotonicMs() + this.#busyPollMs);
    this.#updateIdle();
  }

  // Switches the reactor's poll mode only on a change: setIdle wakes a pending wait, a syscall per kick otherwise.
  #updateIdle(): void {
    const on = this.#polled.size > 0 || this.#busy.size > 0;
    if (on === this.#idleOn) return;
    this.#idleOn = on;
    this.#reactor.setIdle(on ? this.#idle : undefined);
  }

  #pollRings(): boolean {
    if (this.#active !== null) this.#guard(this.#pollOnce);
    // Returning false leaves the reactor's poll mode; #idleOn follows so the next kick can turn it on again.
    this.#idleOn = this.#polled.size > 0 || this.#busy.size > 0;
    return this.#idleOn;
  }

  #pollBusy(handler: VhostUserHandler): void {
    const now = monotonicMs();
    for (const [v, until] of this.#busy) {
      const before = v.queue.nextAvail;
      handler.processRing(v);
      if (v.queue.nextAvail !== before) this.#busy.set(v, now + this.#busyPollMs);
      else if (now > until || !v.started) this.#busy.delete(v);
    }
  }

  // Runs device work; anything it throws is a bug or a broken front-end: log it and drop the connection, never the
  // daemon.
  #guard(work: () => void): void {
    try {
      work();
    } catch (e) {
      this.#drop(e);
    }
  }

  #onReadable(events: number): void {
    const a = this.#active;
    if (a === null) return;
    // Paused (a reply waits for requests in flight): only a hang-up matters, and epoll reports it whatever the
    // mask, level-triggered; leaving it unhandled would spin the reactor until the wait ends.
    if (a.paused) {
      if ((events & (EPOLLHUP | EPOLLERR)) !== 0) {
        this.#drop(new VhostUserError("peer-closed", "Front-end hung up"));
      }
      return;
    }
    const completed: number[] = [];
    try {
      for (let m = a.connection.receive(); m !== null; m = a.connection.receive()) {
        completed.push(m.header.request);
        log.debug("<- {request} ({size} bytes, {fds} fds)", {
          request: requestName(m.header.request),
          size: m.header.size,
          fds: m.fds.length,
        });
        const result = a.handler.handle(m);
        if (result instanceof Promise) {
          this.#progress(a, completed);
          return this.#await(a, result);
        }
        if (result !== null) this.#send(a, result);
        if (this.#active !== a) return;
      }
      this.#progress(a, completed);
    } catch (e) {
      this.#drop(e);
    }
  }

  // The holder's time limits follow what it sent; once it settles, a front-end waiting for its slot is refused.
  #progress(a: Active, completed: readonly number[]): void {
    a.deadline.onRead(completed, a.connection.partialBytes);
    if (!a.deadline.unsettled) this.#waiting.holderSettled();
  }

  // A request that waits for in-flight work (GET_VRING_BASE, SET_MEM_TABLE): stop reading until it is answered,
  // so replies keep their order.
  #await(a: Active, pending: Promise<Reply | null>): void {
    a.paused = true;
    this.#reactor.modify(a.token, 0);
    pending.then((reply) => {
      if (this.#active !== a) return;
      if (reply !== null) this.#send(a, reply);
      a.paused = false;
      this.#reactor.modify(a.token, EPOLLIN);
    }).catch((e) => this.#drop(e));
  }

  #send(a: Active, reply: Reply): void {
    log.debug("-> {request} reply ({size} bytes)", {
      request: requestName(reply.header.request),
      size: reply.header.size,
    });
    a.connection.send(reply.header, reply.payload);
  }

  // The peer's faults are warnings that name it and say why, without a stack; anything else is a bug of the
  // daemon and keeps its stack (issue 14, item 5). All are rate-limited: a front-end can reconnect in a loop.
  #drop(reason: unknown): void {
    const a = this.#active;
    if (a === null) return;
    const r = classifyDrop(reason);
    const peer = describePeer(a.peer);
    if (r.kind === "disconnected") {
      this.#log.info(log, "disconnected", "{peer} disconnected: {reason}", { peer, reason: r.reason });
    } else if (r.level === "warning") {
      this.#log.warn(log, `dropped-${r.kind}`, "dropping {peer}: {reason}", { peer, reason: r.reason });
    } else {
      this.#log.log(log, "error", "internal", "dropping {peer} after an internal error: {error}", {
        peer,
        error: r.error,
      });
    }
    this.#closeActive(true);
  }

  // `drain`: requests in flight on an asynchronous engine complete before the device resets and guest memory is
  // unmapped (handler.close); until then the listener is paused, as those completions still belong to this
  // front-end's rings, and a front-end waiting for the slot keeps waiting. Shutdown (`close()`) does not wait.
  #closeActive(drain = false): void {
    const a = this.#active;
    if (a === null) return;
    this.#active = null;
    a.deadline.close();
    this.#reactor.remove(a.token);
    const closing = a.handler.close({ drain });
    a.connection.close();
    this.#polled.clear();
    this.#busy.clear();
    this.#updateIdle();
    if (closing === undefined) return drain ? this.#serveWaiting() : undefined;
    log.info("waiting for requests in flight before serving another front-end");
    this.#draining = a.handler;
    this.#reactor.modify(this.#listenToken, 0);
    void closing.then(() => {
      if (this.#draining !== a.handler) return; // the server was closed meanwhile
      this.#draining = null;
      this.#reactor.modify(this.#listenToken, EPOLLIN);
      this.#serveWaiting();
    });
  }

  /** Drops the connection (closing sessions, zeroing keys), stops listening and removes the socket file. */
  close(): void {
    this.#closeActive();
    this.#waiting.close();
    const draining = this.#draining;
    this.#draining = null;
    draining?.close(); // shutting down: finish now
    this.#reactor.remove(this.#listenToken);
    this.#listener.close();
    if (this.#guardKey !== null) unregisterServer(this.#guardKey);
    this.#guardKey = null;
    if (this.#ownLog) this.#log.close();
    else this.#log.flush();
  }
}
