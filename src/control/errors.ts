/**
 * `ControlError`: a `DaemonControl` call that fails for a reason its caller should see (an unknown VM, a taken
 * socket, no accelerator). Its kind picks the JSON-RPC error code; its message goes to the caller as is.
 *
 * @module
 */

import { ErrorCode } from "./protocol.ts";

/** Why a control call failed. */
export type ControlErrorKind =
  /** A parameter's value was refused (a VM setting): `data.field` names it. JSON-RPC -32602. */
  | "invalid-params"
  /** No such VM (or accelerator). -32001. */
  | "not-found"
  /** The VM name or socket is taken. -32002. */
  | "exists"
  /** Not possible in the daemon's present state (no accelerator; the daemon is stopping). -32003. */
  | "unavailable"
  /** Another operation on the same object is in progress. -32004. */
  | "conflict"
  /** Tried and failed (binding the socket, resetting the device). -32005. */
  | "failed";

/** The JSON-RPC code of each kind. */
export const CONTROL_ERROR_CODES: Readonly<Record<ControlErrorKind, number>> = {
  "invalid-params": ErrorCode.INVALID_PARAMS,
  "not-found": ErrorCode.NOT_FOUND,
  exists: ErrorCode.ALREADY_EXISTS,
  unavailable: ErrorCode.UNAVAILABLE,
  conflict: ErrorCode.CONFLICT,
  failed: ErrorCode.FAILED,
};

/** Details a control error may carry: flat JSON, never key material. */
export type ControlErrorData = Readonly<Record<string, string | number | boolean | null>>;

/** A control call that failed for a reason the caller should see. */
export class ControlError extends Error {
  /** Always `ControlError`. */
  override name = "ControlError";
  /** Why. */
  readonly kind: ControlErrorKind;
  /** Details (`field` for `invalid-params`). */
  readonly data: ControlErrorData | undefined;

  /**
   * @param kind Why.
   * @param message What went wrong and what to do, one line (sent to the caller).
   * @param data Details.
   */
  constructor(kind: ControlErrorKind, message: string, data?: ControlErrorData) {
    super(message);
    this.kind = kind;
    this.data = data;
  }
}
