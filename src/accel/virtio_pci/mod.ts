/**
 * The virtio-pci accelerator layer: the modern virtio-pci transport over VFIO (capabilities, common
 * configuration, status handshake, queues, notifications) that the virtio-crypto accelerator engine stands on.
 *
 * @module
 */

export { CommonCfg, DeviceStatus, VIRTIO_MSI_NO_VECTOR } from "./common_cfg.ts";
export { type QueueSetup, VirtioPciTransport } from "./transport.ts";
