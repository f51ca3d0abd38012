/**
 * `cryptobridge serve`: serve virtio-crypto over vhost-user until SIGINT or SIGTERM.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { type DaemonStats, DEFAULT_SOCKET, runDaemon } from "../daemon/daemon.ts";
import { ENGINE_CHOICES, type EngineChoice } from "../daemon/engines.ts";
import { normalizeBdf } from "../pci/mod.ts";
import { configureLogging, LOG_LEVELS, parseLogLevel } from "../daemon/logging.ts";
import { describeCapabilities } from "../daemon/capabilities.ts";
import { intOption, parseCommand, stringOption } from "./args.ts";
import { UsageError } from "./errors.ts";

const log = getLogger(["cryptobridge", "cli"]);

/** `serve --help`. */
export const SERVE_HELP = `cryptobridge serve: serve virtio-crypto (device id 20) to a VM over vhost-user

Usage: cryptobridge serve [options]

Options:
  --socket PATH         vhost-user socket to listen on (default ${DEFAULT_SOCKET})
  --queues N            data queues offered to QEMU (queues=N), 1-64 (default 1)
  --max-sessions N      open sessions allowed; more are refused (default 1024)
  --poll                serve rings by polling the avail index instead of waiting for kicks (uses a core)
  --busy-poll US        after a kick, keep polling that ring for US microseconds before sleeping (0-100000,
                        default 0): bursts are served without a wake-up per batch, at the cost of CPU
  --device BDF          a virtio-crypto PCI function to use as the accelerator (bound to vfio-pci when needed;
                        needs root and an IOMMU: see README, "Host setup for a real accelerator")
  --engine ENGINE       ${
  ENGINE_CHOICES.join(", ")
} (default auto): auto uses the accelerator when --device is
                        given and software for what it cannot do (or for everything if it cannot start); accel
                        also uses both, but fails when the accelerator cannot start; software ignores --device
  --log-level LEVEL     ${LOG_LEVELS.join(", ")} (default info)
  -h, --help            show this help

Start the daemon before QEMU: QEMU reads the device's readiness when it starts. On start, serve prints the
QEMU options that attach a VM. SIGINT or SIGTERM stop it: sessions are closed, keys zeroed, the socket removed,
and the counters are printed: requests by status, and with an accelerator which path served them (accelerator or
software) and why sessions and requests went to software.`;

/**
 * The QEMU options that attach a VM to a socket (README, "Attach a VM").
 *
 * @param socket The socket path.
 * @param queues Data queues.
 * @returns The options, one per line.
 */
export function qemuOptions(socket: string, queues: number): string {
  const q = queues > 1 ? `,queues=${queues}` : "";
  return [
    "-object memory-backend-memfd,id=mem,size=2G,share=on -numa node,memdev=mem",
    `-chardev socket,id=vu0,path=${socket}`,
    `-object cryptodev-vhost-user,id=cd0,chardev=vu0${q}`,
    "-device virtio-crypto-pci,id=crypto0,cryptodev=cd0",
  ].join(" \\\n  ");
}

/**
 * Runs `serve`.
 *
 * @param args Arguments after `serve`.
 * @returns The exit code.
 */
