/**
 * The QEMU command line of a guest boot: TCG, q35, memfd RAM shared with vhost-user back-ends, the 9p shares,
 * the optional virtual IOMMU and the crypto device; and the check, before QEMU starts, that a vhost-user
 * back-end is listening.
 *
 * @module
 */

import type { BootOptions, CryptoDevice } from "./boot_options.ts";
import type { GuestImage } from "./image.ts";
import { GuestLabError } from "./tools.ts";

const DEFAULT_MEMORY_MIB = 512;

/**
 * Refuses to boot without the vhost-user socket: QEMU connects to it as the client, so the back-end must listen
 * before the boot.
 *
 * @param device The crypto device.
 * @throws {GuestLabError} `qemu` when there is no socket at `device.socket`.
 */
export function checkCryptoDevice(device: CryptoDevice): void {
  if (device.kind !== "vhost-user") return;
  let isSocket = false;
  try {
    isSocket = Deno.statSync(device.socket).isSocket === true;
  } catch {
    // reported below
  }
  if (!isSocket) {
    throw new GuestLabError(
      "qemu",
      `Cannot boot the guest: no vhost-user socket at ${device.socket}: start the back-end first ` +
        "(QEMU connects as the client and reads HW_READY once, at reset)",
    );
  }
}

/**
 * The QEMU command line (without the program) for a boot: TCG, q35, memfd RAM shared with vhost-user back-ends,
 * the 9p shares, the crypto device, then `extraArgs`.
 *
 * @param options Memory, crypto device and extra arguments.
 * @param image The kernel and initramfs.
 * @param resultsDir The host directory shared as `results`.
 * @returns The arguments.
 */
export function qemuArgs(options: BootOptions, image: GuestImage, resultsDir: string): string[] {
  const mem = options.memoryMiB ?? DEFAULT_MEMORY_MIB;
  const iommu = options.iommu === true;
  const append = [
    "console=ttyS0 quiet panic=-1",
    ...(iommu ? ["intel_iommu=on"] : []),
    ...options.kernelArgs ?? [],
  ];
  return [
    ...["-accel", "tcg", "-M", "q35", "-m", `${mem}`, "-nographic", "-no-reboot", "-nic", "none"],
    ...["-object", `memory-backend-memfd,id=mem,size=${mem}M,share=on`, "-numa", "node,memdev=mem"],
    ...["-kernel", image.kernel, "-initrd", image.initrd, "-append", append.join(" ")],
    // The IOMMU comes before every PCI device: QEMU gives a device its DMA address space when it is created.
    ...(iommu ? ["-device", "intel-iommu,intremap=on"] : []),
    ...["-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"],
    ...["-virtfs", `local,path=${resultsDir},mount_tag=results,security_model=none`],
    ...cryptoArgs(options.crypto ?? { kind: "builtin" }, iommu),
    ...(options.extraArgs ?? []),
  ];
}

function cryptoArgs(device: CryptoDevice, iommu: boolean): string[] {
  switch (device.kind) {
    case "builtin":
      return [
        ...["-object", "cryptodev-backend-builtin,id=cd0"],
        ...["-device", `virtio-crypto-pci,id=crypto0,cryptodev=cd0${iommu ? ",iommu_platform=on" : ""}`],
      ];
    case "vhost-user":
      // vectors=0 (INTx): with MSI-X, QEMU 7.2 under TCG segfaults when the driver starts a vhost-user
      // device (guest-lab.md, tier 3).
      return [
        ...["-chardev", `socket,id=vu0,path=${device.socket}`],
        ...["-object", "cryptodev-vhost-user,id=cd0,chardev=vu0"],
        ...["-device", "virtio-crypto-pci,id=crypto0,cryptodev=cd0,vectors=0"],
      ];
    case "none":
      return [];
  }
}
