/**
 * Waiting for requests in flight: GET_VRING_BASE, SET_MEM_TABLE and a disconnect must not let go of rings or
 * guest memory while an asynchronous engine still owns requests that point into them (style.md rule 10a).
 *
 * @module
 */

import type { Backend } from "./backend.ts";
import { VhostUserError } from "./message.ts";
import type { Vring } from "./vring.ts";

/** How long a drain waits before giving up on the front-end. */
export const DRAIN_TIMEOUT_MS = 5000;

/** When to stop waiting early. */
export interface DrainOptions {
  /** The connection is closing: resolve (not reject) once `finished()` says the close already completed. */
  readonly closing: boolean;
  /** Whether the connection was closed meanwhile (a drain that is not the close itself then fails). */
  readonly closed: () => boolean;
  /** Whether the close completed (a later close finished it). */
  readonly finished: () => boolean;
}

/**
 * Resolves once no ring of `vrings` has a request in flight; checks every millisecond.
 *
 * @param backend The device, which counts requests in flight.
 * @param vrings The rings to wait for.
 * @param options Early-exit conditions.
 * @returns A promise that rejects with VhostUserError("bad-state") after `DRAIN_TIMEOUT_MS`, or when the connection
 *   closed under a drain that is not the close.
 */
export function drainVrings(
  backend: Backend,
  vrings: readonly Vring[],
  options: DrainOptions,
): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (vrings.every((v) => backend.inflight(v) === 0) || (options.closing && options.finished())) {
        return resolve();
      }
      if (options.closed() && !options.closing) {
        return reject(new VhostUserError("bad-state", "Connection closed while draining"));
      }
      if (Date.now() - start > DRAIN_TIMEOUT_MS) {
        return reject(
          new VhostUserError(
            "bad-state",
            `Cannot drain vrings: requests still in flight after ${DRAIN_TIMEOUT_MS} ms`,
          ),
        );
      }
      setTimeout(check, 1);
    };
    check();
  });
}
