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

  constructor(init: WorkerInit) {
    this.#format = init.logFormat;
    this.reactor = new Reactor({
      wait: "thread",
      onError: (error, token) => log.error("event handler {token} failed: {error}", { token, error }),
    });
    const calls = new SyncCaller(init.calls, () => post({ type: "sync-call" }));
    this.engines = buildVmEngines({ init, reactor: this.reactor, calls, events: (event) => post(event) });
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

async function main(init: WorkerInit): Promise<void> {
  installLedger(new ResourceLedger(init.ledger)); // first: every descriptor and mapping of this thread is recorded
  await configureLogging(init.logLevel, { vm: init.config.name, format: init.logFormat });
  pin(init);
  let body: VmThreadBody;
  try {
    body = new VmThreadBody(init);
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
