/**
 * Discovery: every PCI function sysfs lists, with its ids, class, driver, IOMMU group and NUMA node.
 *
 * Reads go through a `SysfsAccess` rooted anywhere, so tests enumerate a fake tree built in a temporary folder
 * with the same layout: `bus/pci/devices/<bdf>/{vendor,device,class,numa_node,driver_override}`, the links
 * `driver -> …/drivers/<name>` and `iommu_group -> …/iommu_groups/<n>`, and `kernel/iommu_groups/<n>/devices/`.
 *
 * @module
 */

import type { SysfsAccess } from "../os/mod.ts";
import { normalizeBdf } from "./address.ts";
import { PciError } from "./errors.ts";
import { isCryptoCapable, knownDevice } from "./ids.ts";

/** Where sysfs lists PCI functions, relative to its root. */
export const PCI_DEVICES = "bus/pci/devices";

/** One PCI function as sysfs describes it. */
export interface PciFunction {
  /** Address, `0000:00:04.0`. */
  readonly bdf: string;
  /** Vendor id. */
  readonly vendor: number;
  /** Device id. */
  readonly device: number;
  /** 24-bit class code: class, subclass, programming interface. */
  readonly classCode: number;
  /** The bound driver's name, or `null` when unbound. */
  readonly driver: string | null;
  /** `driver_override`, or `null` when not set. */
  readonly driverOverride: string | null;
  /** IOMMU group number, or `null` when the function has none (no IOMMU). */
  readonly iommuGroup: number | null;
  /** NUMA node, or `null` when the platform does not say (-1). */
  readonly numaNode: number | null;
  /** Name of a known accelerator (`Intel QAT 4xxx VF`, `virtio-crypto`), or `null`. */
  readonly name: string | null;
  /** Whether `cryptobridge list` shows it without `--all`. */
  readonly cryptoCapable: boolean;
}

/**
 * A path under a function's sysfs directory.
 *
 * @param bdf The function.
 * @param attribute A file under it; the directory itself when omitted.
 * @returns The path relative to the sysfs root.
 */
export function functionPath(bdf: string, attribute?: string): string {
  return attribute === undefined ? `${PCI_DEVICES}/${bdf}` : `${PCI_DEVICES}/${bdf}/${attribute}`;
}

/**
 * The last component of a link target (`../../../bus/pci/drivers/vfio-pci` gives `vfio-pci`).
 *
 * @param target A link target, or null.
 * @returns Its base name, or null.
 */
export function linkName(target: string | null): string | null {
  if (target === null) return null;
  const name = target.replace(/\/+$/, "").split("/").pop();
  return name === undefined || name === "" ? null : name;
}

/**
 * The current driver of a function.
 *
 * @param sysfs The sysfs to read.
 * @param bdf The function.
 * @returns The driver's name, or `null` when unbound.
 */
export function currentDriver(sysfs: SysfsAccess, bdf: string): string | null {
  return linkName(sysfs.readlink(functionPath(bdf, "driver")));
}

/**
 * Reads one function.
 *
 * @param sysfs The sysfs to read.
 * @param bdf The function (canonical form).
 * @returns Its description.
 * @throws PciError `not-found` when sysfs has no such function.
 */
export function readPciFunction(sysfs: SysfsAccess, bdf: string): PciFunction {
  const vendorText = sysfs.readText(functionPath(bdf, "vendor"));
  if (vendorText === null) {
    throw new PciError(
      "not-found",
      `No PCI function ${bdf} in ${sysfs.root}/${PCI_DEVICES}: run \`cryptobridge list --all\` to see the functions`,
    );
  }
  const vendor = hex(vendorText);
  const device = hex(sysfs.readText(functionPath(bdf, "device")));
  const classCode = hex(sysfs.readText(functionPath(bdf, "class")));
  const group = linkName(sysfs.readlink(functionPath(bdf, "iommu_group")));
  const numa = Number(sysfs.readText(functionPath(bdf, "numa_node")) ?? "-1");
  const override = sysfs.readText(functionPath(bdf, "driver_override"));
  return {
    bdf,
    vendor,
    device,
    classCode,
    driver: currentDriver(sysfs, bdf),
    driverOverride: override === null || override === "" || override === "(null)" ? null : override,
    iommuGroup: group === null ? null : Number(group),
    numaNode: Number.isInteger(numa) && numa >= 0 ? numa : null,
    name: knownDevice(vendor, device)?.name ?? null,
    cryptoCapable: isCryptoCapable(vendor, device, classCode),
  };
}

/**
 * Every PCI function, in address order.
 *
 * @param sysfs The sysfs to read.
 * @param options `all: false` (the default) keeps only crypto-capable functions.
 * @returns The functions.
 */
export function listPciFunctions(
  sysfs: SysfsAccess,
  options: { readonly all?: boolean } = {},
): PciFunction[] {
  const functions: PciFunction[] = [];
  for (const name of sysfs.list(PCI_DEVICES)) {
    const bdf = normalizeBdf(name);
    if (bdf === null) continue;
    const fn = readPciFunction(sysfs, bdf);
    if (options.all === true || fn.cryptoCapable) functions.push(fn);
  }
  return functions;
}

/** Parses sysfs's `0x1af4`; a missing or malformed attribute reads as 0. */
function hex(text: string | null): number {
  const n = text === null ? NaN : Number.parseInt(text, 16);
  return Number.isNaN(n) ? 0 : n;
}

/**
 * Formats ids as lspci does: `1af4:1054`.
 *
 * @param fn The function.
 * @returns `vendor:device` in four hex digits each.
 */
export function idString(fn: Pick<PciFunction, "vendor" | "device">): string {
  return `${fn.vendor.toString(16).padStart(4, "0")}:${fn.device.toString(16).padStart(4, "0")}`;
}
