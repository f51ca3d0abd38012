/**
 * Bringing a virtio-crypto PCI function up, in the order of VIRTIO v1.2 §3.1.1 (vfio-ffi.md §3.4; DPDK
 * virtio_cryptodev.c, Linux virtio_pci_common.c):
 *
 * 1. `handshake()`: reset, ACKNOWLEDGE | DRIVER, features (VERSION_1 required; ACCESS_PLATFORM, since the device
 *    sits behind an IOMMU; INDIRECT_DESC when offered), FEATURES_OK, then the crypto configuration under its
 *    generation counter, which must say HW_READY.
 * 2. `startQueues()`: MSI-X vectors (0: configuration changes, 1 + i: data queue i's completions; none in poll
 *    mode), the control queue (polled, no vector) and every data queue with their rings in DMA memory, then
 *    DRIVER_OK.
 *
 * Between the two the engine sizes its DMA areas from what the handshake found.
 *
 * @module
 */

import { Layout, VIRTIO_CRYPTO_S_HW_READY } from "../../spec/virtio_crypto.ts";
import { type CryptoConfig, decodeConfig } from "../../crypto/mod.ts";
import {
  featureMask,
  VIRTIO_F_ACCESS_PLATFORM,
  VIRTIO_F_VERSION_1,
  VIRTIO_RING_F_INDIRECT_DESC,
} from "../../virtio/mod.ts";
import { DeviceStatus, VIRTIO_MSI_NO_VECTOR } from "./common_cfg.ts";
import { ControlQueue } from "./control.ts";
import { type DataPathOptions, setUpDataQueue } from "./data_path.ts";
import { VirtioPciError } from "./errors.ts";
import type { DmaArea, VirtioTransportPort } from "./port.ts";

/** Features the engine can use. */
export const WANTED_FEATURES: bigint = featureMask(VIRTIO_F_VERSION_1) |
  featureMask(VIRTIO_F_ACCESS_PLATFORM) |
  featureMask(VIRTIO_RING_F_INDIRECT_DESC);

/** MSI-X vector of configuration changes. */
export const CONFIG_VECTOR = 0;
/** MSI-X vector of data queue 0's completions (queue i uses vector 1 + i). */
export const DATA_VECTOR = 1;

/** What the handshake found. */
export interface Handshake {
  /** Negotiated features. */
  readonly features: bigint;
  /** The crypto configuration. */
  readonly config: CryptoConfig;
  /** Largest sizes of the control queue and the data queues. */
  readonly controlMax: number;
  readonly dataMax: number;
}

/**
 * Resets the device and negotiates features; reads the configuration.
 *
 * @param transport The device.
 * @returns What it offers.
 * @throws VirtioPciError `not-ready` (no HW_READY, no queues); VfioError from the transport (refused features).
 */
export function handshake(transport: VirtioTransportPort): Handshake {
  transport.reset();
  transport.addStatus(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER);
  const features = transport.negotiate(WANTED_FEATURES);
  const bytes = new Uint8Array(Layout.CONFIG);
  transport.readDeviceConfig(0, bytes);
  const config = decodeConfig(bytes);
  if ((config.status & VIRTIO_CRYPTO_S_HW_READY) === 0) {
    throw new VirtioPciError(
      "not-ready",
      "The virtio-crypto device is not ready: its config status lacks HW_READY",
    );
  }
  const controlMax = transport.maxQueueSize(config.maxDataqueues);
  const dataMax = transport.maxQueueSize(0);
  if (config.maxDataqueues < 1 || controlMax === 0 || dataMax === 0) {
    throw new VirtioPciError(
      "not-ready",
      `The virtio-crypto device has no usable queues: max_dataqueues ${config.maxDataqueues}, control queue ` +
        `size ${controlMax}, data queue size ${dataMax}`,
    );
  }
  return { features, config, controlMax, dataMax };
}

/** What `startQueues` needs. */
export interface QueueAreas {
  /** The control queue's DMA area and size. */
  readonly control: { readonly area: DmaArea; readonly size: number };
  /** Each data queue's DMA area and shape (its `vector` included). */
  readonly data: readonly { readonly area: DmaArea; readonly options: DataPathOptions }[];
}

/**
 * Sets the configuration vector, the control queue and every data queue up, then DRIVER_OK. The data queues are
 * only set up here (empty rings); each is driven by a `DataPath` in the thread of the VM it is given to.
 *
 * @param transport The device, after `handshake()` (and MSI-X enabled through VFIO when `vectors`).
 * @param h What the handshake found.
 * @param areas DMA areas and shapes.
 * @param options `vectors`: MSI-X in use (configuration changes on vector 0); `controlTimeoutMs`.
 * @returns The control queue.
 * @throws VirtioPciError `not-ready` when the device does not take DRIVER_OK; VfioError for refused vectors.
 */
export function startQueues(
  transport: VirtioTransportPort,
  h: Handshake,
  areas: QueueAreas,
  options: { readonly vectors: boolean; readonly controlTimeoutMs: number },
): ControlQueue {
  transport.setConfigVector(options.vectors ? CONFIG_VECTOR : VIRTIO_MSI_NO_VECTOR);
  const control = new ControlQueue(
    transport,
    areas.control.area,
    { index: h.config.maxDataqueues, size: areas.control.size },
    options.controlTimeoutMs,
  );
  for (const q of areas.data) setUpDataQueue(transport, q.area, q.options);
  const status = transport.driverOk();
  const broken = DeviceStatus.DEVICE_NEEDS_RESET | DeviceStatus.FAILED;
  if ((status & DeviceStatus.DRIVER_OK) === 0 || (status & broken) !== 0) {
    throw new VirtioPciError(
      "not-ready",
      `The device did not accept DRIVER_OK: status 0x${status.toString(16)}`,
    );
  }
  return control;
}

/**
 * Whether a `device_status` value means the device is running for us: DRIVER_OK set, no DEVICE_NEEDS_RESET or
 * FAILED, and not all-ones (what reads of a vanished PCI device return).
 *
 * @param status The status byte.
 * @returns True when healthy.
 */
export function isRunning(status: number): boolean {
  if (status === 0xff) return false;
  return (status & DeviceStatus.DRIVER_OK) !== 0 &&
    (status & (DeviceStatus.DEVICE_NEEDS_RESET | DeviceStatus.FAILED)) === 0;
}

/**
 * Why a status is not running, for logs.
 *
 * @param status The status byte.
 * @returns A short reason.
 */
export function statusProblem(status: number): string {
  if (status === 0xff) return "the device vanished (status reads all-ones)";
  if ((status & DeviceStatus.DEVICE_NEEDS_RESET) !== 0) {
    return "the device needs a reset (DEVICE_NEEDS_RESET)";
  }
  if ((status & DeviceStatus.FAILED) !== 0) return "the device status says FAILED";
  if ((status & DeviceStatus.DRIVER_OK) === 0) {
    return `the device was reset (status 0x${status.toString(16)})`;
  }
  return "the device is running";
}
