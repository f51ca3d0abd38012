/**
 * `DeviceRuntime`: the life of the device under the engine: started (queues, DRIVER_OK, guest RAM mapped),
 * failed, restarted, closed. Each start is a new incarnation (`epoch`): sessions and queues of an earlier one are
 * gone from the device.
 *
 * On failure it resets the device first, so nothing writes guest memory any more (a device that vanished is not
 * touched: its BAR may fault), unmaps guest RAM from the IOMMU so a late write cannot land either, takes the
 * completions that were already posted, and gives everything else back with `ENGINE_FAILED`. A restart is tried
 * on demand (a new session), at most every `retryMs`, never for a device that vanished.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { DmaRegion } from "../../engine/mod.ts";
import type { Finish } from "./data_path.ts";
import type { EngineState, QueueShape } from "./engine_options.ts";
import { VirtioPciError } from "./errors.ts";
import { GuestDmaMap } from "./guest_dma.ts";
import type { DmaArea, VirtioPciPort } from "./port.ts";
import { type Handshake, handshake, isRunning, type Queues, startQueues, statusProblem } from "./start.ts";

const log = getLogger(["cryptobridge", "accel"]);

/** What a runtime is made of. */
export interface RuntimeParts {
  /** A name for logs. */
  readonly name: string;
  /** The function. */
  readonly port: VirtioPciPort;
  /** The first handshake. */
  readonly handshake: Handshake;
  /** The DMA areas of the queues. */
  readonly areas: { readonly control: DmaArea; readonly data: DmaArea };
  /** The queue shapes. */
  readonly shape: QueueShape;
  /** MSI-X vectors are enabled (interrupt mode). */
  readonly vectors: boolean;
  readonly controlTimeoutMs: number;
  readonly retryMs: number;
  /** Where failed requests go (the engine's completion path). */
  readonly finish: Finish;
  /** Called when the device goes down (the engine stops its timers). */
  readonly onDown: () => void;
}

/** The device's lifecycle. */
export class DeviceRuntime {
  readonly #p: RuntimeParts;
  readonly #guest: GuestDmaMap;
  #handshake: Handshake;
  #queues: Queues | null = null;
  #regions: readonly DmaRegion[] = [];
  #state: EngineState = "failed";
  #epoch = 0;
  #failedAt = 0;
  #vanished = false;
  #failures = 0;
  #lastFailure: string | null = null;
  #bounced = 0; // bounced requests of earlier incarnations (each start makes a new data path)

  /** @param parts Port, areas, shapes, callbacks. */
  constructor(parts: RuntimeParts) {
    this.#p = parts;
    this.#handshake = parts.handshake;
    this.#guest = new GuestDmaMap(parts.port.dma);
  }

  /** `ready`, `failed` or `closed`. */
  get state(): EngineState {
    return this.#state;
  }

  /** The current incarnation (0 before the first start). */
  get epoch(): number {
    return this.#epoch;
  }

  /** The queues while ready, else null. */
  get queues(): Queues | null {
    return this.#queues;
  }

  /** Failures so far, and the last one's reason. */
  get failures(): number {
    return this.#failures;
  }

  /** The last failure's reason. */
  get lastFailure(): string | null {
    return this.#lastFailure;
  }

  /** Requests that went through bounce buffers, over every incarnation. */
  get bounced(): number {
    return this.#bounced + (this.#queues?.data.bounced ?? 0);
  }

  /** Queues up, DRIVER_OK, guest RAM mapped: a new incarnation. */
  start(): void {
    const { port, areas, shape, vectors, controlTimeoutMs } = this.#p;
    this.#queues = startQueues(port.transport, this.#handshake, {
      control: { area: areas.control, size: shape.controlSize },
      data: { area: areas.data, options: shape.data },
    }, { vectors, controlTimeoutMs, guest: this.#guest });
    this.#epoch++;
    this.#state = "ready";
    this.#guest.set(this.#regions);
  }

  /**
   * Reads the status through VFIO and fails the device when it is not running.
   *
   * @returns Whether it is healthy.
   */
  checkHealth(): boolean {
    const status = this.#p.port.readStatus();
    if (isRunning(status)) return true;
    this.fail(statusProblem(status));
    return false;
  }

  /**
   * The device failed: reset it (unless it vanished), unmap guest RAM, hand completed requests over and the rest
   * back with ENGINE_FAILED, or abandon them (`complete` false) when their memory is going away.
   *
   * @param reason For logs and counters.
   * @param complete Whether the requests in flight are completed (ENGINE_FAILED) or abandoned.
   */
  fail(reason: string, complete = true): void {
    if (this.#state !== "ready") return;
    this.#state = "failed";
    this.#failedAt = performance.now();
    this.#failures++;
    this.#lastFailure = reason;
    this.#p.onDown();
    this.#vanished = this.#p.port.readStatus() === 0xff;
    log.error("accelerator {name} failed: {reason}; its requests and new sessions go to software", {
      name: this.#p.name,
      reason,
    });
    if (!this.#vanished) this.#quietReset();
    this.#guest.clear();
    const data = this.#queues?.data;
    this.#bounced += data?.bounced ?? 0;
    this.#queues = null;
    if (data === undefined || !complete) return;
    try {
      data.reap(this.#p.finish); // finished before the failure: their results are good
    } catch {
      // a broken used ring: everything goes to software below
    }
    data.failAll(this.#p.finish);
  }

  /** After a failure: a new handshake and start, when allowed (not vanished, `retryMs` passed). */
  maybeRestart(): void {
    if (this.#state !== "failed" || this.#vanished) return;
    if (performance.now() - this.#failedAt < this.#p.retryMs) return;
    try {
      const h = handshake(this.#p.port.transport);
      const old = this.#handshake;
      if (h.config.maxDataqueues !== old.config.maxDataqueues || h.controlMax < this.#p.shape.controlSize) {
        throw new VirtioPciError("not-ready", "the device came back with another shape");
      }
      this.#handshake = h;
      this.start();
      log.info("accelerator {name} restarted (epoch {epoch})", { name: this.#p.name, epoch: this.#epoch });
    } catch (e) {
      this.#failedAt = performance.now();
      this.#quietReset();
      log.warn("accelerator {name} cannot restart yet: {error}", {
        name: this.#p.name,
        error: (e as Error).message,
      });
    }
  }

  /**
   * The guest memory table to map (now if running, at the next start otherwise). Requests in flight mean the
   * daemon is stopping or a front-end vanished mid-request: they are abandoned (see `VirtioPciEngine`).
   *
   * @param regions The table.
   */
  setRegions(regions: readonly DmaRegion[]): void {
    this.#regions = regions.map((r) => ({ gpa: r.gpa, size: r.size, address: r.address }));
    if (this.#state !== "ready") return;
    if ((this.#queues?.data.inflight ?? 0) > 0) {
      this.fail("the guest memory table changed with requests in flight", false);
      return;
    }
    this.#guest.set(this.#regions);
  }

  /** Resets the device (unless it vanished), unmaps guest RAM, frees the DMA areas. Idempotent. */
  close(): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    if (!this.#vanished) this.#quietReset();
    this.#guest.clear();
    this.#bounced += this.#queues?.data.bounced ?? 0;
    this.#queues = null;
    const { port, areas } = this.#p;
    port.setBusMaster(false);
    port.dma.free(areas.data);
    port.dma.free(areas.control);
  }

  #quietReset(): void {
    try {
      this.#p.port.transport.reset();
    } catch (e) {
      log.error("cannot reset {name}: {error}", { name: this.#p.name, error: e });
    }
  }
}
