/**
 * `deviceInfo`: what VFIO shows of a function bound to vfio-pci (`cryptobridge info`): regions, IRQs, PCI
 * capabilities and, for a virtio device, the virtio-pci capabilities and what the common configuration says
 * (features, queues, status). The device is opened and closed again; nothing is changed.
 *
 * @module
 */

import { VirtioPciTransport } from "../accel/virtio_pci/mod.ts";
import {
  type AcceleratorKind,
  acceleratorKind,
  findMsix,
  idString,
  type MsixCapability,
  parseCapabilities,
  parseVirtioCaps,
  type PciCapability,
  PciError,
  pfAdvice,
  readPciFunction,
  type VirtioPciCap,
} from "../pci/mod.ts";
import {
  IRQ_NAMES,
  type IrqInfo,
  mappableAreas,
  REGION_NAMES,
  type RegionInfo,
  type SparseArea,
  type VfioDevice,
  VfioError,
  VfioSession,
} from "../vfio/mod.ts";
import { canonicalBdf, type HostOptions, requireRoot, sysfsOf } from "./host.ts";

/** A region as `info` reports it. */
export interface RegionReport {
  /** Region index. */
  readonly index: number;
  /** `BAR0` … `CONFIG`. */
  readonly name: string;
  /** Size in bytes. */
  readonly size: number;
  /** Offset in the device fd. */
  readonly offset: number;
  /** `read`, `write`, `mmap`, `caps`, `msix-mappable`. */
  readonly flags: readonly string[];
  /** The kernel's sparse-mmap areas, or null when the whole region may be mapped. */
  readonly sparse: readonly SparseArea[] | null;
  /** What cryptobridge would map (sparse areas minus the MSI-X table and PBA pages). */
  readonly mapped: readonly SparseArea[];
}

/** An IRQ index as `info` reports it. */
export interface IrqReport {
  /** IRQ index. */
  readonly index: number;
  /** `INTx`, `MSI`, `MSI-X`, `ERR`, `REQ`. */
  readonly name: string;
  /** Vectors. */
  readonly count: number;
  /** `eventfd`, `maskable`, `automasked`, `noresize`. */
  readonly flags: readonly string[];
}

/** What the common configuration says. */
export interface VirtioReport {
  /** The virtio-pci vendor capabilities, in list order. */
  readonly caps: readonly VirtioPciCap[];
  /** Hex. */
  readonly deviceFeatures: string;
  /** Names of the set feature bits. */
  readonly featureNames: readonly string[];
  /** `num_queues`. */
  readonly numQueues: number;
  /** `device_status` as found (not changed by `info`). */
  readonly status: number;
}

/** Everything `info` reports. */
export interface InfoReport {
  /** The function. */
  readonly bdf: string;
  /** `vendor:device`. */
  readonly ids: string;
  /** Known accelerator name. */
  readonly name: string | null;
  /** Which of cryptobridge's drivers it is for. */
  readonly kind: AcceleratorKind;
  /** Its driver (a VFIO one). */
  readonly driver: string | null;
  /** Its IOMMU group. */
  readonly iommuGroup: number | null;
  /** `legacy` or `iommufd`. */
  readonly vfioPath: string;
  /** VFIO_DEVICE_GET_INFO. */
  readonly device: {
    readonly flags: number;
    readonly numRegions: number;
    readonly numIrqs: number;
    readonly canReset: boolean;
  };
  /** Implemented regions. */
  readonly regions: readonly RegionReport[];
  /** Implemented IRQ indexes with vectors. */
  readonly irqs: readonly IrqReport[];
  /** PCI capabilities, in list order. */
  readonly capabilities: readonly PciCapability[];
  /** The MSI-X capability, decoded. */
  readonly msix: MsixCapability | null;
  /** For a virtio device. */
  readonly virtio: VirtioReport | null;
}

function flagNames(flags: number, names: readonly string[]): string[] {
  return names.flatMap((name, bit) => (flags & (1 << bit)) !== 0 ? [name] : []);
}

function regionReports(device: VfioDevice, count: number, msix: MsixCapability | null): RegionReport[] {
  const out: RegionReport[] = [];
  for (let index = 0; index < count; index++) {
    const r = regionIfAny(device, index);
    if (r === null || r.size === 0) continue;
    out.push({
      index,
      name: REGION_NAMES[index] ?? `region ${index}`,
      size: r.size,
      offset: r.offset,
      flags: [
        ...flagNames(r.flags, ["read", "write", "mmap", "caps"]),
        ...(r.msixMappable ? ["msix-mappable"] : []),
      ],
      sparse: r.sparseAreas,
      mapped: index <= 5 ? mappableAreas(r, msix) : [],
    });
  }
  return out;
}

/** A region, or `null` for an index the device does not implement (vfio-pci answers EINVAL for VGA on most). */
function regionIfAny(device: VfioDevice, index: number): RegionInfo | null {
  try {
    return device.regionInfo(index);
  } catch (e) {
    if (e instanceof VfioError && e.kind === "region") return null;
    throw e;
  }
}

