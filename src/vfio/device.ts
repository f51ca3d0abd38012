/**
 * `VfioDevice`: a VFIO device fd (from a group, or a cdev bound to iommufd). Only device ioctls are sent to it;
 * container and group numbers that collide with device ones (vfio-ffi.md §0) live in other classes.
 *
 * @module
 */

import {
  O_RDWR,
  VFIO_DEVICE_ATTACH_IOMMUFD_PT,
  VFIO_DEVICE_BIND_IOMMUFD,
  VFIO_DEVICE_FLAGS_PCI,
  VFIO_DEVICE_FLAGS_RESET,
  VFIO_DEVICE_GET_INFO,
  VFIO_DEVICE_GET_IRQ_INFO,
  VFIO_DEVICE_GET_REGION_INFO,
  VFIO_DEVICE_RESET,
  VFIO_DEVICE_SET_IRQS,
  VFIO_IRQ_INFO_AUTOMASKED,
  VFIO_IRQ_INFO_EVENTFD,
  VFIO_IRQ_INFO_MASKABLE,
  VFIO_IRQ_INFO_NORESIZE,
  VFIO_PCI_CONFIG_REGION_INDEX,
  VFIO_REGION_INFO_FLAG_CAPS,
} from "../../ffi/constants.ts";
import {
  encodeVfioIrqSet,
  VFIO_ARGSZ,
  VFIO_FLAGS,
  VfioAttachIommufdPt,
  VfioBindIommufd,
  VfioDeviceInfo,
  VfioIrqInfo,
  VfioIrqSet,
  VfioRegionInfo,
} from "../../ffi/vfio_structs.ts";
import {
  Errno,
  ErrnoError,
  type Fd,
  IoctlArg,
  ioctlArg,
  ioctlValue,
  Mapping,
  openPath,
  preadExact,
  pwriteExact,
} from "../os/mod.ts";
import { VfioError } from "./errors.ts";
import { argszNeeded, decodeRegionInfo, type RegionInfo } from "./regions.ts";

/** PCI command register offset and bits (PCI Local Bus 3.0 §6.2.2). */
const PCI_COMMAND = 0x04;
const PCI_COMMAND_MEMORY = 0x2;
const PCI_COMMAND_MASTER = 0x4;

/** What VFIO_DEVICE_GET_INFO reports. */
export interface DeviceInfo {
  /** VFIO_DEVICE_FLAGS_* bits. */
  readonly flags: number;
  /** Region indexes (vfio-pci: 9, plus device-specific ones). */
  readonly numRegions: number;
  /** IRQ indexes (vfio-pci: 5). */
  readonly numIrqs: number;
  /** VFIO_DEVICE_RESET is supported. */
  readonly canReset: boolean;
  /** A vfio-pci device (fixed region and IRQ indexes). */
  readonly isPci: boolean;
}

/** What VFIO_DEVICE_GET_IRQ_INFO reports for one index. */
export interface IrqInfo {
  /** The IRQ index. */
  readonly index: number;
  /** VFIO_IRQ_INFO_* bits. */
  readonly flags: number;
  /** Vectors (MSI-X: the table size; 0: the device has none of this kind). */
  readonly count: number;
  /** Vectors can signal eventfds (what MSI-X here needs). */
  readonly eventfd: boolean;
  /** Vectors can be masked through SET_IRQS. */
  readonly maskable: boolean;
  /** The kernel masks the vector when it fires (INTx); unmask after handling. */
  readonly automasked: boolean;
  /** The vector count cannot change while enabled: disable, then enable with the new count. */
  readonly noresize: boolean;
}

/** A VFIO device. Close it before its group and container (`VfioSession` does). */
export class VfioDevice implements Disposable {
  /** The device's name (its PCI address). */
  readonly name: string;
  readonly #fd: Fd;
  readonly #arg = new IoctlArg(64);
  readonly #regions = new Map<number, RegionInfo>();

  /**
   * Takes ownership of a device fd.
   *
   * @param fd From VFIO_GROUP_GET_DEVICE_FD, or an opened cdev.
   * @param name The device's name, for messages.
   */
  constructor(fd: Fd, name: string) {
    this.#fd = fd;
    this.name = name;
  }

