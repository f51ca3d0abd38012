/**
 * The `cryptobridge` command: subcommand dispatch, help, and the one-line error reporting every mistake gets.
 *
 * @module
 */

import { serve, SERVE_HELP } from "./serve.ts";
import { bench, BENCH_HELP } from "./bench.ts";
import { list, LIST_HELP } from "./list.ts";
import { bind, BIND_HELP } from "./bind.ts";
import { unbind, UNBIND_HELP } from "./unbind.ts";
import { info, INFO_HELP } from "./info.ts";
import { UsageError } from "./errors.ts";
import { VERSION } from "../daemon/version.ts";

export { VERSION };

/** Top-level `--help`. */
export const MAIN_HELP =
  `cryptobridge ${VERSION}: share a PCI crypto accelerator with VMs as virtio-crypto devices

Usage: cryptobridge <command> [options]

Commands:
  serve      serve virtio-crypto to a VM over vhost-user (QEMU cryptodev-vhost-user)
  bench      measure a vhost-user crypto back-end (or a serve it starts): ops/s, bytes/s, latency
  list       the PCI crypto accelerators (--all: every PCI function; --json)
  bind       give a PCI function to vfio-pci (checks its IOMMU group; --dry-run)
  unbind     give a PCI function back to the driver it had before bind
  info       regions, IRQs, PCI and virtio capabilities of a function on vfio-pci
  help       show help for a command: cryptobridge help serve

Run \`cryptobridge <command> --help\` for a command's options.`;

type Command = (args: string[]) => Promise<number>;

const COMMANDS: Record<string, { run: Command; help: string }> = {
  serve: { run: serve, help: SERVE_HELP },
  bench: { run: bench, help: BENCH_HELP },
  list: { run: list, help: LIST_HELP },
  bind: { run: bind, help: BIND_HELP },
  unbind: { run: unbind, help: UNBIND_HELP },
  info: { run: info, help: INFO_HELP },
};

/**
 * Runs the command line.
 *
 * @param args `Deno.args`.
 * @returns The exit code: 0 success, 1 failure, 2 usage error.
 */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  try {
    if (command === undefined || command === "-h" || command === "--help") {
      console.log(MAIN_HELP);
      return command === undefined ? 2 : 0;
    }
    if (command === "--version" || command === "-V") {
      console.log(VERSION);
      return 0;
    }
    if (command === "help") return help(rest[0]);
    const entry = COMMANDS[command];
    if (entry === undefined) {
      throw new UsageError(`Unknown command "${command}": run \`cryptobridge --help\` to see the commands`);
    }
    return await entry.run(rest);
  } catch (e) {
    console.error(`cryptobridge: ${(e as Error).message}`);
    return e instanceof UsageError ? 2 : 1;
  }
}

function help(command: string | undefined): number {
  if (command === undefined) {
    console.log(MAIN_HELP);
    return 0;
  }
  const entry = COMMANDS[command];
  if (entry === undefined) {
    throw new UsageError(`Unknown command "${command}": run \`cryptobridge --help\` to see the commands`);
  }
  console.log(entry.help);
  return 0;
}
