/**
 * Bringing a virtio-crypto PCI function up, in the order of VIRTIO v1.2 §3.1.1 (vfio-ffi.md §3.4; DPDK
 * virtio_cryptodev.c, Linux virtio_pci_common.c):
 *
 * 1. `handshake()`: reset, ACKNOWLEDGE | DRIVER, features (VERSION_1 required; ACCESS_PLATFORM, since the device
 *    sits behind an IOMMU; INDIRECT_DESC when offered), FEATURES_OK, then the crypto configuration under its
 *    generation counter, which must say HW_READY.
 * 2. `startQueues()`: MSI-X vectors (0: configuration changes, 1: data queue completions; none in poll mode), the
 *    control queue (polled, no vector) and data queue 0 with their rings in DMA memory, then DRIVER_OK.
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
import { DataPath, type DataPathOptions } from "./data_path.ts";
import { VirtioPciError } from "./errors.ts";
import type { DmaArea, VirtioTransportPort } from "./port.ts";
import type { GuestDmaLookup } from "./request_builder.ts";

/** Features the engine can use. */
export const WANTED_FEATURES: bigint = featureMask(VIRTIO_F_VERSION_1) |
  featureMask(VIRTIO_F_ACCESS_PLATFORM) |
  featureMask(VIRTIO_RING_F_INDIRECT_DESC);

/** MSI-X vector of configuration changes. */
export const CONFIG_VECTOR = 0;
/** MSI-X vector of data queue completions. */
export const DATA_VECTOR = 1;

/** What the handshake found. */
export interface Handshake {
  /** Negotiated features. */
  readonly features: bigint;
  /** The crypto configuration. */
  readonly config: CryptoConfig;
  /** Largest sizes of the control queue and data queue 0. */
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

/** The queues of a started device. */
export interface Queues {
  readonly control: ControlQueue;
  readonly data: DataPath;
}

/** What `startQueues` needs. */
export interface QueueAreas {
  /** The control queue's DMA area and size. */
  readonly control: { readonly area: DmaArea; readonly size: number };
  /** The data queue's DMA area and shape (its `vector` is set here). */
  readonly data: { readonly area: DmaArea; readonly options: Omit<DataPathOptions, "vector"> };
}

/**
 * Sets the vectors and both queues up, then DRIVER_OK.
 *
 * @param transport The device, after `handshake()` (and MSI-X enabled through VFIO when `vectors`).
 * @param h What the handshake found.
 * @param areas DMA areas and shapes.
 * @param options `vectors`: MSI-X in use; `controlTimeoutMs`; `guest`: where guest RAM is mapped.
 * @returns The queues.
 * @throws VirtioPciError `not-ready` when the device does not take DRIVER_OK; VfioError for refused vectors.
 */
export function startQueues(
  transport: VirtioTransportPort,
  h: Handshake,
  areas: QueueAreas,
  options: { readonly vectors: boolean; readonly controlTimeoutMs: number; readonly guest: GuestDmaLookup },
): Queues {
  transport.setConfigVector(options.vectors ? CONFIG_VECTOR : VIRTIO_MSI_NO_VECTOR);
  const control = new ControlQueue(
    transport,
    areas.control.area,
    { index: h.config.maxDataqueues, size: areas.control.size },
    options.controlTimeoutMs,
  );
  const vector = options.vectors ? DATA_VECTOR : VIRTIO_MSI_NO_VECTOR;
  const data = new DataPath(transport, areas.data.area, { ...areas.data.options, vector }, options.guest);
  const status = transport.driverOk();
  const broken = DeviceStatus.DEVICE_NEEDS_RESET | DeviceStatus.FAILED;
  if ((status & DeviceStatus.DRIVER_OK) === 0 || (status & broken) !== 0) {
    throw new VirtioPciError(
      "not-ready",
      `The device did not accept DRIVER_OK: status 0x${status.toString(16)}`,
    );
  }
  return { control, data };
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
