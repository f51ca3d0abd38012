/**
 * What `list`, `bind`, `unbind` and `info` share: the PCI address argument (with the swapped-arguments check of
 * dpdk-devbind) and the sysfs root option. (The root check is the library's: `src/admin/host.ts`.)
 *
 * @module
 */

import { normalizeBdf } from "../pci/mod.ts";
import { UsageError } from "./errors.ts";

/** `--sysfs`: the sysfs root (tests point it at a fake tree). */
export const SYSFS_OPTION = { sysfs: { type: "string" } } as const;

/**
 * `--sysfs`, as the library's host options.
 *
 * @param value The option's value.
 * @returns `{ sysfsRoot }` when given.
 */
export function sysfsRootOf(value: string | boolean | undefined): { sysfsRoot?: string } {
  return typeof value === "string" ? { sysfsRoot: value } : {};
}

/**
 * The one PCI address a command takes. Catches `bind vfio-pci 0000:00:04.0` (driver first, as dpdk-devbind and
 * `echo … > bind` habits suggest) and says what to type instead.
 *
 * @param command The subcommand, for messages.
 * @param positionals Its positional arguments.
 * @returns The canonical address.
 * @throws UsageError with the command to type.
 */
export function bdfArgument(command: string, positionals: readonly string[]): string {
  const [first, second] = positionals;
  if (first === undefined) {
    throw new UsageError(
      `${command} needs a PCI address: run \`cryptobridge list\` to see the crypto functions and their addresses`,
    );
  }
  const bdf = normalizeBdf(first);
  const other = second === undefined ? null : normalizeBdf(second);
  if (bdf === null && other !== null) {
    const driver = command === "bind" && first !== "vfio-pci" ? ` --driver ${first}` : "";
    throw new UsageError(
      `${command} takes the PCI address only: did you mean \`cryptobridge ${command} ${other}${driver}\`?`,
    );
  }
  if (bdf === null) {
    throw new UsageError(
      `"${first}" is not a PCI address (such as 0000:00:04.0): run \`cryptobridge list\` to see the crypto functions`,
    );
  }
  if (positionals.length > 1) {
    throw new UsageError(`${command} takes one PCI address: got ${positionals.join(" ")}`);
  }
  return bdf;
}
