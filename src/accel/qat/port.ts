/**
 * What the QAT driver needs from a PCI function, as interfaces, in the shape of the virtio-pci driver's port: the
 * two BARs it uses (BAR0 ring CSRs, BAR2 the PF/VF mailbox) as mapped memory with aligned 32-bit access and host
 * addresses (the data path of another thread writes its CSRs by address), DMA memory, interrupt eventfds, bus
 * mastering, a function-level reset, and a clock for the mailbox. `openQatVfioPort()` provides them through VFIO;
 * the host tests provide them with a model of a gen4 VF (`tests/_fixtures/fake_qat_vf.ts`).
 *
 * @module
 */

import { findMsix, readPciFunction } from "../../pci/mod.ts";
import { Sysfs } from "../../os/mod.ts";
import {
  mappableAreas,
  MsixVectors,
  VFIO_PCI_MSI_IRQ_INDEX,
  VFIO_PCI_MSIX_IRQ_INDEX,
  type VfioDevice,
  VfioError,
  type VfioOpenOptions,
  VfioSession,
} from "../../vfio/mod.ts";
import type { Mapping } from "../../os/mod.ts";
import type { DmaArea, DmaPort, MsixPort } from "../virtio_pci/mod.ts";
import { QatError } from "./errors.ts";
import type { Mmio32 } from "./mailbox.ts";
import { PF2VM_OFFSET } from "./pfvf.ts";
import { BUNDLE_SIZE, BUNDLES } from "./csr.ts";

/** A mapped BAR: aligned 32-bit access, and the host address of offset 0 for threads that write by address. */
export interface MmioBar extends Mmio32 {
  /** Host address of offset 0 of the mapped part. */
  readonly address: bigint;
  /** Mapped bytes from offset 0. */
  readonly size: number;
}

/** A QAT gen4 virtual function as the driver drives it. */
export interface QatPort {
  /** Its PCI address (names, logs). */
  readonly name: string;
  /** Its PCI device id (0x4941, 0x4943, 0x4945). */
  readonly deviceId: number;
  /** Ring CSRs: four bundles of 0x2000 bytes. */
  readonly bar0: MmioBar;
  /** The PMISC BAR, with the mailbox at 0x1008/0x100C. */
  readonly bar2: MmioBar;
  /** DMA memory, and guest RAM at fixed IOVAs. */
  readonly dma: DmaPort;
  /** Waits about `us` microseconds (the mailbox's polling; the model's clock in tests). */
  delay(us: number): void;
  /** Interrupt vectors available (MSI-X, else MSI); 0 when the function has none. */
  readonly vectors: number;
  /** Enables vectors 0..count-1, each an eventfd. */
  enableIrq(count: number): MsixPort;
  /** Turns bus mastering on or off (the function may only DMA while it is on). */
  setBusMaster(on: boolean): void;
  /** A function-level reset through VFIO (`VFIO_DEVICE_RESET`); false when the function has no reset method. */
  resetFunction(): boolean;
  /**
   * A 32-bit read of a BAR through VFIO (pread), or 0xFFFFFFFF when that fails: the health check's read, which
   * cannot fault even when the BAR mapping went away with the device.
   */
  probe32(bar: number, offset: number): number;
  /** Releases the function. */
  close(): void;
}

/** How much of each BAR the driver needs mapped. */
const BAR0_NEEDED = BUNDLES * BUNDLE_SIZE;
const BAR2_NEEDED = PF2VM_OFFSET + 8;

class MappedBar implements MmioBar {
  readonly address: bigint;
  readonly size: number;
  readonly #u32: Uint32Array;
  readonly #mapping: Mapping;

  constructor(mapping: Mapping) {
    this.#mapping = mapping;
    this.address = mapping.address;
    this.size = mapping.length;
    // Aligned 32-bit views only: a DataView store to MMIO is four byte stores (vfio-ffi.md finding 5).
    this.#u32 = new Uint32Array(mapping.bytes.buffer, mapping.bytes.byteOffset, mapping.length >>> 2);
  }

  read32(offset: number): number {
    return this.#u32[offset >>> 2]!;
  }

  write32(offset: number, value: number): void {
    this.#u32[offset >>> 2] = value;
  }

  close(): void {
    this.#mapping.unmap();
  }
}

/** Maps the mappable area of a BAR that starts at offset 0 and covers `needed` bytes. */
function mapBar(device: VfioDevice, bar: number, needed: number, config: Uint8Array): MappedBar {
  const region = device.regionInfo(bar);
  const area = mappableAreas(region, findMsix(config)).find((a) => a.offset === 0 && a.size >= needed);
  if (area === undefined) {
    throw new QatError(
      "bar",
      `BAR${bar} of ${device.name} cannot be mapped from offset 0 over 0x${needed.toString(16)} bytes ` +
        `(size 0x${region.size.toString(16)}): is it a QAT gen4 VF?`,
    );
  }
  return new MappedBar(device.mapRegion(bar, 0, area.size));
}

