/**
 * Loading kernel modules (`modprobe vfio-pci` when the driver is missing, as vfio-ffi.md §2.1 step 1 says).
 *
 * @module
 */

import { PciError } from "./errors.ts";

/**
 * Runs `modprobe <name>`.
 *
 * @param name The module (`vfio-pci`).
 * @throws PciError `module-missing` with modprobe's message, or when modprobe itself is missing.
 */
export function loadModule(name: string): void {
  let output: Deno.CommandOutput;
  try {
    output = new Deno.Command("modprobe", { args: [name], stdin: "null", stdout: "null", stderr: "piped" })
      .outputSync();
  } catch (e) {
    if (e instanceof Deno.errors.NotCapable) throw e; // a missing --allow-run=modprobe: the CLI names the flag
    throw new PciError(
      "module-missing",
      `Cannot load kernel module ${name}: modprobe cannot run (${
        (e as Error).message
      }): install kmod, or load ` +
        `${name} yourself`,
      { cause: e },
    );
  }
  if (!output.success) {
    const said = new TextDecoder().decode(output.stderr).trim();
    throw new PciError(
      "module-missing",
      `Cannot load kernel module ${name}: ${said || `modprobe exited with ${output.code}`}: install the ` +
        "kernel's modules, or build it with CONFIG_VFIO_PCI",
    );
  }
}
