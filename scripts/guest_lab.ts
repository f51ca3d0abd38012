/**
 * The guest lab (test tier 3 and 4): a Debian kernel and a busybox initramfs booted in QEMU under TCG, with the
 * host's root shared read-only over 9p so the guest runs the checkout with the host's Deno. See docs/guest-lab.md.
 *
 * Library: `ensureGuestImage()` builds (or finds in `.cache/guest`) the kernel and initramfs; `bootGuest()` boots
 * them with a crypto device and runs one shell command in the guest.
 *
 * CLI:
 * ```
 * deno run -A scripts/guest_lab.ts build
 * deno run -A scripts/guest_lab.ts shell-command "<cmd>" [--backend builtin|vhost-user:PATH|none]
 *     [--iommu] [--timeout SECONDS] [--keep] [--verbose]
 * ```
 * `build` prints the kernel and initramfs paths. `shell-command` boots, runs `<cmd>` with `/bin/sh` in the guest's
 * chroot (the host root, read-only; `$DENO` is the host's Deno, `$GUEST_RESULTS` a writable share), prints its
 * output and exits with its exit code. `--verbose` echoes the serial console; `--keep` keeps the results directory;
 * `--iommu` boots the tier-4 machine (virtual Intel IOMMU, 2 GiB, 2 vCPUs; see `BootOptions.iommu`).
 *
 * @module
 */

import { bootGuest } from "./guest/boot.ts";
import type { CryptoDevice } from "./guest/boot_options.ts";
import { ensureGuestImage } from "./guest/image.ts";
import { GuestLabError } from "./guest/tools.ts";

export { bootGuest } from "./guest/boot.ts";
export type { BootOptions, CryptoDevice, GuestMarker, GuestRun } from "./guest/boot_options.ts";
export { qemuArgs } from "./guest/qemu_args.ts";
export { parseMarkers } from "./guest/run_outcome.ts";
export {
  DEFAULT_CACHE_DIR,
  ensureGuestImage,
  type EnsureImageOptions,
  type GuestImage,
} from "./guest/image.ts";
export { GUEST_MODULES, INIT_SCRIPT } from "./guest/initramfs.ts";
export { GuestLabError, type GuestLabErrorKind, guestPackages } from "./guest/tools.ts";

const USAGE = `Usage:
  deno run -A scripts/guest_lab.ts build
  deno run -A scripts/guest_lab.ts shell-command "<cmd>" [--backend builtin|vhost-user:PATH|none]
      [--iommu] [--timeout SECONDS] [--keep] [--verbose]`;

/** Parsed `shell-command` arguments. */
interface ShellArgs {
  command: string;
  crypto: CryptoDevice;
  timeoutMs: number;
  keep: boolean;
  verbose: boolean;
  iommu: boolean;
}

function parseBackend(value: string): CryptoDevice {
  if (value === "builtin" || value === "none") return { kind: value };
  if (value.startsWith("vhost-user:") && value.length > "vhost-user:".length) {
    return { kind: "vhost-user", socket: value.slice("vhost-user:".length) };
  }
  throw new Error(`Cannot use back-end '${value}': expected builtin, none or vhost-user:PATH`);
}

function parseShellArgs(args: readonly string[]): ShellArgs {
  const parsed: ShellArgs = {
    command: "",
    crypto: { kind: "builtin" },
    timeoutMs: 180_000,
    keep: false,
    verbose: false,
    iommu: false,
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--backend") parsed.crypto = parseBackend(args[++i] ?? "");
    else if (arg.startsWith("--backend=")) parsed.crypto = parseBackend(arg.slice("--backend=".length));
    else if (arg === "--timeout") parsed.timeoutMs = Number(args[++i]) * 1000;
    else if (arg === "--keep") parsed.keep = true;
    else if (arg === "--verbose") parsed.verbose = true;
    else if (arg === "--iommu") parsed.iommu = true;
    else if (parsed.command === "" && !arg.startsWith("--")) parsed.command = arg;
    else throw new Error(`Cannot parse argument '${arg}'\n${USAGE}`);
  }
  if (parsed.command === "") throw new Error(`shell-command needs a command\n${USAGE}`);
  if (!(parsed.timeoutMs > 0)) throw new Error("--timeout must be a positive number of seconds");
  return parsed;
}

/** The tier-4 machine of `--iommu`: what `tests/guest/vfio_test.ts` boots. */
const TIER4_MACHINE = { iommu: true, memoryMiB: 2048, extraArgs: ["-smp", "2"] } as const;

const log = (message: string): void => console.error(`guest-lab: ${message}`);

async function build(): Promise<number> {
  const started = performance.now();
  const image = await ensureGuestImage(undefined, { log });
  const ms = Math.round(performance.now() - started);
  console.log(`kernel:  ${image.kernel}\ninitrd:  ${image.initrd}\nversion: ${image.kernelVersion}`);
  console.log(`modules: ${image.modules.join(" ")}`);
  console.log(`${image.cached ? "cached" : "built"} in ${ms} ms`);
  return 0;
}

async function shellCommand(args: readonly string[]): Promise<number> {
  const options = parseShellArgs(args);
  const image = await ensureGuestImage(undefined, { log });
  const stderr = new TextEncoder();
  await using run = await bootGuest({
    image,
    command: options.command,
    crypto: options.crypto,
    timeoutMs: options.timeoutMs,
    keepResults: options.keep,
    ...(options.iommu ? TIER4_MACHINE : {}),
    ...(options.verbose ? { onConsole: (t: string) => Deno.stderr.writeSync(stderr.encode(t)) } : {}),
  });
  await Deno.stdout.write(new TextEncoder().encode(run.output));
  log(
    `exit code ${run.exitCode} after ${run.durationMs} ms${
      options.keep ? `; results in ${run.resultsDir}` : ""
    }`,
  );
  return run.exitCode;
}

async function main(args: readonly string[]): Promise<number> {
  try {
    if (args[0] === "build" && args.length === 1) return await build();
    if (args[0] === "shell-command") return await shellCommand(args.slice(1));
    console.error(USAGE);
    return 2;
  } catch (e) {
    if (e instanceof GuestLabError) {
      console.error(`guest-lab: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
