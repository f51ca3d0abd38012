/**
 * The narrowest `deno run` permissions of each command (README, "Least privilege"): one table that the `deno task`
 * entries, the installed wrapper (scripts/install_service.ts) and tests/permissions/ all follow.
 *
 * `--allow-ffi` cannot be scoped: Deno checks its pointer APIs (`UnsafePointerView`, which every FFI module uses
 * at load) against the unscoped grant, so `--allow-ffi=/lib/…/libc.so.6` fails. And FFI is native code: a command
 * that has it can do anything its user can. The commands that talk to a daemon (`status`, `vm`) never load FFI
 * (cli.ts loads commands lazily) and get only their socket.
 *
 * @module
 */

/** The paths the flags are scoped to. */
export interface PermissionPaths {
  /** The control socket (`status`, `vm`). */
  readonly control: string;
  /** Where bind remembers original drivers, and the daemon's sockets live (`/run/cryptobridge`). */
  readonly runtimeDir: string;
  /** The folder holding cli.ts: serve's VM Workers load their modules from its src/ and ffi/. */
  readonly code: string;
  /** The deno binary: bench starts serve with it. */
  readonly deno: string;
  /** bench's temporary folder (`$TMPDIR` or /tmp). */
  readonly tmp: string;
}

/** Defaults: a root deployment (`/run/cryptobridge`, systemd's RuntimeDirectory). */
export const DEFAULT_PERMISSION_PATHS: Omit<PermissionPaths, "deno" | "code"> = {
  control: "/run/cryptobridge/cryptobridge-control.sock",
  runtimeDir: "/run/cryptobridge",
  tmp: "/tmp",
};

/** Why each flag is there, for the docs and the `--help` of the wrapper. */
export const PERMISSION_REASONS: Readonly<Record<string, string>> = {
  status: "Deno's Unix sockets need read, write and net (unix:) on the socket path; nothing else",
  vm: "the same as status",
  list: "sysfs is read through libc (Deno 2.9 wants --allow-all for its own file APIs on /sys)",
  info: "VFIO is opened through libc (ioctls on /dev/vfio)",
  selftest: "VFIO through libc, the driver's DMA and BARs, OpenSSL for the software reference",
  bind: "sysfs through libc; the record of the original driver in the runtime directory; modprobe vfio-pci",
  unbind: "sysfs through libc; the record of the original driver in the runtime directory",
  bench: "a front-end through libc and OpenSSL; it starts serve with the deno binary, in a temporary folder",
  serve:
    "libc and OpenSSL; its sockets (VMs', control) in the runtime directory; $NOTIFY_SOCKET for systemd; with " +
    "--config its file, with --metrics its address, with --device modprobe vfio-pci",
};

/**
 * The flags of a command.
 *
 * @param command The subcommand.
 * @param paths The paths to scope them to.
 * @returns The flags (none for `help` and `--version`).
 */
export function permissionFlags(command: string, paths: PermissionPaths): string[] {
  const { control, runtimeDir: run } = paths;
  switch (command) {
    case "status":
    case "vm":
      return [`--allow-read=${control}`, `--allow-write=${control}`, `--allow-net=unix:${control}`];
    case "list":
    case "info":
    case "selftest":
      return ["--allow-ffi"];
    case "bind":
      return ["--allow-ffi", `--allow-read=${run}`, `--allow-write=${run}`, "--allow-run=modprobe"];
    case "unbind":
      return ["--allow-ffi", `--allow-read=${run}`, `--allow-write=${run}`];
    case "bench":
      return [
        "--allow-ffi",
        `--allow-run=${paths.deno}`,
        `--allow-read=${paths.tmp}`,
        `--allow-write=${paths.tmp}`,
      ];
    case "serve":
      return servePermissions({
        config: null,
        runtimeDir: run,
        metrics: null,
        device: false,
        code: paths.code,
      });
    default:
      return [];
  }
}

/** What the wired daemon will read and serve (`serve --config … --control … --metrics …` under systemd). */
export interface ServeDeployment {
  /** The configuration file, or its directory; null without `--config`. */
  readonly config: string | null;
  /** The runtime directory: VM sockets, control socket, bind record. */
  readonly runtimeDir: string;
  /** `--metrics` as HOST:PORT, a socket path, or null. */
  readonly metrics: string | null;
  /** The folder holding cli.ts (a VM's Worker reads its modules there). */
  readonly code: string;
  /** Whether an accelerator is bound at start (`--device`: modprobe vfio-pci when it is not loaded). */
  readonly device: boolean;
}

/**
 * serve's flags: reading its sockets' directory (VMs', control) and its own modules (each VM's Worker loads them),
 * `$NOTIFY_SOCKET`, and what the deployment adds (the configuration file, the metrics address, modprobe for
 * `--device`).
 *
 * @param d The deployment.
 * @returns The flags.
 */
export function servePermissions(d: ServeDeployment): string[] {
  const metrics = d.metrics === null
    ? []
    : d.metrics.includes("/")
    ? [`--allow-net=unix:${d.metrics}`]
    : [`--allow-net=${d.metrics}`];
  // Deno's own file APIs: lstat of each socket path (read); the metrics socket is Deno's HTTP server's (read and
  // write). Sockets themselves are bound, chmod-ed and unlinked through libc (FFI).
  const metricsPath = d.metrics !== null && d.metrics.includes("/") ? [d.metrics] : [];
  const config = d.config === null ? [] : [d.config];
  const read = [...config, d.runtimeDir, ...metricsPath, `${d.code}/src`, `${d.code}/ffi`];
  return [
    "--allow-ffi",
    `--allow-read=${read.join(",")}`,
    ...(metricsPath.length > 0 ? [`--allow-write=${metricsPath.join(",")}`] : []),
    "--allow-env=NOTIFY_SOCKET",
    ...metrics,
    ...(d.device ? ["--allow-run=modprobe"] : []),
  ];
}
