/**
 * `runDaemon`: the composition root. It chooses the engines, builds the virtio-crypto device, serves it on a
 * vhost-user socket in one reactor, and stops cleanly: sessions closed (keys zeroed), socket file removed.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { VirtioPciEngine, VirtioPciPort, VirtioPciStats } from "../accel/virtio_pci/mod.ts";
import { CryptoDevice } from "../crypto/device.ts";
import type { CryptoEngine } from "../engine/engine.ts";
import { RouterEngine, type RouterStats } from "../engine/router.ts";
import { Reactor } from "../os/mod.ts";
import { VhostUserServer } from "../vhost_user/mod.ts";
import { type EngineChoice, type Engines, setUpEngines } from "./engines.ts";

const log = getLogger(["cryptobridge", "daemon"]);

/** Where the socket goes when `--socket` is not given. */
export const DEFAULT_SOCKET = "/tmp/cryptobridge.sock";

/** What `runDaemon` serves and how. */
export interface DaemonOptions {
  /** vhost-user socket path. Default `/tmp/cryptobridge.sock`. */
  readonly socket?: string;
  /** Data queues (QEMU `queues=`). Default 1. */
  readonly queues?: number;
  /** Session limit. Default 1024. */
  readonly maxSessions?: number;
  /** Serve rings by polling instead of kicks (and poll the accelerator's completions). Default false. */
  readonly poll?: boolean;
  /** After a kick, keep polling that ring this many microseconds (`serve --busy-poll`). Default 0. */
  readonly busyPollUs?: number;
  /**
   * The engines: a choice (`serve --engine`; see `setUpEngines`) or an engine object (tests, embedding; the
   * caller closes it). Default "auto": the accelerator named by `device` behind the router with the software
   * engine, or the software engine alone when there is no device.
   */
  readonly engine?: CryptoEngine | EngineChoice;
  /** The accelerator's PCI address (`serve --device`); bound to vfio-pci when it is not. */
  readonly device?: string;
  /** Opens the accelerator instead of binding and VFIO (tests pass a device model). */
  readonly openPort?: (bdf: string) => VirtioPciPort;
}

/** The counters `cryptobridge serve` logs and prints when it stops. */
export interface DaemonStats {
  /** Requests by status and payload bytes. */
  readonly device: Record<string, number>;
  /** Which path served requests and why sessions went to software; null without an accelerator. */
  readonly router: RouterStats | null;
  /** The accelerator's own counters and state; null when none came up. */
  readonly accelerator: VirtioPciStats | null;
}

/** A running daemon. */
export interface Daemon {
  /** The socket path. */
  readonly socket: string;
  /** The device (stats, sessions). */
  readonly device: CryptoDevice;
  /** The server (connection count). */
  readonly server: VhostUserServer;
  /** The engine. */
  readonly engine: CryptoEngine;
  /** The router, when there is an accelerator (or the engine object given is one). */
  readonly router: RouterEngine | null;
  /** The accelerator, when it came up. */
  readonly accel: VirtioPciEngine | null;
  /** A snapshot of the counters. */
  stats(): DaemonStats;
  /** Resolves once the daemon has stopped. */
  readonly done: Promise<void>;
  /** Stops serving: drops the front-end, closes sessions, removes the socket file. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts the daemon: listens on the socket and serves until `stop()`.
 *
 * @param options Socket, queues, limits, engine.
 * @returns The running daemon.
 *
 * @example
 * ```ts ignore
 * const daemon = runDaemon({ socket: "/run/cryptobridge.sock" });
 * Deno.addSignalListener("SIGTERM", () => daemon.stop());
 * await daemon.done;
 * ```
 */
export function runDaemon(options: DaemonOptions = {}): Daemon {
  const socket = options.socket ?? DEFAULT_SOCKET;
  const reactor = new Reactor({
    onError: (error, token) => log.error("event handler {token} failed: {error}", { token, error }),
  });
  const owned = typeof options.engine !== "object";
  let engines: Engines;
  try {
    engines = chooseEngines(options, reactor);
  } catch (e) {
    reactor.close();
    throw e;
  }
  let served: { device: CryptoDevice; server: VhostUserServer };
  try {
    served = serveDevice(options, socket, reactor, engines.engine);
  } catch (e) {
    if (owned) engines.engine.close();
    reactor.close();
    throw e;
  }
  const { device, server } = served;
  const done = reactor.run();
  const stats = (): DaemonStats => statsOf(device, engines);
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      server.close();
      reactor.stop();
      await done.catch((e) => log.error("reactor ended with an error: {error}", { error: e }));
      if (owned) engines.engine.close(); // before the reactor closes: the accelerator leaves it first
      reactor.close();
      log.info("stopped: {stats}", { stats: JSON.stringify(stats()) });
    })();
    return stopping;
  };
  const { engine, router, accel } = engines;
  return { socket, device, server, engine, router, accel, stats, done, stop };
}

function serveDevice(
  options: DaemonOptions,
  path: string,
  reactor: Reactor,
  engine: CryptoEngine,
): { device: CryptoDevice; server: VhostUserServer } {
  const device = new CryptoDevice({
    engine,
    dataQueues: options.queues ?? 1,
    maxSessions: options.maxSessions ?? 1024,
  });
  const server = VhostUserServer.listen({
    path,
    reactor,
    backend: device,
    pollMode: options.poll ?? false,
    busyPollUs: options.busyPollUs ?? 0,
  });
  return { device, server };
}

function chooseEngines(options: DaemonOptions, reactor: Reactor): Engines {
  const e = options.engine;
  if (typeof e === "object") return { engine: e, router: e instanceof RouterEngine ? e : null, accel: null };
  return setUpEngines({
    choice: e ?? "auto",
    reactor,
    poll: options.poll ?? false,
    ...(options.device === undefined ? {} : { device: options.device }),
    ...(options.openPort === undefined ? {} : { openPort: options.openPort }),
  });
}

function statsOf(device: CryptoDevice, engines: Engines): DaemonStats {
  const r = engines.router?.stats;
  return {
    device: device.stats.toJSON(),
    router: r === undefined ? null : { ...r, fallbacks: { ...r.fallbacks } },
    accelerator: engines.accel?.stats() ?? null,
  };
}
