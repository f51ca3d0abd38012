/**
 * `cryptobridge info BDF`: prints what `deviceInfo` reports, as text or JSON.
 *
 * @module
 */

import { deviceInfo } from "../admin/mod.ts";
import { parseCommand } from "./args.ts";
import { formatInfo } from "./info_format.ts";
import { bdfArgument, SYSFS_OPTION, sysfsRootOf } from "./pci_args.ts";

/** `info --help`. */
export const INFO_HELP = `cryptobridge info: what VFIO shows of a PCI function bound to vfio-pci

Usage: cryptobridge info BDF [--json]

Options:
  --json          one JSON object, for scripts
  --sysfs PATH    another sysfs tree (default /sys)
  -h, --help      show this help

Prints the function's regions (size, flags, sparse mmap areas, what cryptobridge maps), IRQs, PCI
capabilities (MSI-X table and PBA), and for a virtio device its virtio-pci capabilities (common, notify with
its multiplier, ISR, device config) and the device features and queue count read from the common
configuration through the mapped BAR. Run \`cryptobridge bind BDF\` first. Needs root (it opens /dev/vfio).`;

/**
 * Runs `info`.
 *
 * @param args Arguments after `info`.
 * @returns The exit code.
 */
export function info(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand("info", args, {
    json: { type: "boolean" },
    ...SYSFS_OPTION,
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    console.log(INFO_HELP);
    return Promise.resolve(0);
  }
  const bdf = bdfArgument("info", positionals);
  const report = deviceInfo(bdf, sysfsRootOf(values.sysfs));
  console.log(values.json ? JSON.stringify(report, null, 2) : formatInfo(report).join("\n"));
  return Promise.resolve(0);
}
