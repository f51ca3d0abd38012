/**
 * A VM's thread: the entry module of its Deno Worker. It serves one VM's device (vhost-user connection, rings,
 * sessions) in a reactor that blocks in a synchronous `epoll_wait` on this thread (design.md decision 2), pinned to
 * the VM's CPUs when its settings name some. The main thread talks to it through the command channel; it answers
 * with events (`messages.ts`).
 *
 * What goes wrong inside a handler is logged and drops only this VM's front-end (the vhost-user server's guard);
 * the socket keeps listening and the next front-end gets a fresh device. If the thread itself dies, the main
 * thread starts a new one on the same socket.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { getLogger } from "@logtape/logtape";
import type { LogFormat } from "../logging/format.ts";
import { configureLogging } from "../logging/logging.ts";
import {
  installLedger,
  pinThread,
  Reactor,
  ResourceLedger,
  threadAffinity,
  threadId,
  UnixListener,
} from "../os/mod.ts";
import { CommandReceiver, SyncCaller } from "../threads/mod.ts";
import type { VmCommand, VmEvent, WorkerInit } from "./messages.ts";
import { buildVmEngines, type VmEngines } from "./vm_engines.ts";
import { VmService, type VmSnapshot } from "./vm_service.ts";

const log = getLogger(["cryptobridge", "vm"]);

function post(event: VmEvent): void {
  self.postMessage(event);
}

function pin(init: WorkerInit): void {
  const cpus = init.config.cpu;
  if (cpus === null) return;
  try {
    pinThread(cpus);
  } catch (e) {
    log.error("cannot pin the thread to CPUs {cpus}: {error}; it runs where the scheduler puts it", {
      cpus: cpus.join(","),
      error: (e as Error).message,
    });
  }
}

/** The VM's parts in this thread, and how they stop. */
class VmThreadBody {
  readonly reactor: Reactor;
  readonly engines: VmEngines;
  readonly service: VmService;
  readonly #receiver: CommandReceiver;
  readonly #format: LogFormat;
  #final: VmSnapshot | null = null;

  /**
   * The engines first, then (after the router's calibration, if any) the VM's device on its socket.
   *
   * @param init The thread's init message.
   * @returns The body, serving once its reactor runs.
   */
  static async open(init: WorkerInit): Promise<VmThreadBody> {
    const reactor = new Reactor({
      wait: "thread",
      onError: (error, token) => log.error("event handler {token} failed: {error}", { token, error }),
    });
    const calls = new SyncCaller(init.calls, () => post({ type: "sync-call" }));
    const engines = buildVmEngines({ init, reactor, calls, events: (event) => post(event) });
    await untilCalibrated(reactor, engines.calibration);
    return new VmThreadBody(init, reactor, engines);
  }

  private constructor(init: WorkerInit, reactor: Reactor, engines: VmEngines) {
    this.#format = init.logFormat;
    this.reactor = reactor;
    this.engines = engines;
    const thread = { tid: threadId(), cpus: threadAffinity() };
    this.service = new VmService({
      config: init.config,
      engine: this.engines.engine,
      router: this.engines.router,
      accelerator: this.engines.accelerator,
      reactor: this.reactor,
      listener: UnixListener.borrow(init.listenFd, init.config.socket),
      serving: init.serving,
      thread,
      pathOf: this.engines.pathOf,
    });
    this.#receiver = new CommandReceiver(init.commands, this.reactor, (c) => this.#command(c as VmCommand));
  }

  #command(c: VmCommand): void {
    switch (c.type) {
      case "stop":
        this.service.close(); // the front-end dropped, sessions closed, keys zeroed
        this.#final = this.service.snapshot();
        this.reactor.stop();
        return;
      case "snapshot":
        post({ type: "reply", id: c.id, value: this.service.snapshot() });
        return;
      case "log-level":
        void configureLogging(c.level, { vm: this.service.config.name, format: this.#format });
        return;
      case "accel":
        this.engines.onAccelEvent(c.event);
        return;
      case "crash":
        setTimeout(() => {
          throw new Error("crash injected (VmThread.injectCrash)");
        }, 0);
        return;
    }
  }

  async run(): Promise<VmSnapshot> {
    try {
      await this.reactor.run();
    } finally {
      this.#receiver.close();
      this.service.close();
      this.engines.close();
      this.reactor.close();
    }
    return this.#final ?? this.service.snapshot();
  }
}

// `serve --route fastest`: the router's calibration runs before the socket is served, so that no guest memory table
// arrives under its requests (the accelerator abandons requests in flight when the table changes, as a failure).
// The reactor runs meanwhile for the accelerator's completions.
async function untilCalibrated(reactor: Reactor, calibration: Promise<void> | null): Promise<void> {
  if (calibration === null) return;
  const running = reactor.run();
  await calibration;
  reactor.stop();
  await running;
}

async function main(init: WorkerInit): Promise<void> {
  installLedger(new ResourceLedger(init.ledger)); // first: every descriptor and mapping of this thread is recorded
  await configureLogging(init.logLevel, { vm: init.config.name, format: init.logFormat });
  pin(init);
  let body: VmThreadBody;
  try {
    body = await VmThreadBody.open(init);
  } catch (e) {
    post({ type: "failed", message: (e as Error).message });
    self.close();
    return;
  }
  post({ type: "ready", tid: threadId(), cpus: threadAffinity() });
  const snapshot = await body.run();
  post({ type: "stopped", snapshot });
  self.close();
}

self.onmessage = (e: MessageEvent<WorkerInit>) => {
  self.onmessage = null;
  void main(e.data);
};