function irqIfAny(device: VfioDevice, index: number): IrqInfo | null {
  try {
    return device.irqInfo(index);
  } catch (e) {
    if (e instanceof VfioError && e.kind === "irq") return null;
    throw e;
  }
}

function irqReports(device: VfioDevice, count: number): IrqReport[] {
  const out: IrqReport[] = [];
  for (let index = 0; index < count; index++) {
    const i = irqIfAny(device, index);
    if (i === null || i.count === 0) continue;
    const flags = flagNames(i.flags, ["eventfd", "maskable", "automasked", "noresize"]);
    out.push({ index, name: IRQ_NAMES[index] ?? `irq ${index}`, count: i.count, flags });
  }
  return out;
}

/** Feature bit names of the transport (VIRTIO v1.2 §6) and of virtio-crypto (§5.9.3). */
const FEATURE_NAMES: Readonly<Record<number, string>> = {
  0: "CRYPTO_REVISION_1",
  1: "CRYPTO_CIPHER_STATELESS",
  2: "CRYPTO_HASH_STATELESS",
  3: "CRYPTO_MAC_STATELESS",
  4: "CRYPTO_AEAD_STATELESS",
  5: "CRYPTO_AKCIPHER_STATELESS",
  24: "NOTIFY_ON_EMPTY",
  27: "ANY_LAYOUT",
  28: "INDIRECT_DESC",
  29: "EVENT_IDX",
  32: "VERSION_1",
  33: "ACCESS_PLATFORM",
  34: "RING_PACKED",
  35: "IN_ORDER",
  36: "ORDER_PLATFORM",
  37: "SR_IOV",
  38: "NOTIFICATION_DATA",
  39: "NOTIF_CONFIG_DATA",
  40: "RING_RESET",
};

/**
 * Names the set bits of a feature word.
 *
 * @param features The features.
 * @param crypto Whether bits 0..23 are virtio-crypto's.
 * @returns Names, or `bit N` for unknown ones.
 */
export function featureNames(features: bigint, crypto: boolean): string[] {
  const names: string[] = [];
  for (let bit = 0; bit < 64; bit++) {
    if ((features & (1n << BigInt(bit))) === 0n) continue;
    const known = bit < 24 && !crypto ? undefined : FEATURE_NAMES[bit];
    names.push(known ?? `bit ${bit}`);
  }
  return names;
}

function virtioReport(device: VfioDevice, caps: VirtioPciCap[], crypto: boolean): VirtioReport {
  using transport = VirtioPciTransport.open(device);
  const features = transport.deviceFeatures();
  return {
    caps,
    deviceFeatures: `0x${features.toString(16)}`,
    featureNames: featureNames(features, crypto),
    numQueues: transport.numQueues,
    status: transport.status,
  };
}

/**
 * Opens a function bound to VFIO and reports what it shows, changing nothing. Needs root.
 *
 * @param bdf The function's address.
 * @param options The sysfs tree.
 * @returns The report.
 * @throws AdminError `not-root`; PciError `bad-address`, `not-found`; VfioError when it cannot be opened (not on
 *   vfio-pci, the group held by another process).
 *
 * @example
 * ```ts ignore
 * import { deviceInfo } from "./mod.ts";
 * const report = deviceInfo("0000:00:04.0");
 * console.log(report.regions.map((r) => `${r.name} ${r.size}`));
 * ```
 */
export function deviceInfo(bdf: string, options: HostOptions = {}): InfoReport {
  const sysfs = sysfsOf(options);
  requireRoot("info", sysfs);
  bdf = canonicalBdf(bdf);
  const fn = readPciFunction(sysfs, bdf);
  const kind = acceleratorKind(fn.vendor, fn.device);
  if (kind === "qat-gen4-pf") {
    // A PF stays on qat_4xxx, so VFIO cannot open it; say what to do rather than fail on /dev/vfio.
    throw new PciError("physical-function", `Cannot show ${bdf} through VFIO: ${pfAdvice(bdf)}`);
  }
  using session = VfioSession.open(bdf, { sysfs });
  const { device } = session;
  const info = device.info();
  const config = device.readConfigSpace();
  const msix = findMsix(config);
  const caps = parseVirtioCaps(config);
  return {
    bdf,
    ids: idString(fn),
    name: fn.name,
    kind,
    driver: fn.driver,
    iommuGroup: fn.iommuGroup,
    vfioPath: session.path,
    device: {
      flags: info.flags,
      numRegions: info.numRegions,
      numIrqs: info.numIrqs,
      canReset: info.canReset,
    },
    regions: regionReports(device, info.numRegions, msix),
    irqs: irqReports(device, info.numIrqs),
    capabilities: parseCapabilities(config),
    msix,
    virtio: caps.length === 0
      ? null
      : virtioReport(device, caps, fn.vendor === 0x1af4 && fn.device === 0x1054),
  };
}
