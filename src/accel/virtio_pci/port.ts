/**
 * What the virtio-crypto engine needs from a PCI function, as interfaces: the virtio-pci transport, DMA memory,
 * MSI-X eventfds and a health read. `openVfioPort()` provides them through VFIO (a real device); the tests on the
 * host provide them with a device model written in TypeScript (`tests/_fixtures/fake_virtio_crypto.ts`), so the
 * engine's logic runs without VFIO and the same code runs in the tier-4 guest on QEMU's device.
 *
 * @module
 */

import type { Reactor } from "../../os/mod.ts";
import { CommonCfg } from "./common_cfg.ts";
import type { DoorbellTicket } from "./doorbell.ts";
import { type QueueSetup, VirtioPciTransport } from "./transport.ts";
import { type DmaBuffer, MsixVectors, type VfioOpenOptions, VfioSession } from "../../vfio/mod.ts";

/** The transport operations the engine uses (`VirtioPciTransport` has them all). */
export interface VirtioTransportPort {
  /** `device_status`, read through the mapped BAR. */
  readonly status: number;
  /** Writes status 0 and waits until the device reads 0. */
  reset(): void;
  /** ORs bits into `device_status`; returns the status read back. */
  addStatus(bits: number): number;
  /** Feature negotiation up to FEATURES_OK; returns the negotiated bits. */
  negotiate(wanted: bigint): bigint;
  /** Reads the device configuration under its generation counter. */
  readDeviceConfig(offset: number, target: Uint8Array): void;
  /** Routes configuration interrupts to an MSI-X vector (or `VIRTIO_MSI_NO_VECTOR`). */
  setConfigVector(vector: number): void;
  /** Largest size of a queue; 0 when it does not exist. */
  maxQueueSize(index: number): number;
  /** Sets a queue up and enables it. */
  setupQueue(index: number, setup: QueueSetup): void;
  /** Sets DRIVER_OK; returns the status read back. */
  driverOk(): number;
  /** Notifies the device of new buffers in a queue. */
  notify(index: number): void;
}

/** Bridge-owned DMA memory: where the device sees it and where the engine writes it. */
export interface DmaArea {
  /** Device address of the first byte. */
  readonly iova: number;
  /** Size in bytes. */
  readonly size: number;
  /** Zero-copy view of the memory. */
  readonly bytes: Uint8Array;
  /** Host address of the first byte. */
  readonly address: bigint;
}

/** DMA for the engine: its own buffers, and guest RAM mapped at IOVA = GPA. */
export interface DmaPort {
  /**
   * Zeroed, page-aligned memory mapped for the device, placed high in IOVA space where guest RAM (mapped at its
   * guest-physical addresses) does not reach.
   */
  allocate(size: number): DmaArea;
  /** Unmaps and frees an area from `allocate`. */
  free(area: DmaArea): void;
  /**
   * Maps memory the caller owns at a fixed IOVA (guest RAM at its GPA).
   *
   * @throws VfioError `iova-exhausted` (the range is not allowed or collides), `dma` (pinning failed).
   */
  mapFixed(address: bigint, iova: number, size: number): void;
  /**
   * Maps memory the caller owns at `preferred` when that IOVA range is free and allowed, else where the allocator
   * finds room (a VM's RAM: preferred IOVA = its host address).
   *
   * @returns The IOVA it got.
   * @throws VfioError `iova-exhausted`, `dma` (pinning failed).
   */
  mapAnywhere(address: bigint, size: number, preferred: number): number;
  /** Undoes `mapFixed`. */
  unmapFixed(iova: number): void;
}

/** One MSI-X vector's eventfd, as the engine uses it. */
export interface VectorPort {
  /** The eventfd, for the reactor. */
  readonly fd: number;
  /** Reads and resets the count. */
  consume(): bigint;
}

/** Enabled MSI-X vectors. */
export interface MsixPort {
  /** Vector `v`'s eventfd. */
  eventfd(vector: number): VectorPort;
  /** Disables MSI-X and closes the eventfds (take them out of the reactor first). */
  close(): void;
}

