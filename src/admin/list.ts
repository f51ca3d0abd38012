/**
 * Listing the host's PCI crypto accelerators (`cryptobridge list`).
 *
 * @module
 */

import { type AcceleratorKind, acceleratorKind, listPciFunctions, type PciFunction } from "../pci/mod.ts";
import { type HostOptions, sysfsOf } from "./host.ts";

/** Options of `listFunctions`. */
export interface ListOptions extends HostOptions {
  /** Every PCI function, not only crypto-capable ones. Default false. */
  readonly all?: boolean;
}

/** A function as `list --json` prints it: ids as hex strings. */
export type ListEntry = Omit<PciFunction, "vendor" | "device" | "classCode"> & {
  /** Vendor id, 4 hex digits. */
  readonly vendor: string;
  /** Device id, 4 hex digits. */
  readonly device: string;
  /** Class code, 6 hex digits. */
  readonly class: string;
  /** Which of cryptobridge's drivers it is for (`qat-gen4-pf`: create VFs instead). */
  readonly kind: AcceleratorKind;
};

/**
 * The crypto-capable PCI functions (known accelerators, class 10, Intel 0b40 co-processors), or all of them.
 * Needs no root.
 *
 * @param options Which functions, which sysfs.
 * @returns The functions, in address order.
 *
 * @example
 * ```ts ignore
 * import { listFunctions } from "./mod.ts";
 * for (const f of listFunctions()) console.log(f.bdf, f.driver, f.name);
 * ```
 */
export function listFunctions(options: ListOptions = {}): PciFunction[] {
  return listPciFunctions(sysfsOf(options), { all: options.all === true });
}

/**
 * A function with its ids as hex strings (the JSON form).
 *
 * @param fn The function.
 * @returns The entry.
 */
export function listEntry(fn: PciFunction): ListEntry {
  const { bdf, vendor, device, classCode, ...rest } = fn;
  return {
    bdf,
    vendor: vendor.toString(16).padStart(4, "0"),
    device: device.toString(16).padStart(4, "0"),
    class: classCode.toString(16).padStart(6, "0"),
    kind: acceleratorKind(vendor, device),
    ...rest,
  };
}
