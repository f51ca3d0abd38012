/**
 * What the main thread and a VM's Worker say to each other. Commands (main → Worker) go through the command
 * channel (`src/threads/command_channel.ts`); events (Worker → main) are `postMessage`s, which the main thread,
 * whose event loop never blocks, receives at once. Everything here is JSON and carries no key material.
 *
 * @module
 */

import type { LogLevel } from "@logtape/logtape";
import type { LogFormat } from "../logging/format.ts";
import type { CommandChannelEnds } from "../threads/mod.ts";
import type { VmConfig } from "./config.ts";
import type { ServingMode, VmSnapshot } from "./vm_service.ts";

/** The Worker's first message: everything it needs to serve its VM. */
export interface WorkerInit {
  readonly type: "init";
  readonly config: VmConfig;
  /** The listening socket the main thread bound (its fd number is the process's). */
  readonly listenFd: number;
  readonly commands: CommandChannelEnds;
  /** Shared memory of the Worker's synchronous calls to the main thread. */
  readonly calls: SharedArrayBuffer;
  /** The thread's resource ledger (src/os/ledger.ts), installed before it opens anything. */
  readonly ledger: SharedArrayBuffer;
  readonly logLevel: LogLevel;
  /** Log line format (`serve --log-format`). */
  readonly logFormat: LogFormat;
  readonly serving: ServingMode;
  /** How this VM reaches the accelerator, or null: software only. */
  readonly accel: unknown | null;
}

/** A command to a VM's Worker. */
export type VmCommand =
  /** Drop the front-end, close every session (keys zeroed), end the thread. */
  | { readonly type: "stop" }
  /** Answer with a `VmSnapshot` (event `reply` with the same id). */
  | { readonly type: "snapshot"; readonly id: number }
  /** Log at this level from now on. */
  | { readonly type: "log-level"; readonly level: LogLevel }
  /** An accelerator event for this VM's engine (device down or back, a new queue). */
  | { readonly type: "accel"; readonly event: unknown }
  /** Fault injection (tests, drills): the thread dies of an uncaught error, as a bug in it would make it. */
  | { readonly type: "crash" };

/** An event from a VM's Worker. */
export type VmEvent =
  /** Serving: the socket is watched. */
  | { readonly type: "ready"; readonly tid: number; readonly cpus: readonly number[] }
  /** The answer to a command with an id. */
  | { readonly type: "reply"; readonly id: number; readonly value: VmSnapshot }
  /** A synchronous call is waiting in the call channel. */
  | { readonly type: "sync-call" }
  /** The thread is ending; its last snapshot (sessions closed). */
  | { readonly type: "stopped"; readonly snapshot: VmSnapshot }
  /** Setting the VM up failed; the thread ends. */
  | { readonly type: "failed"; readonly message: string }
  /** An accelerator event from this VM's engine (a queue detached after a reset). */
  | { readonly type: "accel"; readonly event: unknown };
