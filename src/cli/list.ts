/**
 * `cryptobridge list`: the crypto-capable PCI functions (every function with `--all`), as a table or JSON.
 *
 * @module
 */

import { listEntry, listFunctions } from "../admin/mod.ts";
import { acceleratorKind, idString, KIND_LABELS, type PciFunction, pfAdvice } from "../pci/mod.ts";
import { parseCommand } from "./args.ts";
import { UsageError } from "./errors.ts";
import { SYSFS_OPTION, sysfsRootOf } from "./pci_args.ts";
import { table } from "./table.ts";

/** `list --help`. */
export const LIST_HELP = `cryptobridge list: the PCI crypto accelerators on this machine

Usage: cryptobridge list [--all] [--json]

Options:
  --all          every PCI function, not only crypto-capable ones
  --json         one JSON array, for scripts
  --sysfs PATH   read another sysfs tree (default /sys; for tests)
  -h, --help     show this help

KIND says which driver a function is for: virtio-crypto, QAT gen4 VF (cryptobridge drives both), QAT gen4
PF (stays with the kernel's qat_4xxx, which creates the VFs: a note says how), QAT (not driven).

Crypto-capable: known accelerators (Intel QAT c62x, c3xxx, dh895xcc, 4xxx/401xx/402xx/420xx and their VFs,
virtio-crypto 1af4:1054), encryption controllers (class 10) and Intel co-processors (class 0b40).
Needs no root.`;

/**
 * The table `list` prints.
 *
 * @param functions The functions.
 * @returns The lines.
 */
export function listTable(functions: readonly PciFunction[]): string[] {
  return table(
    ["BDF", "VENDOR:DEVICE", "KIND", "CLASS", "DRIVER", "IOMMU GROUP", "NUMA", "NAME"],
    functions.map((f) => [
      f.bdf,
      idString(f),
      KIND_LABELS[acceleratorKind(f.vendor, f.device)],
      f.classCode.toString(16).padStart(6, "0"),
      f.driver ?? "-",
      f.iommuGroup?.toString() ?? "-",
      f.numaNode?.toString() ?? "-",
      f.name ?? "",
    ]),
  );
}

/**
 * What the operator should do next, one line per function that needs it: a QAT gen4 PF gets VFs, not a bind.
 *
 * @param functions The functions listed.
 * @returns The lines (none when no function needs advice).
 */
export function listAdvice(functions: readonly PciFunction[]): string[] {
  return functions.filter((f) => acceleratorKind(f.vendor, f.device) === "qat-gen4-pf").map((f) =>
    `Note: ${pfAdvice(f.bdf)}`
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
  const functions = listFunctions({ ...sysfsRootOf(values.sysfs), all: values.all === true });
  if (values.json) console.log(JSON.stringify(functions.map(listEntry), null, 2));
  else if (functions.length === 0) {
    console.log("No crypto accelerators found: run `cryptobridge list --all` to see every PCI function");
  } else console.log([...listTable(functions), ...listAdvice(functions)].join("\n"));
  return Promise.resolve(0);
}
