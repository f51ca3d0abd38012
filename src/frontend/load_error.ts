/**
 * Why a load run stops (what the specs call a device's mistake is a departure instead: `departures.ts`): `LoadError`, and the messages of each kind, built only when a check has failed so the
 * generator's completion loop carries nothing but the comparisons.
 *
 * @module
 */

import { Status } from "../spec/virtio_crypto.ts";

/** What stops a run. */
export type LoadErrorKind = "status" | "mismatch";

/** A run failed: a request answered with an error status or a wrong output. */
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