/** A virtio PCI function the engine drives. */
export interface VirtioPciPort {
  /** Its PCI address (for names and logs). */
  readonly name: string;
  /** The transport. */
  readonly transport: VirtioTransportPort;
  /** DMA memory. */
  readonly dma: DmaPort;
  /** Enables vectors 0..count-1 of MSI-X. @throws when the device has fewer. */
  enableMsix(count: number): MsixPort;
  /** Turns bus mastering on or off (the device may only DMA while it is on). */
  setBusMaster(on: boolean): void;
  /**
   * How another thread notifies a queue that is set up (the register's address; a model may give an eventfd it
   * watches in `reactor`).
   *
   * @param index The queue.
   * @param reactor The main thread's reactor, for a doorbell that needs watching.
   */
  doorbell(index: number, reactor: Reactor | null): DoorbellTicket;
  /**
   * `device_status` read through VFIO (pread), or 0xff when that fails: the health check's read, which cannot
   * fault even when the BAR mapping went away with the device.
   */
  readStatus(): number;
  /**
   * Fault injection: writes `device_status` = 0 through VFIO (pwrite), behind the transport's back, as a reset
   * the driver did not ask for (an FLR, a crashed firmware) would.
   */
  injectReset(): void;
  /** Releases the function (the engine resets the device first). */
  close(): void;
}

/** DMA through a `VfioSession`'s DMA space. */
class VfioDmaPort implements DmaPort {
  readonly #session: VfioSession;
  readonly #buffers = new Map<DmaArea, DmaBuffer>();

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

/** The VFIO implementation: session, transport (BARs mapped), MSI-X. */
class VfioPort implements VirtioPciPort {
  readonly name: string;
  readonly transport: VirtioPciTransport;
  readonly dma: DmaPort;
  readonly #session: VfioSession;
  readonly #statusAt: { bar: number; offset: number };
  readonly #statusByte = new Uint8Array(1);
  #vectors: MsixVectors | null = null;

  constructor(session: VfioSession, transport: VirtioPciTransport) {
    this.name = session.bdf;
    this.#session = session;
    this.transport = transport;
    this.dma = new VfioDmaPort(session);
    const common = transport.layout.common;
    this.#statusAt = { bar: common.bar, offset: common.offset + CommonCfg.DEVICE_STATUS };
  }

  enableMsix(count: number): MsixPort {
    this.#vectors?.close();
    const vectors = MsixVectors.enable(this.#session.device, count);
    this.#vectors = vectors;
    return {
      eventfd: (v) => vectors.eventfd(v),
      close: () => {
        vectors.close();
        if (this.#vectors === vectors) this.#vectors = null;
      },
    };
  }

  doorbell(index: number): DoorbellTicket {
    return { kind: "mmio", address: this.transport.notifyAddress(index).toString(), value: index };
  }

  setBusMaster(on: boolean): void {
    if (!this.#session.device.isOpen) return;
    if (on) this.#session.device.enableBusMaster();
    else this.#session.device.disableBusMaster();
  }

  readStatus(): number {
    try {
      this.#session.device.readRegion(this.#statusAt.bar, this.#statusAt.offset, this.#statusByte);
      return this.#statusByte[0]!;
    } catch {
      return 0xff; // what a read of a device that is gone returns on PCI
    }
  }

  injectReset(): void {
    this.#session.device.writeRegion(this.#statusAt.bar, this.#statusAt.offset, new Uint8Array(1));
  }

  close(): void {
    try {
      this.#vectors?.close();
      this.#vectors = null;
      this.transport.close();
    } finally {
      this.#session.close();
    }
  }
}

/**
 * Opens a function bound to vfio-pci as a port: VFIO session (container or iommufd), its virtio structures
 * located and their BARs mapped. The device itself is left untouched (the engine resets and starts it).
 *
 * @param bdf The function's PCI address.
 * @param options VFIO options (sysfs, /dev, legacy path).
 * @returns The port; the engine closes it unless told otherwise.
 * @throws VfioError when the function cannot be opened; PciError when it is not a modern virtio-pci function.
 */
export function openVfioPort(bdf: string, options: VfioOpenOptions = {}): VirtioPciPort {
  const session = VfioSession.open(bdf, options);
  try {
    return new VfioPort(session, VirtioPciTransport.open(session.device));
  } catch (e) {
    session.close();
    throw e;
  }
}
