/**
 * `cryptobridge unbind BDF`: give a function bound by `cryptobridge bind` back to the driver it had.
 *
 * @module
 */

import { unbindFunction } from "../admin/mod.ts";
import { DEFAULT_STATE_FILE } from "../pci/mod.ts";
import { parseCommand, stringOption } from "./args.ts";
import { printResult } from "./bind.ts";
import { bdfArgument, SYSFS_OPTION, sysfsRootOf } from "./pci_args.ts";

/** `unbind --help`. */
export const UNBIND_HELP = `cryptobridge unbind: give a PCI function back to the driver it had before bind

Usage: cryptobridge unbind BDF [options]

Options:
  --dry-run       print the sysfs writes it would do, change nothing
  --state FILE    where bind remembered the original driver (default ${DEFAULT_STATE_FILE})
  --json          print the result as JSON
  --sysfs PATH    another sysfs tree (default /sys; for tests)
  -h, --help      show this help

Without a record of the original driver (another state file, or bound by hand), the kernel chooses the
driver. Close every program using the device first: the kernel waits for it to be released. Needs root.`;

/**
 * Runs `unbind`.
 *
 * @param args Arguments after `unbind`.
 * @returns The exit code.
 */
export function unbind(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand("unbind", args, {
    "dry-run": { type: "boolean" },
    state: { type: "string" },
    json: { type: "boolean" },
    ...SYSFS_OPTION,
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    console.log(UNBIND_HELP);
    return Promise.resolve(0);
  }
  const bdf = bdfArgument("unbind", positionals);
  const result = unbindFunction(bdf, {
    ...sysfsRootOf(values.sysfs),
    stateFile: stringOption(values.state, DEFAULT_STATE_FILE),
    dryRun: values["dry-run"] === true,
  });
  printResult(result, values.json === true);
  return Promise.resolve(0);
}
