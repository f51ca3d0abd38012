/**
 * `cryptobridge list`: the crypto-capable PCI functions (every function with `--all`), as a table or JSON.
 *
 * @module
 */

import { idString, listPciFunctions, type PciFunction } from "../pci/mod.ts";
import { parseCommand } from "./args.ts";
import { UsageError } from "./errors.ts";
import { SYSFS_OPTION, sysfsFrom } from "./pci_args.ts";

/** `list --help`. */
export const LIST_HELP = `cryptobridge list: the PCI crypto accelerators on this machine

Usage: cryptobridge list [--all] [--json]

Options:
  --all          every PCI function, not only crypto-capable ones
  --json         one JSON array, for scripts
  --sysfs PATH   read another sysfs tree (default /sys; for tests)
  -h, --help     show this help

Crypto-capable: known accelerators (Intel QAT c62x, c3xxx, dh895xcc, 4xxx/401xx/402xx/420xx and their VFs,
virtio-crypto 1af4:1054), encryption controllers (class 10) and Intel co-processors (class 0b40).
Needs no root.`;

/** One function as `list --json` prints it: `PciFunction` with its ids as hex strings. */
export type ListEntry = Omit<PciFunction, "vendor" | "device" | "classCode"> & {
  /** Vendor id, 4 hex digits. */
  readonly vendor: string;
  /** Device id, 4 hex digits. */
  readonly device: string;
  /** Class code, 6 hex digits. */
  readonly class: string;
};

/**
 * The JSON form of a function.
 *
 * @param fn The function.
 * @returns Ids as 4/6-digit hex strings.
 */
export function listEntry(fn: PciFunction): ListEntry {
  const { bdf, vendor, device, classCode, ...rest } = fn;
  return {
    bdf,
    vendor: vendor.toString(16).padStart(4, "0"),
    device: device.toString(16).padStart(4, "0"),
    class: classCode.toString(16).padStart(6, "0"),
    ...rest,
  };
}

/**
 * Lays out rows as aligned columns.
 *
 * @param header Column titles.
 * @param rows Cells.
 * @returns The lines.
 */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(header), ...rows.map(line)];
}

/**
 * The table `list` prints.
 *
 * @param functions The functions.
 * @returns The lines.
 */
export function listTable(functions: readonly PciFunction[]): string[] {
  return table(
    ["BDF", "VENDOR:DEVICE", "CLASS", "DRIVER", "IOMMU GROUP", "NUMA", "NAME"],
    functions.map((f) => [
      f.bdf,
      idString(f),
      f.classCode.toString(16).padStart(6, "0"),
      f.driver ?? "-",
      f.iommuGroup?.toString() ?? "-",
      f.numaNode?.toString() ?? "-",
      f.name ?? "",
    ]),
  );
}

/**
 * Runs `list`.
 *
 * @param args Arguments after `list`.
 * @returns The exit code.
 */
export function list(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand("list", args, {
    all: { type: "boolean" },
    json: { type: "boolean" },
    ...SYSFS_OPTION,
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    console.log(LIST_HELP);
    return Promise.resolve(0);
  }
  if (positionals.length > 0) {
    throw new UsageError(
      `list takes no arguments: got "${positionals[0]}": see \`cryptobridge list --help\``,
    );
  }
  const functions = listPciFunctions(sysfsFrom(values.sysfs), { all: values.all === true });
  if (values.json) console.log(JSON.stringify(functions.map(listEntry), null, 2));
  else if (functions.length === 0) {
    console.log("No crypto accelerators found: run `cryptobridge list --all` to see every PCI function");
  } else console.log(listTable(functions).join("\n"));
  return Promise.resolve(0);
}
