/**
 * `QatError`: what went wrong with a QAT function itself, as opposed to a session it cannot hold (an
 * `EngineError`) or a request (a status byte, or `ENGINE_FAILED` for software to re-run).
 *
 * @module
 */

/** What went wrong. */
export type QatErrorKind =
  /** Not a QAT gen4 VF (a PF, another generation, another vendor): the message says what to do instead. */
  | "not-qat-vf"
  /** The PF did not acknowledge or answer a mailbox message, or answered with an error. */
  | "mailbox"
  /** The PF gives this VF no bundle for the symmetric service. */
  | "no-sym-bundle"
  /** A BAR is missing, too small or cannot be mapped. */
  | "bar"
  /** A ring stopped answering within the timeout. */
  | "timeout"
  /** The function was reset behind the driver's back, is restarting, or vanished. */
  | "device-failed"
  /** The engine is closed. */
  | "closed";

/** A device-level failure of the QAT driver. */
export class QatError extends Error {
  /** Always `"QatError"`. */
  override name = "QatError";
  /** What went wrong. */
  readonly kind: QatErrorKind;

  /**
   * @param kind What went wrong.
   * @param message A std-style message that says what to do when the operator can do something.
   * @param options The cause, if any.
   */
  constructor(kind: QatErrorKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.kind = kind;
  }
}
