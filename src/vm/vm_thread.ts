/**
 * `VmThread`: the main thread's handle on one VM's Worker. It starts the Worker on the VM's socket (bound by the
 * main thread), asks it for snapshots, passes log levels and accelerator events on, serves its synchronous calls,
 * stops it, and starts a new one on the same socket when the thread dies (a bug: logged with its stack), at most
 * once a second so a thread that dies at start cannot spin. What a dead thread left open (the front-end's socket,
 * guest memory, its epoll set) is reclaimed through its resource ledger (src/os/ledger.ts) before the next one starts.
 *
 * @module
 */

import type { LogLevel } from "@logtape/logtape";
import { getLogger } from "@logtape/logtape";
import type { LogFormat } from "../logging/format.ts";
import { ResourceLedger, type UnixListener } from "../os/mod.ts";
import { CommandSender, createCallBuffer, type IncomingCall, SyncCallee } from "../threads/mod.ts";
import type { VmConfig } from "./config.ts";
import type { VmCommand, VmEvent, WorkerInit } from "./messages.ts";
import type { ServingMode, VmSnapshot } from "./vm_service.ts";

const log = getLogger(["cryptobridge", "vm"]);

/** How long a Worker may take to answer, to start, and to stop before it is terminated. */
const REPLY_MS = 5000;
const STOP_MS = 10_000;
const RESTART_MS = 1000;
/** After a thread died or was terminated, how long before its resources are reclaimed (it has ended by then). */
const RECLAIM_MS = 100;

/** A VM's way to the shared accelerator, on the main thread's side. */
export interface VmAccelLink {
  /** Attaches a new thread of the VM; returns the ticket posted to it. */
  attach(events: (event: unknown) => void): unknown;
  /** Serves one of the thread's synchronous calls (sessions, DMA mappings). */
  call(call: IncomingCall): unknown;
  /** The thread ended; `clean`: it let go of its queue (it stopped) rather than died. */
  detach(clean: boolean): void;
}

/** What a VM's thread is started with. */
export interface VmThreadOptions {
  readonly config: VmConfig;
  /** The VM's socket, bound by the main thread (which keeps owning it). */
  readonly listener: UnixListener;
  readonly logLevel: LogLevel;
  /** Log line format (default text). */
  readonly logFormat?: LogFormat;
  readonly serving: ServingMode;
  /** This VM's way to the accelerator, or null: software only. */
  readonly accel: VmAccelLink | null;
}

interface Incarnation {
  readonly worker: Worker;
  readonly commands: CommandSender;
  readonly callee: SyncCallee;
  readonly calls: SharedArrayBuffer;
  /** The thread's descriptors and mappings, reclaimed here if it dies. */
  readonly ledger: ResourceLedger;
  readonly ready: Promise<void>;
  readonly stopped: Promise<VmSnapshot | null>;
  /** The thread died: its command eventfd is closed; a replacement may be starting. */
  dead: boolean;
}

/** A caller waiting for a dead thread's replacement. */
interface Waiter {
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}

/** A VM served on its own Worker. */
export class VmThread {
  /** The settings. */
  readonly config: VmConfig;
  readonly #options: VmThreadOptions;
  readonly #replies = new Map<number, (s: VmSnapshot) => void>();
  #current: Incarnation;
  #nextId = 1;
  #stopping = false;
  #restarts = 0;
  #tid = 0;
  #logLevel: LogLevel;
  /** Callers that arrived between a thread's death and its replacement's start. */
  readonly #waiting: Waiter[] = [];

  private constructor(options: VmThreadOptions) {
    this.#options = options;
    this.config = options.config;
    this.#logLevel = options.logLevel;
    this.#current = this.#spawn();
  }

