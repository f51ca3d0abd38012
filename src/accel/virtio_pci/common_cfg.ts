/**
 * The modern virtio-pci common configuration structure (VIRTIO v1.2 §4.1.4.3, `struct virtio_pci_common_cfg`,
 * 56 bytes; offsets checked with gcc against linux/virtio_pci.h, tests/_fixtures/vfio_layout.c) and the device
 * status bits (§2.1).
 *
 * @module
 */

/** Offsets in the common configuration. Widths: see each name's comment. */
export const CommonCfg = {
  /** u32, driver writes: which 32-bit half `DEVICE_FEATURE` shows. */
  DEVICE_FEATURE_SELECT: 0,
  /** u32, read-only. */
  DEVICE_FEATURE: 4,
  /** u32: which half `DRIVER_FEATURE` sets. */
  DRIVER_FEATURE_SELECT: 8,
  /** u32. */
  DRIVER_FEATURE: 12,
  /** u16: MSI-X vector for configuration changes. */
  MSIX_CONFIG: 16,
  /** u16, read-only. */
  NUM_QUEUES: 18,
  /** u8. */
  DEVICE_STATUS: 20,
  /** u8, read-only: changes whenever the device configuration changes. */
  CONFIG_GENERATION: 21,
  /** u16: the queue the queue_* fields below refer to. */
  QUEUE_SELECT: 22,
  /** u16: maximum on read, the driver may write a smaller power of 2; 0 = no such queue. */
  QUEUE_SIZE: 24,
  /** u16. */
  QUEUE_MSIX_VECTOR: 26,
  /** u16: 1 enables the queue. */
  QUEUE_ENABLE: 28,
  /** u16, read-only: notification address = notify base + queue_notify_off * notify_off_multiplier. */
  QUEUE_NOTIFY_OFF: 30,
  /** u64 as two u32: descriptor table. */
  QUEUE_DESC: 32,
  /** u64 as two u32: available ring ("driver area"). */
  QUEUE_DRIVER: 40,
  /** u64 as two u32: used ring ("device area"). */
  QUEUE_DEVICE: 48,
  /** Size of the structure without the VIRTIO 1.2 extensions. */
  SIZE: 56,
} as const;

/** Device status bits (VIRTIO v1.2 §2.1). */
export const DeviceStatus = {
  ACKNOWLEDGE: 1,
  DRIVER: 2,
  DRIVER_OK: 4,
  FEATURES_OK: 8,
  DEVICE_NEEDS_RESET: 0x40,
  FAILED: 0x80,
} as const;

/** `VIRTIO_MSI_NO_VECTOR`: no MSI-X vector; a device answers it when it cannot take a vector. */
export const VIRTIO_MSI_NO_VECTOR = 0xffff;
