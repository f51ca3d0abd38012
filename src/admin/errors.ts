/**
 * `AdminError`: what keeps a host-administration call (list, bind, unbind, info) from starting. Failures inside the
 * PCI and VFIO layers keep their own types (`PciError`, `VfioError`).
 *
 * @module
 */

/** The class of failure. */
export type AdminErrorKind = /** The call writes sysfs or opens /dev/vfio and the process is not root. */
  "not-root";

/** A host-administration call that cannot start. */
export class AdminError extends Error {
  /** Always `AdminError`. */
  override name = "AdminError";
  /** The class of failure. */
  readonly kind: AdminErrorKind;

  /**
   * @param kind The class of failure.
   * @param message What happened and what to do instead.
   */
  constructor(kind: AdminErrorKind, message: string) {
    super(message);
    this.kind = kind;
  }
}
