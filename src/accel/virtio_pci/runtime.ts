/**
 * `DeviceRuntime`: the life of the device on the main thread: started (control queue, every data queue set up,
 * DRIVER_OK), failed, restarted, closed. Each start is a new incarnation (`epoch`): sessions and queues of an
 * earlier one are gone from the device. The state and epoch are also published in shared memory, which every VM's
 * thread reads before it touches its queue.
 *
 * On failure it resets the device first, so nothing writes guest memory any more (a device that vanished is not
 * touched: its BAR may fault), then tells its owner (`onDown`), who unmaps guest RAM and has each VM's thread give
 * its requests in flight back. A restart is tried on demand, at most every `retryMs`, never for a device that
 * vanished.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { DataPathOptions } from "./data_path.ts";
import type { ControlQueue } from "./control.ts";
import type { EngineState, QueueShape } from "./engine_options.ts";
import { VirtioPciError } from "./errors.ts";
import type { DmaArea, VirtioPciPort } from "./port.ts";
import { type Handshake, handshake, isRunning, startQueues, statusProblem } from "./start.ts";
import { EPOCH_WORD, STATE_WORD } from "./ticket.ts";

const log = getLogger(["cryptobridge", "accel"]);

/** What a runtime is made of. */
export interface RuntimeParts {
  /** A name for logs. */
  readonly name: string;
  /** The function. */
  readonly port: VirtioPciPort;
  /** The first handshake. */
  readonly handshake: Handshake;
  /** The DMA areas: the control queue's, and one per data queue. */
  readonly areas: { readonly control: DmaArea; readonly data: readonly DmaArea[] };
  /** The queue shapes. */
  readonly shape: QueueShape;
  /** MSI-X vectors are enabled (interrupt mode): data queue i on vector 1 + i. */
  readonly vectors: boolean;
  readonly controlTimeoutMs: number;
  readonly retryMs: number;
  /** The device went down (reset already): unmap guest RAM, take requests back. */
  readonly onDown: (reason: string) => void;
  /** A new incarnation is running. */
  readonly onUp: (epoch: number) => void;
}

/** The device's lifecycle. */
export class DeviceRuntime {
  /** `[state (1 ready, 0 down), epoch]`, for every VM's thread to read. */
  readonly shared: SharedArrayBuffer = new SharedArrayBuffer(8);
  readonly #words = new Int32Array(this.shared);
  readonly #p: RuntimeParts;
  #handshake: Handshake;
  #control: ControlQueue | null = null;
  #state: EngineState = "failed";
  #epoch = 0;
  #failedAt = 0;
  #vanished = false;
  #failures = 0;
  #lastFailure: string | null = null;

  /** @param parts Port, areas, shapes, callbacks. */
  constructor(parts: RuntimeParts) {
    this.#p = parts;
    this.#handshake = parts.handshake;
  }

  /** `ready`, `failed` or `closed`. */
  get state(): EngineState {
    return this.#state;
  }

  /** The current incarnation (0 before the first start). */
  get epoch(): number {
    return this.#epoch;
  }

  /** The control queue while ready, else null. */
  get control(): ControlQueue | null {
    return this.#control;
  }

  /** Failures so far. */
  get failures(): number {
    return this.#failures;
  }

  /** The last failure's reason. */
  get lastFailure(): string | null {
    return this.#lastFailure;
  }

  /** Whether the device vanished (it is never restarted). */
  get vanished(): boolean {
    return this.#vanished;
  }

  /**
   * Data queue `i`'s shape.
   *
   * @param i The queue.
   * @returns Its options (index and vector filled in).
   */
  dataOptions(i: number): DataPathOptions {
    return { ...this.#p.shape.data, index: i, vector: this.#p.vectors ? 1 + i : 0xffff };
  }

  /** Queues up, DRIVER_OK: a new incarnation. */
  start(): void {
    const { port, areas, shape, vectors, controlTimeoutMs } = this.#p;
    const data = areas.data.slice(0, shape.dataQueues).map((area, i) => ({
      area,
      options: this.dataOptions(i),
    }));
    this.#control = startQueues(port.transport, this.#handshake, {
      control: { area: areas.control, size: shape.controlSize },
      data,
    }, { vectors, controlTimeoutMs });
    this.#epoch++;
    this.#state = "ready";
    Atomics.store(this.#words, EPOCH_WORD, this.#epoch);
    Atomics.store(this.#words, STATE_WORD, 1);
    this.#p.onUp(this.#epoch);
  }

  /**
   * Reads the status through VFIO and fails the device when it is not running.
   *
   * @returns Whether it is healthy.
   */
  checkHealth(): boolean {
    if (this.#state !== "ready") return false;
    const status = this.#p.port.readStatus();
    if (isRunning(status)) return true;
    this.fail(statusProblem(status));
    return false;
  }

  /**
   * The device failed: publish it, reset it (unless it vanished), and tell the owner.
   *
   * @param reason For logs and counters.
   */
  fail(reason: string): void {
    if (this.#state !== "ready") return;
    this.#state = "failed";
    Atomics.store(this.#words, STATE_WORD, 0);
    this.#control = null;
    this.#failedAt = performance.now();
    this.#failures++;
    this.#lastFailure = reason;
    this.#vanished = this.#p.port.readStatus() === 0xff;
    log.error("accelerator {name} failed: {reason}; its requests and new sessions go to software", {
      name: this.#p.name,
      reason,
    });
    if (!this.#vanished) this.#quietReset();
    this.#p.onDown(reason);
  }

  /** Whether a restart may be tried now (failed, not vanished, `retryMs` passed). */
  get mayRestart(): boolean {
    return this.#state === "failed" && !this.#vanished &&
      performance.now() - this.#failedAt >= this.#p.retryMs;
  }

  /** After a failure: a new handshake and start. The caller checked `mayRestart` and that every VM let go. */
  restart(): void {
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

  /** Resets the device (unless it vanished) and frees the DMA areas. Idempotent. */
  close(): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    Atomics.store(this.#words, STATE_WORD, 0);
    this.#control = null;
    if (!this.#vanished) this.#quietReset();
    const { port, areas } = this.#p;
    port.setBusMaster(false);
    for (const a of areas.data) port.dma.free(a);
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
