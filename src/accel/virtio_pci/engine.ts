/**
 * `VirtioPciEngine`: the virtio-crypto accelerator for one user in one thread (the role DPDK's crypto_virtio plays):
 * the main-thread host (`VirtioPciHost`: the device, its control queue, IOMMU, health) and one client
 * (`VirtioPciClient`: a data queue, sessions, requests) wired together by direct calls. The daemon instead gives
 * each VM's thread its own client of one shared host; this class is what tests, `selftest` and single-threaded
 * embedders use, and it behaves as the client does: asynchronous, `ENGINE_FAILED` for whatever the device cannot
 * do, failures noticed by the configuration interrupt, the host's health watchdog and the client's request
 * timeout, a restart tried (at most every `retryMs`) when a session is created.
 *
 * @module
 */

import type {
  Capabilities,
  CryptoEngine,
  CryptoOp,
  DmaRegion,
  EngineSession,
  SessionParams,
} from "../../engine/mod.ts";
import { VirtioPciClient } from "./client.ts";
import {
  type EngineState,
  resolveOptions,
  type VirtioPciEngineOptions,
  type VirtioPciStats,
} from "./engine_options.ts";
import { type AccelEvent, VirtioPciHost } from "./host.ts";
import type { VirtioPciPort } from "./port.ts";

/** The virtio-crypto accelerator engine, in one thread. */
export class VirtioPciEngine implements CryptoEngine {
  readonly name: string;
  readonly #host: VirtioPciHost;
  readonly #client: VirtioPciClient;
  readonly #vm: number;
  #closed = false;

  private constructor(host: VirtioPciHost, client: VirtioPciClient, vm: number) {
    this.name = host.name;
    this.#host = host;
    this.#client = client;
    this.#vm = vm;
  }

  /**
   * Starts the device and returns the engine: handshake, DMA areas, MSI-X into the reactor, queues, DRIVER_OK,
   * and the probe of what it advertises.
   *
   * @param port The function (from `openVfioPort`, or a test model).
   * @param options Completion mode, sizes, timeouts.
   * @returns The engine, ready.
   * @throws VirtioPciError `not-ready`, VfioError: the device cannot be driven (the port is closed if owned);
   *   RangeError for interrupt mode without a reactor.
   */
  static open(port: VirtioPciPort, options: VirtioPciEngineOptions = {}): VirtioPciEngine {
    const completions = resolveOptions(options).completions;
    if (completions === "interrupt" && options.reactor === undefined) {
      throw new RangeError("Cannot open the accelerator in interrupt mode: no reactor was given");
    }
    const host = VirtioPciHost.open(port, { ...options, completions, queues: 1, sameThread: true });
    let client: VirtioPciClient | null = null;
    const events = (e: AccelEvent): void => client?.onEvent(e);
    const ticket = host.attach(port.name, events);
    client = new VirtioPciClient({
      ticket,
      control: host.control(ticket.vm),
      reactor: options.reactor ?? null,
      completions,
    });
    return new VirtioPciEngine(host, client, ticket.vm);
  }

  /** Where the engine is: `ready`, `failed` (sessions go to software) or `closed`. */
  get state(): EngineState {
    return this.#closed ? "closed" : this.#host.state as EngineState;
  }

  /** A snapshot of the counters. */
  stats(): VirtioPciStats {
    const h = this.#host.stats();
    const c = this.#client.stats();
    return {
      state: this.state,
      epoch: h.epoch,
      sessions: c.sessions,
      inflight: c.inflight,
      completed: c.completed,
      failed: c.failed,
      declined: c.declined,
      bounced: c.bounced,
      failures: h.failures,
      lastFailure: h.lastFailure,
      refused: h.refused,
    };
  }

  capabilities(): Capabilities {
    return this.#host.capabilities();
  }

  createSession(params: SessionParams): EngineSession {
    return this.#client.createSession(params);
  }

  closeSession(session: EngineSession): void {
    this.#client.closeSession(session);
  }

  submit(op: CryptoOp): number {
    return this.#client.submit(op);
  }

  /** Publishes submitted requests and notifies the device (batched automatically except in "caller" mode). */
  flush(): void {
    this.#client.flush();
  }

  /**
   * Takes the completions the device has posted and completes their operations.
   *
   * @returns How many completed.
   */
  poll(): number {
    return this.#client.poll();
  }

  /** Maps the guest's RAM for DMA (see `VirtioPciClient.setGuestMemory`). */
  setGuestMemory(regions: readonly DmaRegion[]): void {
    this.#client.setGuestMemory(regions);
  }

  /**
   * Fault injection: resets the device behind the engine's back (writes `device_status` = 0 through VFIO, as an
   * FLR or a crashed firmware would). The engine notices as it would notice a real one; for tests and drills.
   */
  injectReset(): void {
    this.#host.injectReset();
  }

  /** Resets the device, unmaps guest RAM, frees DMA memory and MSI-X; requests in flight are abandoned. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#client.close();
    this.#host.detach(this.#vm);
    this.#host.close();
  }
}
