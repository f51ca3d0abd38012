/**
 * `VmService`: one VM's device as the daemon serves it: the virtio-crypto device over its engines, on a
 * vhost-user server that accepts on the VM's socket, in one reactor. The same composition runs on the VM's own
 * Worker thread (`vm_worker.ts`, the daemon's way) or on the caller's thread (`runDaemon` with an engine object
 * of its own, which cannot cross threads).
 *
 * @module
 */

import { CryptoDevice } from "../crypto/device.ts";
import type { CryptoEngine } from "../engine/engine.ts";
import type { RouterEngine, RouterStats } from "../engine/router.ts";
import type { Reactor, UnixListener } from "../os/mod.ts";
import { VhostUserServer } from "../vhost_user/mod.ts";
import type { VmConfig } from "./config.ts";
import { MeteredEngine, type MeterSnapshot } from "./metered_engine.ts";
import type { EngineSession } from "../engine/engine.ts";
import type { RoutePolicy } from "../engine/route_policy.ts";
import type { ServedPath } from "../metrics/snapshot.ts";

/** How a VM's rings and requests are served (`serve --poll`, `--busy-poll`, `--route`). */
export interface ServingMode {
  /** Poll the avail index instead of waiting for kicks. */
  readonly poll: boolean;
  /** After a kick, keep polling that ring this many microseconds. */
  readonly busyPollUs: number;
  /** Which engine serves what both can (`serve --route`). Default accel-first. */
  readonly route?: RoutePolicy;
}

/** What one VM's device did, as the main thread and the control socket see it. JSON; no key material. */
export interface VmSnapshot {
  /** The VM's name. */
  readonly name: string;
  /** Its socket. */
  readonly socket: string;
  /** Whether a front-end is connected now. */
  readonly connected: boolean;
  /** Front-ends accepted so far. */
  readonly connections: number;
  /** Data queues offered. */
  readonly queues: number;
  /** Sessions open. */
  readonly sessions: number;
  /** Requests popped and not completed yet. */
  readonly inflight: number;
  /** Requests by status and payload bytes out. */
  readonly device: Record<string, number>;
  /**
   * Log lines the guest or the front-end caused that the VM's rate limit suppressed, by kind (`malformed-chain`,
   * `peer-dropped`, …), since the VM started; the same counts are logged once per window while they grow.
   */
  readonly logSuppressed: Readonly<Record<string, number>>;
  /** Which path served requests and why sessions went to software; null without an accelerator. */
  readonly router: RouterStats | null;
  /** The accelerator as this VM sees it (its queue, its counters), or null. */
  readonly accelerator: Record<string, unknown> | null;
  /** The thread serving it: its kernel id and the CPUs it may run on (null when served on the caller's thread). */
  readonly thread: { readonly tid: number; readonly cpus: readonly number[] } | null;
  /** Requests by service, algorithm, path and status; sessions by path; latency (the metrics endpoint). */
  readonly metrics: MeterSnapshot;
}

/** Options of a VM service. */
export interface VmServiceOptions {
  readonly config: VmConfig;
  /** What the device submits to (the router, or the software engine alone). */
  readonly engine: CryptoEngine;
  /** The router, when there is one (for its counters). */
  readonly router: RouterEngine | null;
  /** The accelerator's per-VM counters, when there is one. */
  readonly accelerator?: (() => Record<string, unknown>) | undefined;
  /** The reactor the VM is served in. */
  readonly reactor: Reactor;
  /** The VM's listening socket (bound by the main thread). */
  readonly listener: UnixListener;
  readonly serving: ServingMode;
  /** The serving thread's identity, for snapshots. */
  readonly thread?: { readonly tid: number; readonly cpus: readonly number[] };
  /** Which path a new session runs on, for the metrics (default: software). */
  readonly pathOf?: (session: EngineSession) => ServedPath;
}

/** One VM's device, served. */
export class VmService {
  /** The settings. */
  readonly config: VmConfig;
  /** The device. */
  readonly device: CryptoDevice;
  /** The vhost-user server. */
  readonly server: VhostUserServer;
  /** The engine. */
  readonly engine: CryptoEngine;
  /** The engine the device submits to: `engine`, metered. */
  readonly meter: MeteredEngine;
  readonly #options: VmServiceOptions;
  #closed = false;

  /** @param options Settings, engine, reactor and socket. */
  constructor(options: VmServiceOptions) {
    const { config } = options;
    this.#options = options;
    this.config = config;
    this.engine = options.engine;
    this.meter = new MeteredEngine(options.engine, options.pathOf);
    this.device = new CryptoDevice({
      engine: this.meter,
      dataQueues: config.queues,
      maxSessions: config.maxSessions,
      maxInflight: config.maxInflight,
      logLimits: { label: `VM ${config.name} (${config.socket})` },
    });
    this.server = VhostUserServer.listen({
      path: config.socket,
      listener: options.listener,
      reactor: options.reactor,
      backend: this.device,
      pollMode: options.serving.poll,
      busyPollUs: options.serving.busyPollUs,
      shrinkableMemory: config.allowUnsealedMemory ? "allow" : "refuse",
    });
  }

  /** A snapshot of the counters and state. */
  snapshot(): VmSnapshot {
    const r = this.#options.router?.stats;
    return {
      name: this.config.name,
      socket: this.config.socket,
      connected: this.server.handler !== null,
      connections: this.server.connections,
      queues: this.config.queues,
      sessions: this.device.sessions.table.size,
      inflight: this.device.inflightTotal,
      device: this.device.stats.toJSON(),
      logSuppressed: this.device.logLimit.suppressed,
      router: r === undefined ? null : { ...r, fallbacks: { ...r.fallbacks } },
      accelerator: this.#options.accelerator?.() ?? null,
      thread: this.#options.thread ?? null,
      metrics: this.meter.snapshot(),
    };
  }

  /** Drops the front-end (sessions closed, keys zeroed) and stops accepting; the socket stays its owner's. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.server.close();
    this.device.logLimit.close(); // the last window's suppressed counts, logged
  }
}
