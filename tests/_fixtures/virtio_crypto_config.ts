/**
 * The config space of QEMU 7.2's virtio-crypto-pci (built-in back-end, default 2 MSI-X vectors, iommu_platform=on)
 * at 0000:00:04.0 of the tier-4 guest (q35 + intel-iommu, Debian 6.1 kernel), bound to virtio-pci (so MSI-X is
 * enabled). Recorded once, as root in the guest, with:
 *
 *   deno run -A scripts/guest_lab.ts shell-command --iommu \
 *     'od -v -An -tx1 /sys/bus/pci/devices/0000:00:04.0/config'
 *
 * 256 bytes: conventional PCI (no extended capabilities). Used by the capability-parsing tests.
 *
 * @module
 */

const HEX_ROWS = [
  "f4 1a 54 10 07 05 10 00 01 00 ff 00 00 00 00 00",
  "00 00 00 00 00 30 bf fe 00 00 00 00 00 00 00 00",
  "0c 80 00 fe 00 00 00 00 00 00 00 00 f4 1a 00 11",
  "00 00 00 00 98 00 00 00 00 00 00 00 0a 01 00 00",
  "09 00 10 01 04 00 00 00 00 00 00 00 00 10 00 00",
  "09 40 10 03 04 00 00 00 00 10 00 00 00 10 00 00",
  "09 50 10 04 04 00 00 00 00 20 00 00 00 10 00 00",
  "09 60 14 02 04 00 00 00 00 30 00 00 00 10 00 00",
  "04 00 00 00 09 70 14 05 00 00 00 00 00 00 00 00",
  "00 00 00 00 00 00 00 00 11 84 01 80 01 00 00 00",
  "01 08 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
  "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
  "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
  "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
  "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
  "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
];

/** The 256 recorded bytes. */
export const VIRTIO_CRYPTO_PCI_CONFIG: Uint8Array<ArrayBuffer> = new Uint8Array(
  HEX_ROWS.join(" ").split(" ").map((h) => Number.parseInt(h, 16)),
);
