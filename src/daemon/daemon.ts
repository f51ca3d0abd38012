/**
 * `runDaemon`: the composition root. It chooses the engines, builds the virtio-crypto device, serves it on a
 * vhost-user socket in one reactor, and stops cleanly: sessions closed (keys zeroed), socket file removed.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { CryptoDevice } from "../crypto/device.ts";
import type { CryptoEngine } from "../engine/engine.ts";
import { SoftwareEngine } from "../engine/software/mod.ts";
import { Reactor } from "../os/mod.ts";
import { VhostUserServer } from "../vhost_user/mod.ts";

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
  /** Serve rings by polling instead of kicks. Default false. */
  readonly poll?: boolean;
  /** The engine; the OpenSSL software engine when omitted. */
  readonly engine?: CryptoEngine;
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
  const engine = options.engine ?? new SoftwareEngine();
  const reactor = new Reactor({
    onError: (error, token) => log.error("event handler {token} failed: {error}", { token, error }),
  });
  let server: VhostUserServer;
  const device = new CryptoDevice({
    engine,
    dataQueues: options.queues ?? 1,
    maxSessions: options.maxSessions ?? 1024,
  });
  try {
    server = VhostUserServer.listen({
      path: socket,
      reactor,
      backend: device,
      pollMode: options.poll ?? false,
    });
  } catch (e) {
    reactor.close();
    if (options.engine === undefined) engine.close();
    throw e;
  }
  const done = reactor.run();
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      server.close();
      reactor.stop();
      await done.catch((e) => log.error("reactor ended with an error: {error}", { error: e }));
      reactor.close();
      if (options.engine === undefined) engine.close();
      log.info("stopped: {stats}", { stats: JSON.stringify(device.stats) });
    })();
    return stopping;
  };
  return { socket, device, server, engine, done, stop };
}
