/**
 * What `list`, `bind`, `unbind` and `info` share: the PCI address argument (with the swapped-arguments check of
 * dpdk-devbind), the sysfs root, and the root-user check.
 *
 * @module
 */

import { effectiveUid, Sysfs } from "../os/mod.ts";
import { normalizeBdf } from "../pci/mod.ts";
import { UsageError } from "./errors.ts";

/** `--sysfs`: the sysfs root (tests point it at a fake tree). */
export const SYSFS_OPTION = { sysfs: { type: "string" } } as const;

/**
 * The sysfs to use.
 *
 * @param value `--sysfs`, if given.
 * @returns A `Sysfs` rooted there, or at /sys.
 */
export function sysfsFrom(value: string | boolean | undefined): Sysfs {
  return new Sysfs(typeof value === "string" ? value : "/sys");
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

/**
 * Refuses to go on as a non-root user where sysfs or /dev/vfio writes need root.
 *
 * @param command The subcommand, for the message.
 * @param sysfs The sysfs in use (a fake tree needs no root).
 * @throws Error saying to run as root.
 */
export function requireRoot(command: string, sysfs: Sysfs): void {
  if (sysfs.root !== "/sys" || effectiveUid() === 0) return;
  throw new Error(
    `${command} must run as root: it writes to /sys/bus/pci and opens /dev/vfio: run it with sudo ` +
      `(or try \`cryptobridge ${command} … --dry-run\`, which only reads)`,
  );
}
