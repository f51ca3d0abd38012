/**
 * `PciError`: what can go wrong when finding, checking, binding or parsing a PCI function.
 *
 * @module
 */

/** The class of failure; the CLI turns each into one line that says what to do. */
export type PciErrorKind =
  /** The text is not a PCI address (`0000:00:04.0`). */
  | "bad-address"
  /** No such function in sysfs. */
  | "not-found"
  /** The machine has no IOMMU (`/sys/class/iommu` is empty) and no-IOMMU mode was not asked for. */
  | "no-iommu"
  /** The function has no IOMMU group although the machine has an IOMMU. */
  | "no-iommu-group"
  /** Another function in the IOMMU group is held by a driver that VFIO cannot share the group with. */
  | "group-not-viable"
  /** The vfio-pci module is not loaded and could not be loaded. */
  | "module-missing"
  /** Binding failed (the original driver was restored when possible). */
  | "bind-failed"
  /** Giving the function back to its driver failed. */
  | "unbind-failed"
  /** The function is not bound to a VFIO driver. */
  | "not-bound"
  /** The function is a QAT physical function, which stays with the kernel's driver (bind a VF instead). */
  | "physical-function"
  /** Config space is malformed (a capability outside it, a loop in the list). */
  | "bad-config";

/** A PCI discovery, binding or config-space error. */
export class PciError extends Error {
  /** Always `PciError`. */
  override name = "PciError";
  /** The class of failure. */
  readonly kind: PciErrorKind;

  /**
   * Creates the error.
   *
   * @param kind The class of failure.
   * @param message What happened and, where there is one, what to do.
   * @param options The cause (an `ErrnoError` from a sysfs write, for example).
   */
  constructor(kind: PciErrorKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.kind = kind;
  }
}
