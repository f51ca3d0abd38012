/**
 * `VirtioPciTransport`: the modern virtio-pci transport driven from user space through VFIO (VIRTIO v1.2 §4.1),
 * the part of DPDK's crypto_virtio driver that is not about crypto: the vendor capabilities located in config
 * space, their BARs mapped (never over the MSI-X table), the common configuration read and written with single
 * aligned MMIO accesses, the status handshake, feature negotiation, queue setup with MSI-X vectors, notifications
 * and the device configuration read under its generation counter.
 *
 * Order of operations (vfio-ffi.md §3.4; DPDK virtio_cryptodev.c, Linux virtio_pci_common.c): `reset()`,
 * `addStatus(ACKNOWLEDGE | DRIVER)`, `negotiate()` (sets FEATURES_OK and checks it stuck), enable MSI-X through
 * VFIO, `setConfigVector()`, `setupQueue()` per queue, `driverOk()`; then `notify()` after publishing buffers.
 *
 * @module
 */

import {
  findMsix,
  type MsixCapability,
  parseVirtioCaps,
  virtioLayout,
  type VirtioPciLayout,
} from "../../pci/mod.ts";
import { BarMapping, type MmioWindow, type VfioDevice, VfioError } from "../../vfio/mod.ts";
import { VIRTIO_F_VERSION_1 } from "../../virtio/mod.ts";
import { CommonCfg, DeviceStatus } from "./common_cfg.ts";

/** Where a queue's rings are (device addresses: IOVAs) and which MSI-X vector it signals. */
export interface QueueSetup {
  /** Queue size to use (a power of 2, at most what the device offers). */
  readonly size: number;
  /** Descriptor table IOVA (16-byte aligned). */
  readonly desc: number;
  /** Available ring IOVA (2-byte aligned). */
  readonly avail: number;
  /** Used ring IOVA (4-byte aligned). */
  readonly used: number;
  /** MSI-X vector, or `VIRTIO_MSI_NO_VECTOR`. */
  readonly vector: number;
}

/** How long `reset()` waits for the device to read back status 0. */
const RESET_TIMEOUT_MS = 1000;

/** A modern virtio-pci device behind VFIO. */
export class VirtioPciTransport implements Disposable {
  /** Where the structures are. */
  readonly layout: VirtioPciLayout;
  /** The MSI-X capability, or `null`. */
  readonly msix: MsixCapability | null;
  readonly #bars: BarMapping[];
  readonly #common: MmioWindow;
  readonly #notify: MmioWindow;
  readonly #isr: MmioWindow;
  readonly #device: MmioWindow | null;
  // Notification offset (in the notify window) per queue, known once the queue is set up.
  readonly #notifyOffsets = new Map<number, number>();

  private constructor(layout: VirtioPciLayout, msix: MsixCapability | null, bars: BarMapping[]) {
    this.layout = layout;
    this.msix = msix;
    this.#bars = bars;
    const window = (cap: { bar: number; offset: number; length: number }, min: number): MmioWindow =>
      bars.find((b) => b.bar === cap.bar)!.window(cap.offset, Math.max(min, cap.length));
    this.#common = window(layout.common, CommonCfg.SIZE);
    this.#notify = window(layout.notify, 2);
    this.#isr = window(layout.isr, 1);
    this.#device = layout.device === null ? null : window(layout.device, 0);
  }

  /**
   * Locates the virtio structures in config space and maps their BARs.
   *
   * @param device An open VFIO device.
   * @returns The transport (the device's state is untouched).
   * @throws PciError `bad-config` for a device that is not modern virtio-pci; VfioError `region` when a structure
   *   lies outside the mappable part of its BAR.
   */
  static open(device: VfioDevice): VirtioPciTransport {
    const config = device.readConfigSpace();
    const layout = virtioLayout(parseVirtioCaps(config));
    const msix = findMsix(config);
    const wanted = [
      ...new Set([layout.common, layout.notify, layout.isr, layout.device].flatMap((c) => c ? [c.bar] : [])),
    ];
    const bars: BarMapping[] = [];
    try {
      for (const bar of wanted) bars.push(BarMapping.map(device, bar, msix));
      return new VirtioPciTransport(layout, msix, bars);
    } catch (e) {
      for (const b of bars) b.close();
      throw e;
    }
  }

  /** The device's feature bits (both 32-bit halves through `device_feature_select`). */
  deviceFeatures(): bigint {
    return this.#readFeatures(CommonCfg.DEVICE_FEATURE_SELECT, CommonCfg.DEVICE_FEATURE);
  }

