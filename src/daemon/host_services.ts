/**
 * The daemon as a host service (docs/operations.md): its control socket (JSON-RPC, docs/control.md), its metrics
 * endpoint (Prometheus), and systemd's notify protocol: `READY=1` once every socket listens (the VMs', control,
 * metrics), `STOPPING=1` when it begins to stop.
 *
 * @module
 */

import { getLogger, type LogLevel } from "@logtape/logtape";
import { ControlServer } from "../control/mod.ts";
import { MetricsRegistry, MetricsServer, parseMetricsAddress } from "../metrics/mod.ts";
import { Notifier } from "../systemd/mod.ts";
import type { Daemon } from "./daemon.ts";
import { type ControlContext, daemonControl } from "./daemon_control.ts";
import { daemonMetrics } from "./daemon_metrics.ts";

const log = getLogger(["cryptobridge", "daemon"]);

/** What to serve beside the VMs' sockets. */
export interface HostServiceOptions {
  /** The control socket's path (mode 0600), or null for none. */
  readonly control: string | null;
  /** `--metrics`: `HOST:PORT` or a socket path, or null for none. */
  readonly metrics: string | null;
  /** The accelerator's PCI address, or null. */
  readonly device: string | null;
  /** The log level the daemon started with. */
  readonly logLevel: LogLevel;
  /** Sets the main thread's logging (`log.set_level`). */
  readonly configureMainLogging: (level: LogLevel) => Promise<void>;
  /** systemd's notify socket, or null outside systemd (default: `$NOTIFY_SOCKET`). */
  readonly notifier?: Notifier | null;
}

/** The running host services. */
export interface HostServices {
  /** The control socket's path, or null. */
  readonly control: string | null;
  /** Where metrics are served (`HOST:PORT` with the port chosen, or the path), or null. */
  readonly metrics: string | null;
  /** Tells systemd the daemon is stopping, and closes the control socket and the metrics endpoint. Idempotent. */
  close(reason: string): Promise<void>;
}

/**
 * Starts the control socket and the metrics endpoint for a daemon whose VMs are served, then tells systemd it is
 * ready.
 *
 * @param daemon The daemon (`ready` resolved).
 * @param o What to serve.
 * @returns The services.
 * @throws UnixSocketError, MetricsAddressError, Deno.errors.AddrInUse: nothing is left listening then.
 */
export async function startHostServices(daemon: Daemon, o: HostServiceOptions): Promise<HostServices> {
  const startedAt = new Date();
  const metricsAddress = o.metrics === null ? null : parseMetricsAddress(o.metrics);
  const metrics = metricsAddress === null ? null : await MetricsServer.listen({
    address: metricsAddress,
    registry: new MetricsRegistry(() => daemonMetrics(daemon, startedAt, o.device)),
  });
  let control: ControlServer | null = null;
  try {
    if (o.control !== null) {
      const ctx: ControlContext = {
        startedAt,
        control: o.control,
        metrics: metrics?.address ?? null,
        device: o.device,
        logLevel: o.logLevel,
        configureMainLogging: o.configureMainLogging,
      };
      control = ControlServer.listen({ path: o.control, control: daemonControl(daemon, ctx) });
    }
  } catch (e) {
    await metrics?.close();
    throw e;
  }
  const notifier = o.notifier === undefined ? Notifier.fromEnvironment() : o.notifier;
  notify(() => notifier?.ready(`serving ${daemon.vms.length} VM(s)`));
  let closing: Promise<void> | null = null;
  return {
    control: control?.path ?? null,
    metrics: metrics?.address ?? null,
    close: (reason) =>
      closing ??= (async () => {
        notify(() => notifier?.stopping(`stopping: ${reason}`));
        await control?.close();
        await metrics?.close();
        notifier?.close();
      })(),
  };
}

// systemd gone (a test's socket removed, the manager restarting) must not stop the daemon: say so and go on.
function notify(send: () => void): void {
  try {
    send();
  } catch (e) {
    log.warning("cannot notify systemd: {error}", { error: (e as Error).message });
  }
}
