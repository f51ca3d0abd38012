/**
 * `VfioError`: VFIO conditions a caller reacts to. Failing syscalls stay `ErrnoError`s and become the `cause`.
 *
 * @module
 */

/** The class of failure. */
export type VfioErrorKind =
  /** No VFIO on this machine, or the function is not bound to a VFIO driver. */
  | "unavailable"
  /** The group is not viable: another function of it is held by a host driver. */
  | "group-not-viable"
  /** The kernel lacks what is needed (API version, type1v2, an IRQ index with eventfds). */
  | "unsupported"
  /** A region index, offset or length that the device does not have. */
  | "region"
  /** MSI-X could not be set up as asked. */
  | "irq"
  /** A DMA map or unmap failed. */
  | "dma"
  /** No free IOVA range large enough. */
  | "iova-exhausted"
  /** The kernel answered with something malformed (a capability chain that loops). */
  | "bad-info"
  /** The object was closed. */
  | "closed";

/** A VFIO error. */
export class VfioError extends Error {
  /** Always `VfioError`. */
  override name = "VfioError";
  /** The class of failure. */
  readonly kind: VfioErrorKind;

  /**
   * Creates the error.
   *
   * @param kind The class of failure.
   * @param message What happened and what to do.
   * @param options The cause (usually an `ErrnoError`).
   */
  constructor(kind: VfioErrorKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.kind = kind;
  }
}
