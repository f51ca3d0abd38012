/**
 * `cryptobridge serve`: serve virtio-crypto over vhost-user to one or more VMs, each on its own thread, until
 * SIGINT or SIGTERM.
 *
 * @module
 */

import { getLogger, type LogLevel } from "@logtape/logtape";
import { type Daemon, runDaemon } from "../daemon/daemon.ts";
import { ENGINE_CHOICES } from "../daemon/engines.ts";
import { configureLogging, LOG_LEVELS } from "../logging/logging.ts";
import { describeCapabilities } from "../daemon/capabilities.ts";
import { DEFAULT_SOCKET_TEXT } from "../daemon/paths.ts";
import { SoftwareEngine } from "../engine/software/mod.ts";
import { parseCommand } from "./args.ts";
import { UsageError } from "./errors.ts";
import { daemonOptions, hostEndpoints, SERVE_OPTIONS } from "./serve_options.ts";
import { type HostServices, startHostServices } from "../daemon/host_services.ts";
import { formatAccelerator, formatSharedAccelerator, formatVmStats, qemuOptions } from "./serve_output.ts";
import { mergeCapabilities } from "../engine/capabilities.ts";

export { engineOptions } from "./serve_options.ts";
export { formatStats, qemuOptions } from "./serve_output.ts";

const log = getLogger(["cryptobridge", "cli"]);

/** `serve --help`. */
export const SERVE_HELP = `cryptobridge serve: serve virtio-crypto (device id 20) to VMs over vhost-user

Usage: cryptobridge serve [--socket PATH]... [options]
       cryptobridge serve --config FILE [options]

Each socket is one VM's virtio-crypto device, with its own sessions, limits and counters, served on its own
thread. Options:
  --socket PATH         a VM's vhost-user socket; repeat it for more VMs (default ${DEFAULT_SOCKET_TEXT})
  --config FILE         the VMs and settings as JSON (docs/config.md); with it, give no --socket
  --queues N            data queues offered to QEMU (queues=N), 1-64 (default 1), for every --socket VM
  --max-sessions N      open sessions allowed per VM; more are refused (default 1024)
  --max-inflight N      requests in flight per VM at once; the rest wait in its ring (default 256)
  --poll                serve rings by polling the avail index instead of waiting for kicks (a core per VM)
  --busy-poll US        after a kick, keep polling that ring for US microseconds before sleeping (0-100000,
                        default 50): bursts are served without a wake-up per batch, at the cost of CPU;
                        0 sleeps as soon as a ring is empty (pure interrupts)
  --allow-unsealed-memory
                        accept guest RAM that can still shrink (tmpfs, hugetlbfs, an unsealable memfd); only
                        with one --socket, since truncating it kills the daemon (docs/hostile.md); by default
                        such memory is refused and the message names the QEMU option that seals it
  --device BDF          the accelerator, by its PCI function: virtio-crypto (1af4:1054) or a QAT gen4 VF
                        (8086:4941, 4943, 4945; its VMs are served from the main thread, docs/qat.md); bound
                        to vfio-pci when needed; needs root and an IOMMU: see README, "Host setup for a real
                        accelerator"; a QAT PF is refused (create VFs, then give one)
  --engine ENGINE       ${
  ENGINE_CHOICES.join(", ")
} (default auto): auto uses the accelerator when --device is
                        given and software for what it cannot do (or for everything if it cannot start); accel
                        also uses both, but fails when the accelerator cannot start; software ignores --device
  --route POLICY        accel-first (default), fastest or software: which engine serves what both can do.
                        fastest measures each accelerator algorithm against software at start (a short run,
                        one log line per algorithm) and sends requests smaller than where the accelerator
                        wins to software; software keeps the accelerator open but routes every session to
                        software. Requests and sessions routed away are counted (\`cryptobridge vm stats\`)
  --log-level LEVEL     ${LOG_LEVELS.join(", ")} (default info)
  --log-format FORMAT   text (default) or json: one JSON object per line, for journald and log shippers
  --control PATH        the control socket (JSON-RPC, docs/control.md; mode 0600), default
                        cryptobridge-control.sock beside the first VM's socket; --no-control for none
  --metrics ADDR        serve Prometheus metrics at http://ADDR/metrics: 127.0.0.1:PORT, [::1]:PORT or a
                        socket path (docs/operations.md, "Metrics")
  -h, --help            show this help

Sockets are created mode 0600 (the --config file sets mode, owner and group per VM), in a directory that other
users cannot write. Every path and setting is checked before any socket is bound. Start the daemon before QEMU:
QEMU reads the device's readiness when it starts. On start, serve prints the QEMU options that attach each VM.
SIGINT or SIGTERM stop it: every VM's sessions are closed, keys zeroed, sockets removed, and each VM's counters
are printed. Under systemd (Type=notify, packaging/cryptobridge.service) it sends READY=1 to $NOTIFY_SOCKET once
every socket listens, and STOPPING=1 when it stops. \`cryptobridge status\` and \`cryptobridge vm\` talk to the
control socket: VMs are added and removed there without a restart (docs/control.md).`;

