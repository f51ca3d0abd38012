/**
 * Why a load run stops: `LoadError`, and the messages of each kind, built only when a check has failed so the
 * generator's completion loop carries nothing but the comparisons.
 *
 * @module
 */

import { Status } from "../spec/virtio_crypto.ts";

/** What stops a run. */
export type LoadErrorKind = "status" | "used-length" | "mismatch" | "stalled";

/** A run failed: a request answered with an error status or a wrong output, or the back-end stopped answering. */
export class LoadError extends Error {
  override name = "LoadError";
  /** What went wrong. */
  readonly kind: LoadErrorKind;

  /**
   * @param kind What went wrong.
   * @param message What, where, and the values.
   */
  constructor(kind: LoadErrorKind, message: string) {
    super(message);
    this.kind = kind;
  }
}

/** The status byte the generator writes before each request: a value no status has, so an unwritten one shows. */
export const NO_STATUS = 0xff;

/**
 * A request completed with a status other than OK.
 *
 * @param requestNo The request's number in the run.
 * @param slot Its slot.
 * @param status The status byte read back.
 * @returns The error to throw.
 */
export function statusError(requestNo: number, slot: number, status: number): LoadError {
  return new LoadError(
    "status",
    `Request ${requestNo} (slot ${slot}) completed with status ${statusName(status)}`,
  );
}

/**
 * A request's used length is not its output plus the status byte.
 *
 * @param requestNo The request's number in the run.
 * @param slot Its slot.
 * @param want The used length the request must get.
 * @param got The used element's `len`.
 * @returns The error to throw.
 */
export function usedLengthError(requestNo: number, slot: number, want: number, got: number): LoadError {
  return new LoadError(
    "used-length",
    `Request ${requestNo} (slot ${slot}): used length must be ${want}: current value is ${got}`,
  );
}

/**
 * A sampled request's output differs from the expected one.
 *
 * @param requestNo The request's number in the run.
 * @param slot Its slot.
 * @param at The first byte that differs.
 * @param bytes The output (`got`) and the expected output (`want`).
 * @returns The error to throw.
 */
export function mismatchError(
  requestNo: number,
  slot: number,
  at: number,
  bytes: { readonly got: Uint8Array; readonly want: Uint8Array },
): LoadError {
  const { got, want } = bytes;
  return new LoadError(
    "mismatch",
    `Request ${requestNo} (slot ${slot}): output differs from the expected one at byte ${at} of ${want.length}: got 0x${
      hex(got[at]!)
    }, expected 0x${hex(want[at]!)}`,
  );
}

/**
 * Nothing completed for too long.
 *
 * @param ms Milliseconds since the last completion.
 * @param inflight Requests in flight.
 * @returns The error to fail the run with.
 */
export function stalledError(ms: number, inflight: number): LoadError {
  return new LoadError(
    "stalled",
    `No completion for ${
      Math.round(ms)
    } ms with ${inflight} requests in flight: the back-end stopped answering`,
  );
}

function hex(b: number): string {
  return b.toString(16).padStart(2, "0");
}

const STATUS_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(Status).map(([name, value]) => [value, name]),
);

function statusName(status: number): string {
  return status === NO_STATUS
    ? "none (0xff: never written)"
    : `${STATUS_NAMES[status] ?? "unknown"} (${status})`;
}
