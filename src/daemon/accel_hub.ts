/**
 * `AcceleratorHub`: the shared accelerator as the daemon holds it on the main thread: the host (a virtio-crypto
 * function's `VirtioPciHost` or a QAT VF's `QatHost`), the main thread's reactor the virtio host's configuration
 * interrupt waits in, and one link per VM thread (attach on start, its synchronous calls, detach when it ends).
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { type AccelEvent, answerCall, type HostStats, VirtioPciHost } from "../accel/virtio_pci/mod.ts";
import { answerQatCall, type QatAccelEvent, type QatHost, type QatHostStats } from "../accel/qat/mod.ts";
import type { Capabilities } from "../engine/engine.ts";
import { Reactor } from "../os/mod.ts";
import type { VmAccelLink, VmConfig } from "../vm/mod.ts";
import { type EngineChoice, openSharedAccelerator } from "./engines.ts";
import type { VirtioPciPort } from "../accel/virtio_pci/mod.ts";
import type { QatPort } from "../accel/qat/mod.ts";

const log = getLogger(["cryptobridge", "daemon"]);

/** What the daemon's callers may do with the accelerator. */
export interface AcceleratorHandle {
  /** Its name (`virtio-crypto 0000:00:04.0`). */
  readonly name: string;
  /** `ready`, `failed` or `closed`. */
  readonly state: string;
  /** What it serves. */
  capabilities(): Capabilities;
  /** Its counters (per VM: queue or ring pair, sessions, requests in flight); a QAT's say `kind`. */
  stats(): HostStats | QatHostStats;
  /** Fault injection: a reset behind the driver's back (tests, drills). */
  injectReset(): void;
}

/** The shared accelerator, its reactor, and the links of the VMs' threads. */
export class AcceleratorHub implements AcceleratorHandle {
  readonly #host: VirtioPciHost | QatHost;
  readonly #reactor: Reactor;
  readonly #running: Promise<void>;

  private constructor(host: VirtioPciHost | QatHost, reactor: Reactor) {
    this.#host = host;
    this.#reactor = reactor;
    this.#running = reactor.run();
  }

  /**
   * Opens the accelerator for the VMs' threads, or gives null (software only; see `openSharedAccelerator`).
   *
   * @param options The choice, the device, a model to open instead of VFIO, polling.
   * @returns The hub, or null.
   */
  static open(options: {
    readonly choice: EngineChoice;
    readonly device?: string;
    readonly openPort?: (bdf: string) => VirtioPciPort;
    readonly openQatPort?: (bdf: string) => QatPort;
    readonly poll?: boolean;
    readonly expectedVms?: number;
  }): AcceleratorHub | null {
    const reactor = new Reactor({
      onError: (error, token) => log.error("accelerator handler {token} failed: {error}", { token, error }),
    });
    let host: VirtioPciHost | QatHost | null;
    try {
      host = openSharedAccelerator({ ...options, reactor });
    } catch (e) {
      reactor.close();
      throw e;
    }
    if (host === null) {
      reactor.close();
      return null;
    }
    return new AcceleratorHub(host, reactor);
  }

  get name(): string {
    return this.#host.name;
  }

  get state(): string {
    return this.#host.state;
  }

  capabilities(): Capabilities {
    return this.#host.capabilities();
  }

  stats(): HostStats | QatHostStats {
    return this.#host.stats();
  }

  injectReset(): void {
    this.#host.injectReset();
  }

  /**
   * The link a VM's thread reaches the accelerator through.
   *
   * @param config The VM (its name and quota).
   * @returns The link.
   */
  link(config: VmConfig): VmAccelLink {
    let id: number | null = null;
    const host = this.#host;
    return {
      attach: (events) => {
        const ticket = host.attach(
          config.name,
          (e: AccelEvent | QatAccelEvent) => events(e),
          config.accelSessions,
        );
        id = ticket.vm;
        return ticket;
      },
      call: (call) => {
        if (id === null) throw new Error(`VM ${config.name} is not attached to the accelerator`);
        return host instanceof VirtioPciHost
          ? answerCall(host.control(id), call)
          : answerQatCall(host.control(id), call);
      },
      detach: (clean) => {
        if (id !== null) this.#host.detach(id, clean);
        id = null;
      },
    };
  }

  /** Closes the accelerator (after every VM stopped) and its reactor. */
  async close(): Promise<void> {
    this.#host.close();
    this.#reactor.stop();
    await this.#running.catch((e) =>
      log.error("accelerator reactor ended with an error: {error}", { error: e })
    );
    this.#reactor.close();
  }
}
