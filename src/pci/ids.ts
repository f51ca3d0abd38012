/**
 * What a PCI function is, from its ids: names of the crypto accelerators cryptobridge knows, which functions are
 * crypto-capable, and which drivers VFIO can share an IOMMU group with.
 *
 * @module
 */

/** A known accelerator function. */
export interface KnownDevice {
  /** Human name, such as `Intel QAT 4xxx VF`. */
  readonly name: string;
  /** `pf` (physical function), `vf` (SR-IOV virtual function) or `virtio`. */
  readonly kind: "pf" | "vf" | "virtio";
}

const INTEL = 0x8086;
const VIRTIO = 0x1af4;

// Intel QAT ids: the kernel's include/linux/pci_ids.h and drivers/crypto/intel/qat/qat_common/adf_accel_devices.h.
// virtio-crypto: 0x1040 + VIRTIO_ID_CRYPTO (20) = 0x1054; it has no transitional (legacy) id.
const KNOWN: ReadonlyMap<number, KnownDevice> = new Map([
  [id(INTEL, 0x0435), { name: "Intel QAT DH895xCC", kind: "pf" }],
  [id(INTEL, 0x0443), { name: "Intel QAT DH895xCC VF", kind: "vf" }],
  [id(INTEL, 0x37c8), { name: "Intel QAT C62x", kind: "pf" }],
  [id(INTEL, 0x37c9), { name: "Intel QAT C62x VF", kind: "vf" }],
  [id(INTEL, 0x19e2), { name: "Intel QAT C3xxx", kind: "pf" }],
  [id(INTEL, 0x19e3), { name: "Intel QAT C3xxx VF", kind: "vf" }],
  [id(INTEL, 0x4940), { name: "Intel QAT 4xxx", kind: "pf" }],
  [id(INTEL, 0x4941), { name: "Intel QAT 4xxx VF", kind: "vf" }],
  [id(INTEL, 0x4942), { name: "Intel QAT 401xx", kind: "pf" }],
  [id(INTEL, 0x4943), { name: "Intel QAT 401xx VF", kind: "vf" }],
  [id(INTEL, 0x4944), { name: "Intel QAT 402xx", kind: "pf" }],
  [id(INTEL, 0x4945), { name: "Intel QAT 402xx VF", kind: "vf" }],
  [id(INTEL, 0x4946), { name: "Intel QAT 420xx", kind: "pf" }],
  [id(INTEL, 0x4947), { name: "Intel QAT 420xx VF", kind: "vf" }],
  [id(VIRTIO, 0x1054), { name: "virtio-crypto", kind: "virtio" }],
]);

function id(vendor: number, device: number): number {
  return vendor * 0x10000 + device;
}

/**
 * The known accelerator with these ids.
 *
 * @param vendor PCI vendor id.
 * @param device PCI device id.
 * @returns Its name and kind, or `undefined`.
 */
export function knownDevice(vendor: number, device: number): KnownDevice | undefined {
  return KNOWN.get(id(vendor, device));
}

/** PCI class 0x10: encryption/decryption controller. */
const CLASS_ENCRYPTION = 0x10;
/** PCI class 0x0b40: co-processor, which is how Intel QAT functions present themselves (dpdk-devbind). */
const CLASS_COPROCESSOR = 0x0b40;

/**
 * Whether a function is a crypto accelerator `cryptobridge list` shows without `--all`: a known device, any
 * encryption controller (class 0x10), or an Intel co-processor (class 0x0b40, as dpdk-devbind's crypto list).
 *
 * @param vendor Vendor id.
 * @param device Device id.
 * @param classCode The 24-bit class code (class, subclass, prog-if).
 * @returns true when crypto-capable.
 */
export function isCryptoCapable(vendor: number, device: number, classCode: number): boolean {
  if (knownDevice(vendor, device) !== undefined) return true;
  if (classCode >>> 16 === CLASS_ENCRYPTION) return true;
  return vendor === INTEL && classCode >>> 8 === CLASS_COPROCESSOR;
}

/**
 * Whether a driver is VFIO's: vfio-pci or a vendor variant (virtio_vfio_pci, qat_vfio_pci, mlx5_vfio_pci, …), all
 * of which hand the function to user space through /dev/vfio.
 *
 * @param driver A driver name from sysfs.
 * @returns true for a VFIO PCI driver.
 */
export function isVfioDriver(driver: string): boolean {
  return driver === "vfio-pci" || /[-_]vfio[-_]pci$/.test(driver);
}

/**
 * Whether another function of the same IOMMU group may stay on this driver while one function is given to VFIO.
 * VFIO needs every member unbound or on a driver that does not claim DMA ownership of the group: VFIO drivers,
 * pci-stub, and pcieport (vfio-ffi.md §2.2; kernel commit c7d469849747, `driver_managed_dma`).
 *
 * @param driver The member's driver, or `null` when it has none.
 * @returns true when it does not stop VFIO from using the group.
 */
export function isGroupCompatibleDriver(driver: string | null): boolean {
  return driver === null || isVfioDriver(driver) || driver === "pci-stub" || driver === "pcieport";
}