export async function serve(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand("serve", args, {
    socket: { type: "string" },
    queues: { type: "string" },
    "max-sessions": { type: "string" },
    poll: { type: "boolean" },
    "busy-poll": { type: "string" },
    device: { type: "string" },
    engine: { type: "string" },
    "log-level": { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    console.log(SERVE_HELP);
    return 0;
  }
  if (positionals.length > 0) {
    throw new UsageError(
      `serve takes no arguments, only options: got "${positionals[0]}": see \`cryptobridge serve --help\``,
    );
  }
  const level = parseLevel(values["log-level"]);
  const socket = stringOption(values.socket, DEFAULT_SOCKET);
  const queues = intOption("--queues", values.queues, 1, 1, 64);
  const maxSessions = intOption("--max-sessions", values["max-sessions"], 1024, 1, 1 << 24);
  const { engine, device } = engineOptions(values.engine, values.device);
  await configureLogging(level);
  const daemon = runDaemon({
    socket,
    queues,
    maxSessions,
    poll: values.poll === true,
    busyPollUs: intOption("--busy-poll", values["busy-poll"], 0, 0, 100_000),
    engine,
    ...(device === undefined ? {} : { device }),
  });
  const engines = daemon.accel === null ? daemon.engine.name : `${daemon.accel.name} + software`;
  console.log(`cryptobridge serving virtio-crypto on ${socket} (engine: ${engines})`);
  console.log(describeCapabilities(daemon.engine.capabilities()));
  console.log(
    `Attach a VM with these QEMU options (add vectors=0 to the device when QEMU runs without KVM):\n  ${
      qemuOptions(socket, queues)
    }`,
  );
  const stop = (): void => {
    log.info("signal received: stopping");
    daemon.stop();
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  try {
    await daemon.done;
    await daemon.stop();
  } finally {
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
  }
  console.log(formatStats(daemon.stats()));
  return 0;
}

/**
 * `--engine` and `--device`, checked.
 *
 * @param engine `--engine`, if given.
 * @param device `--device`, if given.
 * @returns The choice and the canonical address.
 * @throws UsageError for an unknown engine, a malformed address, or `accel` without a device.
 */
export function engineOptions(
  engine: string | boolean | undefined,
  device: string | boolean | undefined,
): { engine: EngineChoice; device: string | undefined } {
  const choice = stringOption(engine, "auto");
  if (!(ENGINE_CHOICES as readonly string[]).includes(choice)) {
    throw new UsageError(`--engine must be one of ${ENGINE_CHOICES.join(", ")}: got "${choice}"`);
  }
  const raw = typeof device === "string" ? device : undefined;
  const bdf = raw === undefined ? undefined : normalizeBdf(raw);
  if (bdf === null) {
    throw new UsageError(
      `--device "${raw}" is not a PCI address (such as 0000:00:04.0): run \`cryptobridge list\` to find it`,
    );
  }
  if (choice === "accel" && bdf === undefined) {
    throw new UsageError("--engine accel needs --device BDF (the accelerator to use)");
  }
  return { engine: choice as EngineChoice, device: bdf };
}

/**
 * The counters as printed when serve stops: one line each for requests, the paths and the fallbacks.
 *
 * @param stats The daemon's counters.
 * @returns The text.
 */
export function formatStats(stats: DaemonStats): string {
  const d = stats.device;
  const lines = [
    `requests: ${d["requests"]} (ok ${d["ok"]}, err ${d["err"]}, badmsg ${d["badmsg"]}, ` +
    `notsupp ${d["notsupp"]}, invsess ${d["invsess"]}, nospc ${d["nospc"]}), ${d["bytes"]} bytes out`,
  ];
  const r = stats.router;
  if (r !== null) {
    const f = r.fallbacks;
    lines.push(
      `served by the accelerator: ${r.accelRequests} requests, ${r.accelSessions} sessions; ` +
        `in software: ${r.softwareRequests} requests`,
      `to software: not advertised ${f["not-advertised"]}, refused ${f.refused}, no space ${f.nospc}, ` +
        `accelerator unavailable ${f.unavailable} (sessions); accelerator failed ${f.failed} (requests re-run)`,
    );
  }
  const a = stats.accelerator;
  if (a !== null) {
    lines.push(
      `accelerator: ${a.state}, ${a.failures} failures${
        a.lastFailure === null ? "" : ` (last: ${a.lastFailure})`
      }` +
        `${a.refused.length > 0 ? `, refused when probed: ${a.refused.join(", ")}` : ""}`,
    );
  }
  return lines.join("\n");
}

function parseLevel(value: string | boolean | undefined): ReturnType<typeof parseLogLevel> {
  try {
    return parseLogLevel(stringOption(value, "info"));
  } catch (e) {
    throw new UsageError(`--log-level: ${(e as Error).message}`);
  }
}