  /** The driver feature bits as last written. */
  driverFeatures(): bigint {
    return this.#readFeatures(CommonCfg.DRIVER_FEATURE_SELECT, CommonCfg.DRIVER_FEATURE);
  }

  #readFeatures(select: number, value: number): bigint {
    this.#common.write32(select, 0);
    const low = this.#common.read32(value);
    this.#common.write32(select, 1);
    const high = this.#common.read32(value);
    return (BigInt(high) << 32n) | BigInt(low);
  }

  /** `device_status`. */
  get status(): number {
    return this.#common.read8(CommonCfg.DEVICE_STATUS);
  }

  /** `num_queues`: how many queues the device has. */
  get numQueues(): number {
    return this.#common.read16(CommonCfg.NUM_QUEUES);
  }

  /** `config_generation`. */
  get configGeneration(): number {
    return this.#common.read8(CommonCfg.CONFIG_GENERATION);
  }

  /**
   * Resets the device: writes status 0 and waits until it reads 0 (VIRTIO v1.2 §4.1.4.3.2: the driver must not
   * go on before). Queues, vectors and features are gone afterwards.
   *
   * @throws VfioError `unsupported` when the device does not finish resetting within a second.
   */
  reset(): void {
    this.#common.write8(CommonCfg.DEVICE_STATUS, 0);
    const deadline = performance.now() + RESET_TIMEOUT_MS;
    while (this.status !== 0) {
      if (performance.now() > deadline) {
        throw new VfioError("unsupported", `Cannot reset the virtio device: status still ${this.status}`);
      }
    }
    this.#notifyOffsets.clear();
  }

  /**
   * ORs bits into `device_status` (each step of the handshake keeps the earlier bits).
   *
   * @param bits `DeviceStatus` bits.
   * @returns The status read back.
   */
  addStatus(bits: number): number {
    this.#common.write8(CommonCfg.DEVICE_STATUS, this.status | bits);
    return this.status;
  }

  /**
   * Feature negotiation (VIRTIO v1.2 §3.1.1 steps 4-6): writes `device ∩ wanted`, sets FEATURES_OK and checks
   * that the device kept it.
   *
   * @param wanted The features the driver supports (VERSION_1 is required).
   * @returns The negotiated features.
   * @throws VfioError `unsupported` when the device lacks VERSION_1 or refuses the subset.
   */
  negotiate(wanted: bigint): bigint {
    const features = this.deviceFeatures() & wanted;
    if ((features & (1n << BigInt(VIRTIO_F_VERSION_1))) === 0n) {
      throw new VfioError(
        "unsupported",
        "Cannot drive the device: it does not offer VIRTIO_F_VERSION_1 (modern virtio)",
      );
    }
    this.#common.write32(CommonCfg.DRIVER_FEATURE_SELECT, 0);
    this.#common.write32(CommonCfg.DRIVER_FEATURE, Number(features & 0xffff_ffffn));
    this.#common.write32(CommonCfg.DRIVER_FEATURE_SELECT, 1);
    this.#common.write32(CommonCfg.DRIVER_FEATURE, Number(features >> 32n));
    if ((this.addStatus(DeviceStatus.FEATURES_OK) & DeviceStatus.FEATURES_OK) === 0) {
      throw new VfioError(
        "unsupported",
        `The device refused features 0x${features.toString(16)} (FEATURES_OK not set)`,
      );
    }
    return features;
  }

  /**
   * Routes configuration-change interrupts to an MSI-X vector (enable MSI-X through VFIO first).
   *
   * @param vector The vector, or `VIRTIO_MSI_NO_VECTOR`.
   * @throws VfioError `irq` when the device answers with another vector (0xffff: no resources).
   */
  setConfigVector(vector: number): void {
    this.#common.write16(CommonCfg.MSIX_CONFIG, vector);
    const got = this.#common.read16(CommonCfg.MSIX_CONFIG);
    if (got !== vector) {
      throw new VfioError(
        "irq",
        `The device refused MSI-X vector ${vector} for config changes (read ${got})`,
      );
    }
  }

  /**
   * The largest size the device offers for a queue.
   *
   * @param index The queue.
   * @returns Its maximum size; 0 when the queue does not exist.
   */
  maxQueueSize(index: number): number {
    this.#common.write16(CommonCfg.QUEUE_SELECT, index);
    return this.#common.read16(CommonCfg.QUEUE_SIZE);
  }

  /**
   * Sets a queue up and enables it (VIRTIO v1.2 §4.1.5.1.3): size, vector (checked), ring addresses as lo/hi
   * 32-bit halves, notification offset, `queue_enable = 1`.
   *
   * @param index The queue.
   * @param setup Size, ring IOVAs and vector.
   * @throws VfioError `unsupported` for a missing queue or too large a size, `irq` for a refused vector.
   */
  setupQueue(index: number, setup: QueueSetup): void {
    const max = this.maxQueueSize(index);
    if (max === 0 || setup.size > max || (setup.size & (setup.size - 1)) !== 0) {
      throw new VfioError(
        "unsupported",
        `Cannot set up queue ${index} with size ${setup.size}: the device offers ${max}`,
      );
    }
    const c = this.#common;
    c.write16(CommonCfg.QUEUE_SIZE, setup.size);
    c.write16(CommonCfg.QUEUE_MSIX_VECTOR, setup.vector);
    if (c.read16(CommonCfg.QUEUE_MSIX_VECTOR) !== setup.vector) {
      throw new VfioError("irq", `The device refused MSI-X vector ${setup.vector} for queue ${index}`);
    }
    c.write64(CommonCfg.QUEUE_DESC, setup.desc);
    c.write64(CommonCfg.QUEUE_DRIVER, setup.avail);
    c.write64(CommonCfg.QUEUE_DEVICE, setup.used);
    const offset = c.read16(CommonCfg.QUEUE_NOTIFY_OFF) * this.layout.notify.notifyOffMultiplier;
    if (offset + 2 > this.#notify.length) {
      throw new VfioError(
        "region",
        `Queue ${index}'s notification offset 0x${offset.toString(16)} is outside the notify area`,
      );
    }
    this.#notifyOffsets.set(index, offset);
    c.write16(CommonCfg.QUEUE_ENABLE, 1);
  }

  /** Sets DRIVER_OK: the device may now use the queues. @returns The status read back. */
  driverOk(): number {
    return this.addStatus(DeviceStatus.DRIVER_OK);
  }

  /**
   * The host address of a queue's notification register, for a thread that notifies without this object (a VM's
   * Worker re-wraps it as a one-element `Uint16Array`: one 16-bit store, as `notify()` does).
   *
   * @param index The queue, set up.
   * @returns The address.
   */
  notifyAddress(index: number): bigint {
    const offset = this.#notifyOffsets.get(index);
    if (offset === undefined) {
      throw new RangeError(`Cannot locate queue ${index}'s notification: it is not set up`);
    }
    return this.#notify.address + BigInt(offset);
  }

  /**
   * Notifies the device of new buffers in a queue: one 16-bit store of the queue index at its notification address
   * (§4.1.5.2; no NOTIFICATION_DATA).
   *
   * @param index A queue set up with `setupQueue`.
   */
  notify(index: number): void {
    const offset = this.#notifyOffsets.get(index);
    if (offset === undefined) throw new RangeError(`Cannot notify queue ${index}: it is not set up`);
    this.#notify.write16(offset, index);
  }

  /** Reads (and so clears) the ISR status byte: bit 0 queue interrupt, bit 1 configuration change. */
  readIsr(): number {
    return this.#isr.read8(0);
  }

  /**
   * Reads the device-specific configuration consistently: repeats until `config_generation` is the same before
   * and after (§4.1.4.3.1), reading 32-bit aligned words where possible.
   *
   * @param offset Offset in the device configuration.
   * @param target Where the bytes go.
   * @throws VfioError `region` when the device has no device configuration or the range is outside it.
   */
  readDeviceConfig(offset: number, target: Uint8Array): void {
    const d = this.#device;
    if (d === null) throw new VfioError("region", "The device has no device-specific configuration");
    for (let generation = this.configGeneration;;) {
      // 32-bit fields need aligned 32-bit reads (§4.1.3.1); bytes only for what does not fill an aligned word.
      for (let i = 0; i < target.length;) {
        if ((offset + i) % 4 === 0 && i + 4 <= target.length) {
          const word = d.read32(offset + i);
          for (let b = 0; b < 4; b++) target[i + b] = (word >>> (8 * b)) & 0xff;
          i += 4;
        } else {
          target[i] = d.read8(offset + i);
          i += 1;
        }
      }
      const again = this.configGeneration;
      if (again === generation) return;
      generation = again;
    }
  }

  /** Unmaps the BARs (the caller resets the device first if it ran). Idempotent. */
  close(): void {
    for (const b of this.#bars) b.close();
  }

  /** `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
