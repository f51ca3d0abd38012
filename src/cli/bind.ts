/**
 * `cryptobridge bind BDF`: give a PCI function to vfio-pci (driver_override, unbind, probe, verify, clear the
 * override), after checking its IOMMU group, with rollback to the original driver on failure.
 *
 * @module
 */

import { bindFunction, type BindOutcome } from "../admin/mod.ts";
import { DEFAULT_STATE_FILE } from "../pci/mod.ts";
import { parseCommand, stringOption } from "./args.ts";
import { bdfArgument, SYSFS_OPTION, sysfsRootOf } from "./pci_args.ts";

/** `bind --help`. */
export const BIND_HELP = `cryptobridge bind: give a PCI function to vfio-pci, so cryptobridge can drive it

Usage: cryptobridge bind BDF [options]

Options:
  --dry-run       print the sysfs writes it would do, change nothing (needs no root)
  --driver NAME   the VFIO driver (default vfio-pci; or a variant such as qat_vfio_pci)
  --noiommu       allow unsafe no-IOMMU mode on a machine without an IOMMU: the device can then write
                  anywhere in memory and the kernel is tainted
  --state FILE    where the original driver is remembered for unbind (default ${DEFAULT_STATE_FILE})
  --json          print the result as JSON
  --sysfs PATH    another sysfs tree (default /sys; for tests)
  -h, --help      show this help

Before touching anything it checks the function's IOMMU group: every other member must be unbound or on
vfio-pci, pci-stub or pcieport, and each one that is not is named. vfio-pci is loaded with modprobe when
missing. If a step fails, the function goes back to its original driver. Needs root.`;

/**
 * Prints a bind or unbind result.
 *
 * @param result The result.
 * @param json Print JSON instead.
 */
export function printResult(result: BindOutcome, json: boolean): void {
  if (json) {
    const { bdf, from, to, changed, dryRun } = result;
    const plan = dryRun ? result.steps : [];
    console.log(JSON.stringify({ bdf, from, to: to ?? null, changed, dryRun, plan, notes: result.notes }));
    return;
  }
  if (result.dryRun) {
    console.log(
      `Dry run, nothing changed. For ${result.bdf} (now on ${result.from ?? "no driver"}) it would:`,
    );
    for (const line of result.steps) console.log(`  ${line}`);
  } else if (result.changed) {
    console.log(`${result.bdf}: ${result.from ?? "no driver"} -> ${result.to ?? "no driver"}`);
  }
  for (const note of result.notes) console.log(note);
}

/**
 * Runs `bind`.
 *
 * @param args Arguments after `bind`.
 * @returns The exit code.
 */
export function bind(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand("bind", args, {
    "dry-run": { type: "boolean" },
    driver: { type: "string" },
    noiommu: { type: "boolean" },
    state: { type: "string" },
    json: { type: "boolean" },
    ...SYSFS_OPTION,
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    console.log(BIND_HELP);
    return Promise.resolve(0);
  }
  const bdf = bdfArgument("bind", positionals);
  const result = bindFunction(bdf, {
    ...sysfsRootOf(values.sysfs),
    stateFile: stringOption(values.state, DEFAULT_STATE_FILE),
    dryRun: values["dry-run"] === true,
    noIommu: values.noiommu === true,
    ...(typeof values.driver === "string" ? { driver: values.driver } : {}),
  });
  printResult(result, values.json === true);
  return Promise.resolve(0);
}