  /**
   * Starts the VM's thread and waits until it serves its socket.
   *
   * @param options Settings, socket and the main thread's services.
   * @returns The running thread.
   * @throws Error when the thread cannot set the VM up (the message says why).
   */
  static async start(options: VmThreadOptions): Promise<VmThread> {
    const t = new VmThread(options);
    try {
      await t.#current.ready;
    } catch (e) {
      t.#stopping = true;
      t.#current.worker.terminate();
      t.#current.commands.close();
      throw e;
    }
    return t;
  }

  /** Times the thread was started again after it died. */
  get restarts(): number {
    return this.#restarts;
  }

  /** False between the thread's death and its replacement's start. */
  get alive(): boolean {
    return !this.#current.dead;
  }

  /** The kernel id of the VM's thread (0 before it is ready). */
  get tid(): number {
    return this.#tid;
  }

  #spawn(): Incarnation {
    const worker = new Worker(new URL("./vm_worker.ts", import.meta.url).href, { type: "module" });
    const commands = new CommandSender();
    const calls = createCallBuffer();
    const callee = new SyncCallee(calls);
    let ready!: { resolve: () => void; reject: (e: Error) => void };
    let stopped!: (s: VmSnapshot | null) => void;
    const inc: Incarnation = {
      worker,
      commands,
      callee,
      calls,
      ledger: new ResourceLedger(ResourceLedger.createBuffer()),
      ready: new Promise<void>((resolve, reject) => ready = { resolve, reject }),
      stopped: new Promise<VmSnapshot | null>((resolve) => stopped = resolve),
      dead: false,
    };
    worker.onmessage = (e: MessageEvent<VmEvent>) => this.#event(inc, e.data, ready, stopped);
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault(); // the daemon lives on: only this VM's thread ended
      inc.dead = true;
      ready.reject(new Error(`VM ${this.config.name}: its thread failed: ${e.message}`));
      stopped(null);
      this.#options.accel?.detach(false);
      this.#died(inc, e);
    };
    const accel = this.#options.accel?.attach((event) => this.accelEvent(event)) ?? null;
    worker.postMessage(this.#init(inc, accel) satisfies WorkerInit);
    return inc;
  }

  #init(inc: Incarnation, accel: unknown): WorkerInit {
    const o = this.#options;
    return {
      type: "init",
      config: o.config,
      listenFd: o.listener.fd,
      commands: inc.commands.ends,
      calls: inc.calls,
      ledger: inc.ledger.buffer,
      logLevel: this.#logLevel,
      logFormat: o.logFormat ?? "text",
      serving: o.serving,
      accel,
    };
  }

  #event(
    inc: Incarnation,
    event: VmEvent,
    ready: { resolve: () => void; reject: (e: Error) => void },
    stopped: (s: VmSnapshot | null) => void,
  ): void {
    switch (event.type) {
      case "ready":
        this.#tid = event.tid;
        ready.resolve();
        return;
      case "failed":
        ready.reject(new Error(`VM ${this.config.name}: ${event.message}`));
        return;
      case "reply":
        this.#replies.get(event.id)?.(event.value);
        this.#replies.delete(event.id);
        return;
      case "sync-call":
        inc.callee.serve((call) => {
          const link = this.#options.accel;
          if (link === null) throw new Error(`Cannot serve ${call.method}: this daemon has no accelerator`);
          return link.call(call);
        });
        return;
      case "stopped":
        stopped(event.snapshot);
        return;
      case "accel":
        return; // no event goes this way yet
    }
  }

  #died(inc: Incarnation, e: ErrorEvent): void {
    inc.commands.close();
    inc.worker.terminate();
    this.#reclaimLater(inc);
    if (this.#stopping || inc !== this.#current) return;
    log.error("VM {vm}: its thread died ({error} at {where}); a new one serves its socket in {ms} ms", {
      vm: this.config.name,
      error: e.message,
      where: `${e.filename}:${e.lineno}`,
      ms: RESTART_MS,
    });
    setTimeout(() => {
      if (this.#stopping) return;
      this.#restarts++;
      this.#current = this.#spawn();
      this.#current.ready.then(() => this.#wake(null), (err) => {
        log.error("VM {vm}: {error}", { vm: this.config.name, error: err });
        this.#wake(err);
      });
    }, RESTART_MS);
  }

  /** Answers the callers waiting for a replacement: it serves (null), or the error that it will not. */
  #wake(error: Error | null): void {
    for (const w of this.#waiting.splice(0)) {
      if (error === null) w.resolve();
      else w.reject(error);
    }
  }

  // The front-end's socket among them: closing it is how QEMU learns that this back-end went away.
  #reclaimLater(inc: Incarnation): void {
    setTimeout(() => {
      const r = inc.ledger.reclaim();
      if (r.fds === 0 && r.mappings === 0) return;
      log.warn(
        "VM {vm}: closed {fds} descriptors and unmapped {mappings} mappings ({bytes} bytes) its ended thread left",
        {
          vm: this.config.name,
          ...r,
        },
      );
    }, RECLAIM_MS);
  }

  // A dead thread's eventfd is closed: commands to it are dropped (its replacement starts from the options and
  // the current log level).
  #send(command: VmCommand): void {
    if (!this.#current.dead) this.#current.commands.send(command);
  }

  /**
   * The VM's counters and state, from its thread.
   *
   * @returns The snapshot; right after the thread died, the replacement's (once it serves the socket).
   * @throws Error when the thread does not answer within 5 s, or the VM stops before a replacement serves.
   */
  async snapshot(): Promise<VmSnapshot> {
    if (this.#current.dead) {
      if (this.#stopping) throw new Error(`VM ${this.config.name}: its thread died and the VM is stopping`);
      await new Promise<void>((resolve, reject) => this.#waiting.push({ resolve, reject }));
    }
    return await this.#ask();
  }

  #ask(): Promise<VmSnapshot> {
    const id = this.#nextId++;
    return new Promise<VmSnapshot>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#replies.delete(id);
        reject(new Error(`VM ${this.config.name}: its thread did not answer within ${REPLY_MS} ms`));
      }, REPLY_MS);
      this.#replies.set(id, (s) => {
        clearTimeout(timer);
        resolve(s);
      });
      this.#send({ type: "snapshot", id });
    });
  }

  /** Logs at `level` from now on. */
  setLogLevel(level: LogLevel): void {
    this.#logLevel = level;
    this.#send({ type: "log-level", level });
  }

  /** Fault injection: the VM's thread dies of an uncaught error (a new one is started, as for a real crash). */
  injectCrash(): void {
    this.#send({ type: "crash" });
  }

  /** Passes an accelerator event to the VM's engine. */
  accelEvent(event: unknown): void {
    this.#send({ type: "accel", event });
  }

  /**
   * Stops the VM: its front-end is dropped, its sessions closed (keys zeroed), its thread ends. The socket stays
   * bound (the caller closes the listener). Idempotent.
   *
   * @returns The last snapshot, or null when the thread had died or had to be terminated.
   */
  async stop(): Promise<VmSnapshot | null> {
    const inc = this.#current;
    if (this.#stopping) return await inc.stopped;
    this.#stopping = true;
    if (inc.dead) {
      // Between a death and the replacement: nothing left to stop (its resources are being reclaimed, the
      // accelerator already let go of it), and no replacement will start.
      this.#wake(new Error(`VM ${this.config.name}: it stopped before its thread was started again`));
      return null;
    }
    this.#send({ type: "stop" });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<null>((resolve) => timer = setTimeout(() => resolve(null), STOP_MS));
    const snapshot = await Promise.race([inc.stopped, timeout]);
    clearTimeout(timer);
    if (snapshot === null) {
      log.error("VM {vm}: its thread did not stop within {ms} ms: terminated", {
        vm: this.config.name,
        ms: STOP_MS,
      });
    }
    inc.worker.terminate();
    inc.commands.close();
    if (snapshot === null) this.#reclaimLater(inc);
    this.#options.accel?.detach(snapshot !== null);
    return snapshot;
  }
}