/**
 * Runs `serve`.
 *
 * @param args Arguments after `serve`.
 * @returns The exit code.
 */
export async function serve(args: string[]): Promise<number> {
  const { values, lists, positionals } = parseCommand("serve", args, SERVE_OPTIONS);
  if (values.help) {
    console.log(SERVE_HELP);
    return 0;
  }
  if (positionals.length > 0) {
    throw new UsageError(
      `serve takes no arguments, only options: got "${positionals[0]}": see \`cryptobridge serve --help\``,
    );
  }
  const options = daemonOptions(values, lists["socket"] ?? []);
  const format = options.logFormat ?? "text";
  const mainLogging = (level: LogLevel): Promise<void> => configureLogging(level, { format });
  await mainLogging(options.logLevel ?? "info");
  using stop = listenForStop(); // from now: a SIGTERM while starting stops cleanly once started
  const daemon = runDaemon(options);
  let services: HostServices;
  try {
    await daemon.ready;
    const endpoints = hostEndpoints(values, daemon.socket);
    services = await startHostServices(daemon, {
      ...endpoints,
      device: options.device ?? null,
      logLevel: options.logLevel ?? "info",
      configureMainLogging: mainLogging,
    });
  } catch (e) {
    await daemon.stop();
    throw e;
  }
  announce(daemon, services);
  return await serveUntilSignal(daemon, services, stop.signal);
}

function announce(daemon: Daemon, services: HostServices): void {
  const engine = daemon.engine;
  const shared = daemon.accelerator;
  const accel = daemon.accel?.name ?? shared?.name;
  const name = accel === undefined ? engine?.name ?? "software" : `${accel} + software`;
  if (engine === null) {
    const software = new SoftwareEngine(); // the table each VM's thread serves with
    const caps = software.capabilities();
    console.log(
      describeCapabilities(shared === null ? caps : mergeCapabilities(shared.capabilities(), caps)),
    );
    software.close();
  } else console.log(describeCapabilities(engine.capabilities()));
  for (const vm of daemon.vms) {
    const where = vm.placement === "worker" ? "its own thread" : "the main thread";
    console.log(
      `cryptobridge serving VM ${vm.config.name} on ${vm.config.socket} (engine: ${name}, ${where})`,
    );
  }
  if (services.control !== null) console.log(`Control socket: ${services.control} (cryptobridge status)`);
  if (services.metrics !== null) {
    console.log(`Metrics: ${services.metrics} (Prometheus text format, /metrics)`);
  }
  const first = daemon.vms[0]!.config;
  console.log(
    `Attach a VM with these QEMU options (add vectors=0 to the device when QEMU runs without KVM):\n  ${
      qemuOptions(first.socket, first.queues)
    }`,
  );
}

/** SIGINT and SIGTERM, listened for until disposed. */
function listenForStop(): { readonly signal: Promise<Deno.Signal> } & Disposable {
  let received!: (s: Deno.Signal) => void;
  const signal = new Promise<Deno.Signal>((resolve) => received = resolve);
  const handlers = (["SIGINT", "SIGTERM"] as const).map((s) => [s, () => received(s)] as const);
  for (const [s, h] of handlers) Deno.addSignalListener(s, h);
  return {
    signal,
    [Symbol.dispose]: () => {
      for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
    },
  };
}

async function serveUntilSignal(
  daemon: Daemon,
  services: HostServices,
  signal: Promise<string>,
): Promise<number> {
  void signal.then((s) => {
    log.info("{signal} received: stopping", { signal: s });
    void services.close(s).finally(() => daemon.stop());
  });
  try {
    await daemon.done;
  } finally {
    await services.close("the daemon stopped");
  }
  const last = await daemon.stop();
  for (const vm of last.vms) console.log(formatVmStats(vm));
  if (daemon.accel !== null) console.log(formatAccelerator(daemon.accel.stats()));
  if (last.accelerator !== null) console.log(formatSharedAccelerator(last.accelerator));
  return 0;
}