class VfioDma implements DmaPort {
  readonly #session: VfioSession;
  readonly #buffers = new Map<DmaArea, ReturnType<VfioSession["dma"]["allocate"]>>();

  constructor(session: VfioSession) {
    this.#session = session;
  }

  allocate(size: number): DmaArea {
    const buffer = this.#session.dma.allocate(size, "high");
    const area: DmaArea = {
      iova: buffer.iova,
      size: buffer.size,
      bytes: buffer.bytes,
      address: buffer.address,
    };
    this.#buffers.set(area, buffer);
    return area;
  }

  free(area: DmaArea): void {
    const buffer = this.#buffers.get(area);
    if (buffer === undefined) return;
    this.#buffers.delete(area);
    this.#session.dma.free(buffer);
  }

  mapFixed(address: bigint, iova: number, size: number): void {
    this.#session.dma.mapFixed(address, iova, size);
  }

  mapAnywhere(address: bigint, size: number, preferred: number): number {
    return this.#session.dma.mapAnywhere(address, size, preferred);
  }

  unmapFixed(iova: number): void {
    this.#session.dma.unmapFixed(iova);
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

class VfioQatPort implements QatPort {
  readonly name: string;
  readonly deviceId: number;
  readonly bar0: MappedBar;
  readonly bar2: MappedBar;
  readonly dma: DmaPort;
  readonly vectors: number;
  readonly #session: VfioSession;
  readonly #irqIndex: number;
  readonly #probe = new Uint8Array(4);

  constructor(session: VfioSession, deviceId: number) {
    this.#session = session;
    this.name = session.bdf;
    this.deviceId = deviceId;
    const device = session.device;
    const config = device.readConfigSpace();
    this.bar0 = mapBar(device, 0, BAR0_NEEDED, config);
    try {
      this.bar2 = mapBar(device, 2, BAR2_NEEDED, config);
    } catch (e) {
      this.bar0.close();
      throw e;
    }
    this.dma = new VfioDma(session);
    const msix = vectorCount(device, VFIO_PCI_MSIX_IRQ_INDEX);
    this.#irqIndex = msix > 0 ? VFIO_PCI_MSIX_IRQ_INDEX : VFIO_PCI_MSI_IRQ_INDEX;
    this.vectors = msix > 0 ? msix : vectorCount(device, VFIO_PCI_MSI_IRQ_INDEX);
  }

  delay(us: number): void {
    Atomics.wait(sleeper, 0, 0, us / 1000);
  }

  enableIrq(count: number): MsixPort {
    const vectors = MsixVectors.enable(this.#session.device, count, this.#irqIndex);
    return { eventfd: (v) => vectors.eventfd(v), close: () => vectors.close() };
  }

  setBusMaster(on: boolean): void {
    const device = this.#session.device;
    if (!device.isOpen) return;
    if (on) device.enableBusMaster();
    else device.disableBusMaster();
  }

  resetFunction(): boolean {
    return this.#session.device.reset();
  }

  probe32(bar: number, offset: number): number {
    try {
      this.#session.device.readRegion(bar, offset, this.#probe);
      return new Uint32Array(this.#probe.buffer)[0]!;
    } catch {
      return 0xffff_ffff; // what a read of a function that is gone returns on PCI
    }
  }

  close(): void {
    try {
      this.bar0.close();
      this.bar2.close();
    } finally {
      this.#session.close();
    }
  }
}

function vectorCount(device: VfioDevice, index: number): number {
  try {
    const info = device.irqInfo(index);
    return info.eventfd ? info.count : 0;
  } catch (e) {
    if (e instanceof VfioError && e.kind === "irq") return 0;
    throw e;
  }
}

/**
 * Opens a QAT gen4 VF bound to vfio-pci: VFIO session, BAR0 and BAR2 mapped. The function itself is not touched
 * (the device side resets and starts it).
 *
 * @param bdf The VF's PCI address.
 * @param options VFIO options (sysfs, /dev).
 * @returns The port; the engine closes it unless told otherwise.
 * @throws VfioError when it cannot be opened; QatError `bar` when its BARs are not a gen4 VF's.
 */
export function openQatVfioPort(bdf: string, options: VfioOpenOptions = {}): QatPort {
  const fn = readPciFunction(options.sysfs ?? new Sysfs(), bdf);
  const session = VfioSession.open(bdf, options);
  try {
    return new VfioQatPort(session, fn.device);
  } catch (e) {
    session.close();
    throw e;
  }
}
