/**
 * What every host-administration call takes: which sysfs tree (the real one, or a fake in tests) and where bind
 * remembers original drivers; and the root check of the calls that change the host.
 *
 * @module
 */

import { effectiveUid, Sysfs } from "../os/mod.ts";
import { DEFAULT_STATE_FILE, FileBindState, normalizeBdf, PciError } from "../pci/mod.ts";
import { AdminError } from "./errors.ts";

/** Options shared by list, bind, unbind and info. */
export interface HostOptions {
  /** The sysfs root. Default `/sys`. */
  readonly sysfsRoot?: string;
  /** Where bind keeps the original drivers. Default `/run/cryptobridge/bindings.json`. */
  readonly stateFile?: string;
}

/**
 * The sysfs tree of the options.
 *
 * @param options The options.
 * @returns The tree.
 */
export function sysfsOf(options: HostOptions): Sysfs {
  return new Sysfs(options.sysfsRoot ?? "/sys");
}

/**
 * The bind state file of the options.
 *
 * @param options The options.
 * @returns The state.
 */
export function stateOf(options: HostOptions): FileBindState {
  return new FileBindState(options.stateFile ?? DEFAULT_STATE_FILE);
}

/**
 * A PCI address in its canonical form.
 *
 * @param bdf `0000:00:04.0`, or the short `00:04.0`.
 * @returns The canonical address.
 * @throws PciError `bad-address`.
 */
export function canonicalBdf(bdf: string): string {
  const canonical = normalizeBdf(bdf);
  if (canonical === null) {
    throw new PciError(
      "bad-address",
      `"${bdf}" is not a PCI address (such as 0000:00:04.0): list the functions to find it`,
    );
  }
  return canonical;
}

/**
 * Refuses to go on unless the process is root (or works on a fake sysfs tree).
 *
 * @param action What needs root, for the message (`bind`).
 * @param sysfs The tree.
 * @throws AdminError `not-root`.
 */
export function requireRoot(action: string, sysfs: Sysfs): void {
  if (sysfs.root !== "/sys" || effectiveUid() === 0) return;
  throw new AdminError(
    "not-root",
    `${action} must run as root: it writes to /sys/bus/pci and opens /dev/vfio: run it with sudo ` +
      `(or try \`cryptobridge ${action} … --dry-run\`, which only reads)`,
  );
}