  /**
   * Opens a VFIO device cdev (`/dev/vfio/devices/vfioN`); it grants nothing until `bindIommufd()`.
   *
   * @param path The cdev.
   * @param name The device's name.
   * @returns The device.
   */
  static openCdev(path: string, name: string): VfioDevice {
    return new VfioDevice(openPath(path, O_RDWR), name);
  }

  /** The raw fd, for mmap. @throws Error when closed. */
  get fd(): number {
    return this.#fd.raw;
  }

  /** Whether it is open. */
  get isOpen(): boolean {
    return this.#fd.isOpen;
  }

  /** VFIO_DEVICE_GET_INFO. */
  info(): DeviceInfo {
    const v = this.#arg.reset(VfioDeviceInfo.SIZE);
    v.setUint32(VFIO_ARGSZ, VfioDeviceInfo.SIZE, true);
    ioctlArg(this.#fd.raw, VFIO_DEVICE_GET_INFO, this.#arg.bytes, "VFIO_DEVICE_GET_INFO");
    const flags = v.getUint32(VFIO_FLAGS, true);
    return {
      flags,
      numRegions: v.getUint32(VfioDeviceInfo.NUM_REGIONS, true),
      numIrqs: v.getUint32(VfioDeviceInfo.NUM_IRQS, true),
      canReset: (flags & VFIO_DEVICE_FLAGS_RESET) !== 0,
      isPci: (flags & VFIO_DEVICE_FLAGS_PCI) !== 0,
    };
  }

  /**
   * VFIO_DEVICE_GET_REGION_INFO with its capability chain (queried twice when the chain needs a larger buffer).
   * Cached: regions do not change while the device is open.
   *
   * @param index The region index.
   * @returns The region.
   * @throws VfioError `region` when the device has no such region (EINVAL).
   */
  regionInfo(index: number): RegionInfo {
    const cached = this.#regions.get(index);
    if (cached !== undefined) return cached;
    let size = Math.max(this.#arg.size, VfioRegionInfo.SIZE);
    for (let attempt = 0;; attempt++) {
      const v = this.#arg.reset(size);
      v.setUint32(VFIO_ARGSZ, this.#arg.size, true);
      v.setUint32(VfioRegionInfo.INDEX, index, true);
      this.#ioctlRegion(index);
      const needed = argszNeeded(v, VFIO_REGION_INFO_FLAG_CAPS, VfioRegionInfo.CAP_OFFSET);
      if (needed === 0 || attempt > 0) {
        const info = decodeRegionInfo(
          new DataView(v.buffer, 0, Math.min(v.byteLength, v.getUint32(0, true))),
        );
        this.#regions.set(index, info);
        return info;
      }
      size = needed;
    }
  }

  #ioctlRegion(index: number): void {
    try {
      ioctlArg(this.#fd.raw, VFIO_DEVICE_GET_REGION_INFO, this.#arg.bytes, "VFIO_DEVICE_GET_REGION_INFO");
    } catch (e) {
      if (e instanceof ErrnoError && e.errno === Errno.EINVAL) {
        throw new VfioError("region", `Device ${this.name} has no region ${index}`, { cause: e });
      }
      throw e;
    }
  }

  /**
   * VFIO_DEVICE_GET_IRQ_INFO.
   *
   * @param index The IRQ index (VFIO_PCI_MSIX_IRQ_INDEX = 2).
   * @returns The index's vectors and flags.
   * @throws VfioError `irq` when the device does not implement the index.
   */
  irqInfo(index: number): IrqInfo {
    const v = this.#arg.reset(VfioIrqInfo.SIZE);
    v.setUint32(VFIO_ARGSZ, VfioIrqInfo.SIZE, true);
    v.setUint32(VfioIrqInfo.INDEX, index, true);
    try {
      const bytes = this.#arg.bytes.subarray(0, VfioIrqInfo.SIZE);
      ioctlArg(this.#fd.raw, VFIO_DEVICE_GET_IRQ_INFO, bytes, "VFIO_DEVICE_GET_IRQ_INFO");
    } catch (e) {
      // vfio-pci answers EINVAL for an index it does not implement (ERR on a conventional PCI function).
      if (e instanceof ErrnoError && e.errno === Errno.EINVAL) {
        throw new VfioError("irq", `Device ${this.name} has no IRQ index ${index}`, { cause: e });
      }
      throw e;
    }
    const flags = v.getUint32(VFIO_FLAGS, true);
    return {
      index,
      flags,
      count: v.getUint32(VfioIrqInfo.COUNT, true),
      eventfd: (flags & VFIO_IRQ_INFO_EVENTFD) !== 0,
      maskable: (flags & VFIO_IRQ_INFO_MASKABLE) !== 0,
      automasked: (flags & VFIO_IRQ_INFO_AUTOMASKED) !== 0,
      noresize: (flags & VFIO_IRQ_INFO_NORESIZE) !== 0,
    };
  }

  /**
   * VFIO_DEVICE_SET_IRQS.
   *
   * @param flags One VFIO_IRQ_SET_DATA_* | one VFIO_IRQ_SET_ACTION_*.
   * @param index The IRQ index.
   * @param range First vector and count (count 0 with DATA_NONE | ACTION_TRIGGER disables the index).
   * @param fds For DATA_EVENTFD: one fd per vector, -1 to leave a vector unassigned.
   */
  setIrqs(
    flags: number,
    index: number,
    range: { start: number; count: number },
    fds: readonly number[] = [],
  ): void {
    const v = this.#arg.reset(VfioIrqSet.SIZE + 4 * fds.length);
    encodeVfioIrqSet(v, flags, index, range, 4 * fds.length);
    fds.forEach((fd, i) => v.setInt32(VfioIrqSet.DATA + 4 * i, fd, true));
    ioctlArg(this.#fd.raw, VFIO_DEVICE_SET_IRQS, this.#arg.bytes, "VFIO_DEVICE_SET_IRQS");
  }

  /**
   * VFIO_DEVICE_RESET (a function-level or bus reset, whatever the kernel found for the device).
   *
   * @returns false when the device has no reset method (EINVAL, which DPDK also tolerates).
   */
  reset(): boolean {
    try {
      ioctlValue(this.#fd.raw, VFIO_DEVICE_RESET, 0, "VFIO_DEVICE_RESET");
      return true;
    } catch (e) {
      if (e instanceof ErrnoError && e.errno === Errno.EINVAL) return false;
      throw e;
    }
  }

  /**
   * Reads a region through pread (config space, registers of a BAR that cannot be mmapped).
   *
   * @param index The region.
   * @param offset Offset in the region.
   * @param target Where the bytes go; its length is the read size.
   * @throws VfioError `region` when the read would leave the region.
   */
  readRegion(index: number, offset: number, target: Uint8Array): void {
    preadExact(this.#fd.raw, target, this.#regionOffset(index, offset, target.length));
  }

  /**
   * Writes a region through pwrite: the kernel picks the access width, and vfio-pci filters config writes.
   *
   * @param index The region.
   * @param offset Offset in the region.
   * @param source The bytes.
   */
  writeRegion(index: number, offset: number, source: Uint8Array): void {
    pwriteExact(this.#fd.raw, source, this.#regionOffset(index, offset, source.length));
  }

  /**
   * The whole config space (256 bytes for conventional PCI, 4096 for PCIe), as vfio-pci presents it.
   *
   * @returns A copy of config space.
   */
  readConfigSpace(): Uint8Array<ArrayBuffer> {
    const region = this.regionInfo(VFIO_PCI_CONFIG_REGION_INDEX);
    const bytes = new Uint8Array(new ArrayBuffer(Math.min(region.size, 4096)));
    this.readRegion(VFIO_PCI_CONFIG_REGION_INDEX, 0, bytes);
    return bytes;
  }

  /**
   * Turns on memory decoding and bus mastering (PCI command register bits 1 and 2), so the device may issue DMA,
   * which the IOMMU translates (DPDK `pci_rte_vfio_setup_device` does the same after setting up interrupts).
   * vfio-pci clears bus mastering again when the device fd is closed.
   *
   * @returns The command register afterwards.
   */
  enableBusMaster(): number {
    return this.#updateCommand((command) => command | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
  }

  /**
   * Turns bus mastering off (the device can no longer start DMA).
   *
   * @returns The command register afterwards.
   */
  disableBusMaster(): number {
    return this.#updateCommand((command) => command & ~PCI_COMMAND_MASTER);
  }

  #updateCommand(change: (command: number) => number): number {
    const bytes = new Uint8Array(new ArrayBuffer(2));
    const view = new DataView(bytes.buffer);
    this.readRegion(VFIO_PCI_CONFIG_REGION_INDEX, PCI_COMMAND, bytes);
    const command = change(view.getUint16(0, true)) & 0xffff;
    view.setUint16(0, command, true);
    this.writeRegion(VFIO_PCI_CONFIG_REGION_INDEX, PCI_COMMAND, bytes);
    this.readRegion(VFIO_PCI_CONFIG_REGION_INDEX, PCI_COMMAND, bytes);
    return view.getUint16(0, true);
  }

  #regionOffset(index: number, offset: number, length: number): number {
    const region = this.regionInfo(index);
    if (offset < 0 || offset + length > region.size) {
      throw new VfioError(
        "region",
        `Cannot access region ${index} of ${this.name} at 0x${
          offset.toString(16)
        }+${length}: its size is ${region.size}`,
      );
    }
    return region.offset + offset;
  }

  /**
   * Maps part of a region (MAP_SHARED on the device fd).
   *
   * @param index The region (it must have FLAG_MMAP).
   * @param offset Page-aligned offset in the region.
   * @param length Bytes.
   * @returns The mapping; unmap it before closing the device.
   */
  mapRegion(index: number, offset: number, length: number): Mapping {
    const region = this.regionInfo(index);
    if (!region.mappable) throw new VfioError("region", `Region ${index} of ${this.name} cannot be mmapped`);
    return Mapping.fromFd(this.#fd.raw, length, { offset: this.#regionOffset(index, offset, length) });
  }

  /**
   * VFIO_DEVICE_BIND_IOMMUFD (cdev path): grants access to the device through an iommufd.
   *
   * @param iommufd The raw /dev/iommu fd.
   * @returns The device id in that iommufd.
   */
  bindIommufd(iommufd: number): number {
    const v = this.#arg.reset(VfioBindIommufd.SIZE);
    v.setUint32(VFIO_ARGSZ, VfioBindIommufd.SIZE, true);
    v.setInt32(VfioBindIommufd.IOMMUFD, iommufd, true);
    ioctlArg(
      this.#fd.raw,
      VFIO_DEVICE_BIND_IOMMUFD,
      this.#arg.bytes.subarray(0, VfioBindIommufd.SIZE),
      "VFIO_DEVICE_BIND_IOMMUFD",
    );
    return v.getUint32(VfioBindIommufd.OUT_DEVID, true);
  }

  /**
   * VFIO_DEVICE_ATTACH_IOMMUFD_PT (cdev path): puts the device's DMA in an IOAS.
   *
   * @param ptId The IOAS (or HWPT) id.
   * @returns The id the kernel attached (a HWPT it created for the IOAS).
   */
  attachIommufdPt(ptId: number): number {
    const v = this.#arg.reset(VfioAttachIommufdPt.SIZE);
    v.setUint32(VFIO_ARGSZ, VfioAttachIommufdPt.SIZE, true);
    v.setUint32(VfioAttachIommufdPt.PT_ID, ptId, true);
    const bytes = this.#arg.bytes.subarray(0, VfioAttachIommufdPt.SIZE);
    ioctlArg(this.#fd.raw, VFIO_DEVICE_ATTACH_IOMMUFD_PT, bytes, "VFIO_DEVICE_ATTACH_IOMMUFD_PT");
    return v.getUint32(VfioAttachIommufdPt.PT_ID, true);
  }

  /** Closes the fd (the kernel then disables its interrupts and releases it); idempotent. */
  close(): void {
    this.#fd.close();
    this.#regions.clear();
  }

  /** `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
