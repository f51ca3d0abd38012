/**
 * The engines of one VM's thread: the OpenSSL software engine (each thread loads its own), and, when the daemon
 * drives an accelerator, this VM's client of it behind a `RouterEngine`: a `VirtioPciClient` (or a
 * `SharedQueueClient`) for a virtio-crypto function, a `QatClient` on its own ring pair for a QAT VF.
 *
 * @module
 */

import {
  type AccelEvent,
  type AccelTicket,
  callControl,
  SharedQueueClient,
  VirtioPciClient,
} from "../accel/virtio_pci/mod.ts";
import { type QatAccelEvent, qatCallControl, QatClient, type QatVmTicket } from "../accel/qat/mod.ts";
import type { CryptoEngine, EngineSession } from "../engine/engine.ts";
import type { ServedPath } from "../metrics/snapshot.ts";
import { RouterEngine } from "../engine/router.ts";
import { SoftwareEngine } from "../engine/software/mod.ts";
import type { Reactor } from "../os/mod.ts";
import type { SyncCaller } from "../threads/mod.ts";
import type { VmEvent, WorkerInit } from "./messages.ts";
import { applyRoute } from "./route_calibration.ts";

/** What `buildVmEngines` needs. */
export interface VmEnginesContext {
  readonly init: WorkerInit;
  /** The VM's reactor (accelerator completions join it). */
  readonly reactor: Reactor;
  /** Synchronous calls to the main thread (accelerator sessions, DMA mappings). */
  readonly calls: SyncCaller;
  /** Posts an event to the main thread. */
  readonly events: (event: VmEvent) => void;
}

/** The engines of a VM. */
export interface VmEngines {
  /** What the device submits to. */
  readonly engine: CryptoEngine;
  /** The router, when there is an accelerator. */
  readonly router: RouterEngine | null;
  /** Which path a session of `engine` runs on (metrics). */
  readonly pathOf: (session: EngineSession) => ServedPath;
  /** The router's start-up calibration (`serve --route fastest`), or null when none runs. */
  readonly calibration: Promise<void> | null;
  /** This VM's accelerator counters, when there is one. */
  readonly accelerator?: () => Record<string, unknown>;
  /** An accelerator event from the main thread. */
  onAccelEvent(event: unknown): void;
  /** Closes every engine (sessions' keys zeroed). */
  close(): void;
}

/**
 * Builds the engines a VM's thread serves with: software alone, or this VM's client of the shared accelerator
 * behind a router (software for everything the accelerator does not take).
 *
 * @param ctx The thread's init message, reactor and channels.
 * @returns The engines.
 */
export function buildVmEngines(ctx: VmEnginesContext): VmEngines {
  const software = new SoftwareEngine();
  const pathOf = (s: EngineSession): ServedPath => (innerEngine(s) === software ? "software" : "accelerator");
  const ticket = ctx.init.accel as AccelTicket | QatVmTicket | null;
  if (ticket === null) {
    return {
      engine: software,
      router: null,
      pathOf,
      calibration: null,
      onAccelEvent: () => {},
      close: () => software.close(),
    };
  }
  if ("kind" in ticket) return qatEngines(ctx, ticket, software, pathOf);
  const control = callControl((method, params, blobs) => ctx.calls.call(method, params, blobs));
  if (ticket.shared !== null) {
    const shared = new SharedQueueClient(
      ticket.shared,
      ticket.capabilities,
      control,
      ctx.reactor,
      ticket.name,
    );
    const router = new RouterEngine(shared, software);
    return {
      engine: router,
      router,
      pathOf,
      calibration: applyRoute(router, ctx.init.serving.route ?? "accel-first", ctx.init.config.name),
      accelerator: () => ({ ...shared.stats(), shared: ticket.shared!.index }),
      onAccelEvent: () => {}, // the queue's thread answers for device failures
      close: () => router.close(),
    };
  }
  const client = new VirtioPciClient({ ticket, control, reactor: ctx.reactor });
  return routed(ctx, software, pathOf, client, (event) => client.onEvent(event as AccelEvent));
}

// The client behind a router with the software engine; its counters are this VM's accelerator counters.
function routed(
  ctx: VmEnginesContext,
  software: SoftwareEngine,
  pathOf: (s: EngineSession) => ServedPath,
  client: CryptoEngine & { stats(): object },
  onAccelEvent: (event: unknown) => void,
): VmEngines {
  const router = new RouterEngine(client, software);
  return {
    engine: router,
    router,
    pathOf,
    calibration: applyRoute(router, ctx.init.serving.route ?? "accel-first", ctx.init.config.name),
    accelerator: () => ({ ...client.stats() }),
    onAccelEvent,
    close: () => router.close(),
  };
}

// A QAT VF: this VM's ring pair, driven on this thread (or none: every session in software, and the client's
// counters say so).
function qatEngines(
  ctx: VmEnginesContext,
  ticket: QatVmTicket,
  software: SoftwareEngine,
  pathOf: (s: EngineSession) => ServedPath,
): VmEngines {
  const control = qatCallControl((method, params, blobs) => ctx.calls.call(method, params, blobs));
  const client = new QatClient(ticket, control, ctx.reactor);
  return routed(ctx, software, pathOf, client, (event) => client.onEvent(event as QatAccelEvent));
}

/**
 * The engine a session really runs on: a router's session names its inner one.
 *
 * @param s A session.
 * @returns The engine holding it.
 */
export function innerEngine(s: EngineSession): CryptoEngine {
  return (s as { readonly inner?: EngineSession }).inner?.engine ?? s.engine;
}
