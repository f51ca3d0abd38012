/**
 * `cryptobridge serve`: serve virtio-crypto over vhost-user until SIGINT or SIGTERM.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { DEFAULT_SOCKET, runDaemon } from "../daemon/daemon.ts";
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
  --log-level LEVEL     ${LOG_LEVELS.join(", ")} (default info)
  -h, --help            show this help

Start the daemon before QEMU: QEMU reads the device's readiness when it starts. On start, serve prints the
QEMU options that attach a VM. SIGINT or SIGTERM stop it: sessions are closed, keys zeroed, the socket removed.`;

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
  await configureLogging(level);
  const daemon = runDaemon({ socket, queues, maxSessions, poll: values.poll === true });
  console.log(`cryptobridge serving virtio-crypto on ${socket} (engine: ${daemon.engine.name})`);
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
  return 0;
}

function parseLevel(value: string | boolean | undefined): ReturnType<typeof parseLogLevel> {
  try {
    return parseLogLevel(stringOption(value, "info"));
  } catch (e) {
    throw new UsageError(`--log-level: ${(e as Error).message}`);
  }
}
