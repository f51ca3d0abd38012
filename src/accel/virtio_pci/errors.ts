/**
 * The accelerator engine's error: what went wrong with the device itself (as opposed to a session the device
 * refused, which is an `EngineError`, or a request, which is a status byte).
 *
 * @module
 */

/** What went wrong with the device. */
export type VirtioPciErrorKind =
  /** The device is not a usable virtio-crypto function (no HW_READY, no queues, refused features). */
  | "not-ready"
  /** The device did not answer a control request, or a data request, in time. */
  | "timeout"
  /** The device reported a failure (DEVICE_NEEDS_RESET), was reset behind the engine's back, or vanished. */
  | "device-failed"
  /** The engine is closed. */
  | "closed";

/** A device-level failure of the virtio-crypto accelerator engine. */
export class VirtioPciError extends Error {
  /** Always `"VirtioPciError"`. */
  override name = "VirtioPciError";
  /** What went wrong. */
  readonly kind: VirtioPciErrorKind;

  /**
   * Creates the error.
   *
   * @param kind What went wrong.
   * @param message A std-style message.
   * @param options The cause, if any.
   */
  constructor(kind: VirtioPciErrorKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.kind = kind;
  }
}
