/**
 * `VhostUserServer`: listens on a Unix socket and serves one front-end at a time (QEMU is the socket client).
 * Each connection gets a fresh `VhostUserHandler`; a protocol error drops that connection with a log line that
 * says why, and the server keeps listening, so a restarted QEMU is served from a clean state.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { EPOLLIN, type Reactor, UnixListener } from "../os/mod.ts";
import type { Backend } from "./backend.ts";
import { VhostUserConnection } from "./connection.ts";
import { type Reply, type RingWatcher, VhostUserHandler } from "./handler.ts";
import { requestName, VhostUserError } from "./message.ts";
import type { ShrinkableMemoryPolicy } from "./memory_table.ts";
import type { Vring } from "./vring.ts";

const log = getLogger(["cryptobridge", "vhost_user"]);

/** Options of `VhostUserServer.listen`. */
export interface ServerOptions {
  /** Socket path. */
  readonly path: string;
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
}

/** Servers alive in this process, by path, with their shrinkable-memory policy (see `ServerOptions`). */
const live = new Map<VhostUserServer, { path: string; shrinkable: ShrinkableMemoryPolicy }>();

interface Active {
  readonly connection: VhostUserConnection;
  readonly handler: VhostUserHandler;
  readonly token: number;
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
  /** Rings polled for a while after a kick, with the time (performance.now) their window ends. */
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

  private constructor(options: ServerOptions, listener: UnixListener) {
    this.#reactor = options.reactor;
    this.#backend = options.backend;
    this.#pollMode = options.pollMode ?? false;
    this.#busyPollMs = (options.busyPollUs ?? 0) / 1000;
    this.#shrinkable = options.shrinkableMemory ?? "refuse";
    this.#listener = listener;
    this.#listenToken = this.#reactor.add(listener.fd, EPOLLIN, () => this.#accept());
  }

  /**
   * Listens on `options.path` (a stale socket file is replaced; a live one is an error).
   *
   * @returns The server, registered with the reactor.
   */
  static listen(options: ServerOptions): VhostUserServer {
    checkShrinkableAlone(options);
    const server = new VhostUserServer(options, UnixListener.listen(options.path));
    live.set(server, { path: options.path, shrinkable: server.#shrinkable });
    return server;
  }

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
    for (let c = this.#listener.accept(); c !== null; c = this.#listener.accept()) {
      if (this.#active !== null) {
        log.warn("refusing a second front-end: one is already connected to {path}", { path: this.path });
        c.close();
        continue;
      }
      this.#connections++;
      const connection = new VhostUserConnection(c);
      const handler = new VhostUserHandler(this.#backend, {
        watcher: this.#watcher(),
        pollMode: this.#pollMode,
        shrinkableMemory: this.#shrinkable,
      });
      const token = this.#reactor.add(connection.fd, EPOLLIN, () => this.#onReadable());
      this.#active = { connection, handler, token, paused: false };
      log.info("front-end connected to {path}", { path: this.path });
    }
  }

  #watcher(): RingWatcher {
    return {
      watch: (vring, fd, onKick) =>
        this.#reactor.add(fd, EPOLLIN, () =>
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

  // A kicked ring is polled for `busyPollUs` more: a burst's next requests need no kick.
  #keepBusy(vring: Vring): void {
    if (this.#busyPollMs <= 0 || this.#polled.has(vring) || !vring.started) return;
    this.#busy.set(vring, performance.now() + this.#busyPollMs);
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
    const now = performance.now();
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

  #onReadable(): void {
    const a = this.#active;
    if (a === null || a.paused) return;
    try {
      for (let m = a.connection.receive(); m !== null; m = a.connection.receive()) {
        log.debug("<- {request} ({size} bytes, {fds} fds)", {
          request: requestName(m.header.request),
          size: m.header.size,
          fds: m.fds.length,
        });
        const result = a.handler.handle(m);
        if (result instanceof Promise) return this.#await(a, result);
        if (result !== null) this.#send(a, result);
        if (this.#active !== a) return;
      }
    } catch (e) {
      this.#drop(e);
    }
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

  #drop(reason: unknown): void {
    const a = this.#active;
    if (a === null) return;
    if (reason instanceof VhostUserError && reason.kind === "peer-closed") {
      log.info("front-end disconnected: {reason}", { reason: reason.message });
    } else if (reason instanceof VhostUserError) {
      log.warn("dropping front-end connection: {reason}", { reason: reason.message });
    } else {
      log.error("dropping front-end connection after an internal error: {error}", { error: reason });
    }
    this.#closeActive(true);
  }

  // `drain`: requests in flight on an asynchronous engine complete before the device resets and guest memory is
  // unmapped (handler.close); until then the listener is paused, as those completions still belong to this
  // front-end's rings. Shutdown (`close()`) does not wait.
  #closeActive(drain = false): void {
    const a = this.#active;
    if (a === null) return;
    this.#active = null;
    this.#reactor.remove(a.token);
    const closing = a.handler.close({ drain });
    a.connection.close();
    this.#polled.clear();
    this.#busy.clear();
    this.#updateIdle();
    if (closing === undefined) return;
    log.info("waiting for requests in flight before serving another front-end");
    this.#draining = a.handler;
    this.#reactor.modify(this.#listenToken, 0);
    void closing.then(() => {
      if (this.#draining !== a.handler) return; // the server was closed meanwhile
      this.#draining = null;
      this.#reactor.modify(this.#listenToken, EPOLLIN);
    });
  }

  /** Drops the connection (closing sessions, zeroing keys), stops listening and removes the socket file. */
  close(): void {
    this.#closeActive();
    const draining = this.#draining;
    this.#draining = null;
    draining?.close(); // shutting down: finish now
    this.#reactor.remove(this.#listenToken);
    this.#listener.close();
    live.delete(this);
  }
}

/** Thrown by `listen` when allowing shrinkable memory would put other VMs at risk. */
export class ShrinkableMemoryError extends Error {
  override name = "ShrinkableMemoryError";
}

// A SIGBUS ends the whole process: memory that can shrink is served only by a process serving nothing else.
function checkShrinkableAlone(options: ServerOptions): void {
  const others = [...live.values()];
  const allowing = others.find((o) => o.shrinkable === "allow");
  if (options.shrinkableMemory === "allow" && others.length > 0) {
    throw new ShrinkableMemoryError(
      `Cannot allow shrinkable memory on ${options.path}: this process also serves ${
        others.map((o) => o.path).join(", ")
      }, whose devices a truncation would kill too: serve it from a process of its own`,
    );
  }
  if (allowing !== undefined) {
    throw new ShrinkableMemoryError(
      `Cannot serve ${options.path} here: this process allows shrinkable memory on ${allowing.path}, and a ` +
        "truncation there would kill this device too: serve it from another process",
    );
  }
}
