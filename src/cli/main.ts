/**
 * The `cryptobridge` command: subcommand dispatch, help, and the one-line error reporting every mistake gets.
 *
 * Commands are loaded when they run, not before: `status` and `vm` load no FFI, so they run with the narrow
 * permissions of README, "Least privilege", and a missing permission (Deno's NotCapable, also while a command's modules
 * load) is one line naming the flag, not a stack trace.
 *
 * @module
 */

import { UsageError } from "./errors.ts";
import { isMissingPermission, permissionMessage } from "./permission_error.ts";
import { VERSION } from "../daemon/version.ts";

export { VERSION };

/** Top-level `--help`. */
export const MAIN_HELP =
  `cryptobridge ${VERSION}: share a PCI crypto accelerator with VMs as virtio-crypto devices

Usage: cryptobridge <command> [options]

Commands:
  serve      serve virtio-crypto to a VM over vhost-user (QEMU cryptodev-vhost-user)
  status     what a running daemon says of itself: version, uptime, engines, accelerator, VMs
  vm         a running daemon's VMs: vm list, vm add NAME --socket PATH, vm remove NAME, vm stats
  bench      measure a vhost-user crypto back-end (or a serve it starts): ops/s, bytes/s, latency
  list       the PCI crypto accelerators (--all: every PCI function; --json)
  bind       give a PCI function to vfio-pci (checks its IOMMU group; --dry-run)
  unbind     give a PCI function back to the driver it had before bind
  info       regions, IRQs, PCI and virtio capabilities of a function on vfio-pci
  selftest   known-answer vectors and speed against software on an accelerator itself (--device BDF)
  help       show help for a command: cryptobridge help serve

Run \`cryptobridge <command> --help\` for a command's options.`;

type Command = (args: string[]) => Promise<number>;

/** A command, loaded on first use. */
type Loader = () => Promise<{ readonly run: Command; readonly help: string }>;

const COMMANDS: Record<string, Loader> = {
  serve: async () => {
    const m = await import("./serve.ts");
    return { run: m.serve, help: m.SERVE_HELP };
  },
  status: async () => {
    const m = await import("./status.ts");
    return { run: m.status, help: m.STATUS_HELP };
  },
  vm: async () => {
    const m = await import("./vm.ts");
    return { run: m.vm, help: m.VM_HELP };
  },
  bench: async () => {
    const m = await import("./bench.ts");
    return { run: m.bench, help: m.BENCH_HELP };
  },
  list: async () => {
    const m = await import("./list.ts");
    return { run: m.list, help: m.LIST_HELP };
  },
  bind: async () => {
    const m = await import("./bind.ts");
    return { run: m.bind, help: m.BIND_HELP };
  },
  unbind: async () => {
    const m = await import("./unbind.ts");
    return { run: m.unbind, help: m.UNBIND_HELP };
  },
  info: async () => {
    const m = await import("./info.ts");
    return { run: m.info, help: m.INFO_HELP };
  },
  selftest: async () => {
    const m = await import("./selftest.ts");
    return { run: (args) => m.selftest(args), help: m.SELFTEST_HELP };
  },
};

/** The subcommands, in the order `--help` lists them. */
export const COMMAND_NAMES: readonly string[] = Object.keys(COMMANDS);

function loader(command: string): Loader {
  const load = COMMANDS[command];
  if (load === undefined) {
    throw new UsageError(`Unknown command "${command}": run \`cryptobridge --help\` to see the commands`);
  }
  return load;
}

/**
 * Runs the command line.
 *
 * @param args `Deno.args`.
 * @returns The exit code: 0 success, 1 failure, 2 usage error (`status` and `vm` add their own: `--help`).
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
    if (command === "help") return await help(rest[0]);
    const entry = await loader(command)();
    return await entry.run(rest);
  } catch (e) {
    if (isMissingPermission(e)) {
      console.error(permissionMessage(command ?? "cryptobridge", e));
      return 1;
    }
    if (e instanceof Deno.errors.PermissionDenied) {
      // The operating system's refusal (EACCES, EPERM), not Deno's: no flag helps, another user might.
      console.error(
        `cryptobridge: ${command} was refused by the operating system: ${e.message}: run it as root or as the ` +
          "user owning the file (bind, unbind, info, selftest and serve --device need root)",
      );
      return 1;
    }
    console.error(`cryptobridge: ${(e as Error).message}`);
    return e instanceof UsageError ? 2 : 1;
  }
}

async function help(command: string | undefined): Promise<number> {
  if (command === undefined) {
    console.log(MAIN_HELP);
    return 0;
  }
  console.log((await loader(command)()).help);
  return 0;
}
