/**
 * Prepares a current QEMU (Debian trixie-backports, QEMU 11.1) for the guest tests beside the packaged 7.2, and
 * prints its wrapper's path and version (scripts/guest/newer_qemu.ts says how it runs). Needs root and the Debian
 * mirror; `.ci/run` runs it, and `deno task test:guest` then boots one guest with it.
 *
 * Usage: deno run -A scripts/newer_qemu.ts [--dir DIR]   (default: the repository's .cache/qemu-trixie)
 *
 * @module
 */

import { parseArgs } from "node:util";
import { DEFAULT_NEWER_QEMU_DIR, prepareNewerQemu, qemuVersion } from "./guest/newer_qemu.ts";

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: { dir: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    console.log(
      "Usage: deno run -A scripts/newer_qemu.ts [--dir DIR]\n" +
        `Bootstraps Debian trixie into DIR (default ${DEFAULT_NEWER_QEMU_DIR}) with QEMU from trixie-backports.`,
    );
    return 0;
  }
  if (Deno.uid() !== 0) {
    console.error("newer_qemu: needs root (debootstrap and apt-get in a chroot): run it with sudo");
    return 2;
  }
  const wrapper = await prepareNewerQemu(values.dir ?? DEFAULT_NEWER_QEMU_DIR);
  const [major, minor] = await qemuVersion(wrapper);
  console.log(`${wrapper}: QEMU ${major}.${minor}`);
  return 0;
}

if (import.meta.main) Deno.exit(await main());
