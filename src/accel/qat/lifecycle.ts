/**
 * `QatLifecycle`: a QAT VF's failure and restart policy, the part the inline `QatEngine` and the main thread's
 * `QatHost` share: the state, the failures counted with the last one's reason, the device stopped at once on a
 * failure (nothing may write memory after it), and a restart on demand at most every `retryMs`, only once the
 * function answers again (a vanished one is not touched). What the failure means for the data path (which rings
 * to let go, which memory to unmap) stays with the caller.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { QatDevice } from "./device.ts";
import type { QatState } from "./engine_options.ts";

const log = getLogger(["cryptobridge", "accel"]);

/** The state of a VF's device side, its failures and restarts. */
export class QatLifecycle {
  readonly #name: string;
  readonly #device: QatDevice;
  readonly #retryMs: number;
  #state: QatState = "ready";
  #failedAt = 0;
  #failures = 0;
  #lastFailure: string | null = null;

  /**
   * @param name For logs (`qat-gen4 0000:3d:00.1`).
   * @param device The device side.
   * @param retryMs Least time between restart attempts.
   */
  constructor(name: string, device: QatDevice, retryMs: number) {
    this.#name = name;
    this.#device = device;
    this.#retryMs = retryMs;
  }

  /** `ready`, `failed` or `closed`. */
  get state(): QatState {
    return this.#state;
  }

  /** Failures seen. */
  get failures(): number {
    return this.#failures;
  }

  /** Why the device last failed, or null. */
  get lastFailure(): string | null {
    return this.#lastFailure;
  }

  /**
   * The device failed: counted, logged, stopped (arbiter, ring pair resets, bus mastering off).
   *
   * @param reason Why.
   * @returns Whether this was news (false when it was not ready: already failed, or closed).
   */
  fail(reason: string): boolean {
    if (this.#state !== "ready") return false;
    this.#state = "failed";
    this.#failedAt = performance.now();
    this.#failures++;
    this.#lastFailure = reason;
    log.error("accelerator {name} failed: {reason}; its requests and new sessions go to software", {
      name: this.#name,
      reason,
    });
    this.#device.stop();
    return true;
  }

  /**
   * Restarts a failed device if `retryMs` has passed since the failure (or the last attempt) and the function is
   * reachable. A failed attempt stops the device again and is tried no sooner than `retryMs` later.
   *
   * @returns Whether it restarted now (a new epoch: new tickets).
   */
  restart(): boolean {
    if (this.#state !== "failed" || performance.now() - this.#failedAt < this.#retryMs) return false;
    if (this.#device.vanished) return false;
    try {
      this.#device.restart();
    } catch (e) {
      this.#failedAt = performance.now();
      this.#device.stop();
      log.warn("accelerator {name} cannot restart yet: {error}", {
        name: this.#name,
        error: (e as Error).message,
      });
      return false;
    }
    this.#state = "ready";
    log.info("accelerator {name} restarted (epoch {epoch})", { name: this.#name, epoch: this.#device.epoch });
    return true;
  }

  /**
   * Closed for good: no failure or restart from now on.
   *
   * @returns Whether it was open.
   */
  close(): boolean {
    if (this.#state === "closed") return false;
    this.#state = "closed";
    return true;
  }
}
