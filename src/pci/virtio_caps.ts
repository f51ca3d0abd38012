/**
 * The virtio-pci vendor capabilities (VIRTIO v1.2 §4.1.4; `include/uapi/linux/virtio_pci.h`): where a modern
 * virtio device puts its common configuration, notification area, ISR and device configuration in its BARs.
 * Pure: it parses config-space bytes.
 *
 * `struct virtio_pci_cap` (16 bytes): cap_vndr @0 (0x09), cap_next @1, cap_len @2, cfg_type @3, bar @4, id @5,
 * padding @6, offset @8 (u32), length @12 (u32); the NOTIFY capability adds notify_off_multiplier @16 (u32).
 *
 * @module
 */

import { parseCapabilities, PciCapId } from "./config_space.ts";
import { PciError } from "./errors.ts";

/** `cfg_type` values. */
export const VirtioPciCapType = {
  COMMON: 1,
  NOTIFY: 2,
  ISR: 3,
  DEVICE: 4,
  PCI: 5,
  SHARED_MEMORY: 8,
  VENDOR: 9,
} as const;

const TYPE_NAMES: Readonly<Record<number, string>> = {
  1: "common",
  2: "notify",
  3: "isr",
  4: "device",
  5: "pci-cfg",
  8: "shared-memory",
  9: "vendor",
};

/** One virtio-pci capability. */
export interface VirtioPciCap {
  /** Offset of the capability in config space. */
  readonly capOffset: number;
  /** `cfg_type`. */
  readonly cfgType: number;
  /** `common`, `notify`, `isr`, `device`, `pci-cfg`, … */
  readonly typeName: string;
  /** The BAR it points into. */
  readonly bar: number;
  /** `id` (distinguishes several shared-memory regions). */
  readonly id: number;
  /** Offset of the structure within the BAR. */
  readonly offset: number;
  /** Length of the structure. */
  readonly length: number;
  /** NOTIFY only: queue notify address = notify offset + queue_notify_off * multiplier. */
  readonly notifyOffMultiplier?: number;
}

const VIRTIO_CAP_SIZE = 16;
const NOTIFY_CAP_SIZE = 20;

/**
 * Every virtio-pci vendor capability, in list order.
 *
 * @param config Config space.
 * @returns The capabilities; empty for a device that is not modern virtio.
 * @throws PciError `bad-config` when a capability is shorter than its structure.
 */
export function parseVirtioCaps(config: Uint8Array): VirtioPciCap[] {
  const v = new DataView(config.buffer, config.byteOffset, config.byteLength);
  const caps: VirtioPciCap[] = [];
  for (const cap of parseCapabilities(config)) {
    if (cap.extended || cap.id !== PciCapId.VENDOR) continue;
    const at = cap.offset;
    const capLen = v.getUint8(at + 2);
    const cfgType = v.getUint8(at + 3);
    const need = cfgType === VirtioPciCapType.NOTIFY ? NOTIFY_CAP_SIZE : VIRTIO_CAP_SIZE;
    if (capLen < need || at + need > config.length) {
      throw new PciError(
        "bad-config",
        `Cannot parse virtio capability at 0x${
          at.toString(16)
        }: cap_len must be >= ${need}: current value is ${capLen}`,
      );
    }
    const base = {
      capOffset: at,
      cfgType,
      typeName: TYPE_NAMES[cfgType] ?? `type ${cfgType}`,
      bar: v.getUint8(at + 4),
      id: v.getUint8(at + 5),
      offset: v.getUint32(at + 8, true),
      length: v.getUint32(at + 12, true),
    };
    caps.push(
      cfgType === VirtioPciCapType.NOTIFY
        ? { ...base, notifyOffMultiplier: v.getUint32(at + 16, true) }
        : base,
    );
  }
  return caps;
}

/** The four structures a modern virtio-pci driver needs (the device config may be absent). */
export interface VirtioPciLayout {
  /** `struct virtio_pci_common_cfg`. */
  readonly common: VirtioPciCap;
  /** The notification area, with its multiplier. */
  readonly notify: VirtioPciCap & { readonly notifyOffMultiplier: number };
  /** The ISR status byte. */
  readonly isr: VirtioPciCap;
  /** The device-specific configuration, or `null`. */
  readonly device: VirtioPciCap | null;
}

/**
 * Picks the common, notify, ISR and device capabilities: the first of each type whose BAR is a memory BAR
 * (0..5), as the spec asks drivers to do (VIRTIO v1.2 §4.1.4: "the driver SHOULD use the first instance").
 *
 * @param caps From `parseVirtioCaps`.
 * @returns The layout.
 * @throws PciError `bad-config` when common, notify or ISR is missing (no modern virtio device, as DPDK's
 *   `virtio_read_caps` reports).
 */
export function virtioLayout(caps: readonly VirtioPciCap[]): VirtioPciLayout {
  const first = (type: number): VirtioPciCap | undefined =>
    caps.find((c) => c.cfgType === type && c.bar <= 5);
  const common = first(VirtioPciCapType.COMMON);
  const notify = first(VirtioPciCapType.NOTIFY);
  const isr = first(VirtioPciCapType.ISR);
  if (common === undefined || notify?.notifyOffMultiplier === undefined || isr === undefined) {
    throw new PciError(
      "bad-config",
      "No modern virtio-pci device: the common, notify and ISR capabilities must all be present",
    );
  }
  return {
    common,
    notify: notify as VirtioPciCap & { notifyOffMultiplier: number },
    isr,
    device: first(VirtioPciCapType.DEVICE) ?? null,
  };
}
