/**
 * `cryptobridge bind BDF`: give a PCI function to vfio-pci (driver_override, unbind, probe, verify, clear the
 * override), after checking its IOMMU group, with rollback to the original driver on failure.
 *
 * @module
 */

import { Binder, type BindResult, DEFAULT_STATE_FILE, FileBindState } from "../pci/mod.ts";
import { parseCommand, stringOption } from "./args.ts";
import { bdfArgument, requireRoot, SYSFS_OPTION, sysfsFrom } from "./pci_args.ts";

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
 * @param lines The dry-run plan lines (`Binder.describe`).
 * @param json Print JSON instead.
 */
export function printResult(result: BindResult, lines: readonly string[], json: boolean): void {
  const dryRun = !result.changed && result.plan.steps.length > 0;
  if (json) {
    const { bdf, from, to, changed } = result;
    console.log(
      JSON.stringify({
        bdf,
        from,
        to: to ?? null,
        changed,
        dryRun,
        plan: dryRun ? lines : [],
        notes: result.plan.notes,
      }),
    );
    return;
  }
  if (dryRun) {
    console.log(
      `Dry run, nothing changed. For ${result.bdf} (now on ${result.from ?? "no driver"}) it would:`,
    );
    for (const line of lines) console.log(`  ${line}`);
  } else if (result.changed) {
    console.log(`${result.bdf}: ${result.from ?? "no driver"} -> ${result.to ?? "no driver"}`);
  }
  for (const note of result.plan.notes) console.log(note);
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
  const sysfs = sysfsFrom(values.sysfs);
  const dryRun = values["dry-run"] === true;
  if (!dryRun) requireRoot("bind", sysfs);
  const binder = new Binder({
    sysfs,
    state: new FileBindState(stringOption(values.state, DEFAULT_STATE_FILE)),
  });
  const result = binder.bind(bdf, {
    dryRun,
    noIommu: values.noiommu === true,
    ...(typeof values.driver === "string" ? { driver: values.driver } : {}),
  });
  printResult(result, binder.describe(result.plan), values.json === true);
  return Promise.resolve(0);
}
