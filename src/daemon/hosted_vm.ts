/**
 * A VM as the daemon holds it, wherever it is served: on its own Worker (`VmThread`, the daemon's way) or on the
 * main thread's reactor (`VmService` directly, for an embedder's engine object, which cannot cross threads). Both
 * own nothing of the socket: the daemon bound it and closes it after the VM stopped.
 *
 * @module
 */

import type { LogLevel } from "@logtape/logtape";
import type { UnixListener } from "../os/mod.ts";
import type { VmConfig } from "../vm/config.ts";
import { VmService, type VmServiceOptions, type VmSnapshot } from "../vm/vm_service.ts";
import { VmThread, type VmThreadOptions } from "../vm/vm_thread.ts";

/** One VM of the daemon. */
export interface HostedVm {
  /** Its settings. */
  readonly config: VmConfig;
  /** Its socket (bound by the daemon). */
  readonly listener: UnixListener;
  /** Where it is served. */
  readonly placement: "worker" | "inline";
  /** The device and server, when served on the main thread (tests look inside); null on a Worker. */
  readonly service: VmService | null;
  /** Its counters and state. */
  snapshot(): Promise<VmSnapshot>;
  /** Logs at `level` from now on (a Worker configures its own logging). */
  setLogLevel(level: LogLevel): void;
  /** Drops its front-end, closes its sessions (keys zeroed); returns its last snapshot. */
  stop(): Promise<VmSnapshot | null>;
  /** Its thread, when it has one (restarts, fault injection). */
  readonly thread: VmThread | null;
}

/**
 * A VM on its own Worker.
 *
 * @param options What the thread starts with.
 * @returns The VM, once its thread serves the socket.
 */
export async function hostOnWorker(options: VmThreadOptions): Promise<HostedVm> {
  const thread = await VmThread.start(options);
  return {
    config: options.config,
    listener: options.listener,
    placement: "worker",
    service: null,
    snapshot: () => thread.snapshot(),
    setLogLevel: (level) => thread.setLogLevel(level),
    stop: () => thread.stop(),
    thread,
  };
}

/**
 * A VM on the calling thread's reactor.
 *
 * @param options The service's parts.
 * @returns The VM, serving.
 */
export function hostInline(options: VmServiceOptions): HostedVm {
  const service = new VmService(options);
  return {
    config: options.config,
    listener: options.listener,
    placement: "inline",
    service,
    snapshot: () => Promise.resolve(service.snapshot()),
    setLogLevel: () => {}, // the main thread's logging is the caller's
    stop: () => {
      service.close();
      return Promise.resolve(service.snapshot());
    },
    thread: null,
  };
}
