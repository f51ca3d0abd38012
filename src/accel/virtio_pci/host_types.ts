/**
 * The host's vocabulary: what it tells a VM's client, how it is opened, what it keeps of each VM, what it counts.
 *
 * @module
 */

import type { SessionParams } from "../../engine/mod.ts";
import type { Reactor } from "../../os/mod.ts";
import type { VirtioPciEngineOptions } from "./engine_options.ts";
import type { VmDmaMap } from "./guest_dma.ts";
import type { QueueTicket } from "./ticket.ts";

/** What the host tells a VM's client. */
export type AccelEvent =
  | { readonly kind: "down"; readonly epoch: number }
  | { readonly kind: "up"; readonly epoch: number; readonly queue: QueueTicket | null };

/** Options of `VirtioPciHost.open`. */
export interface HostOptions extends VirtioPciEngineOptions {
  /** The main thread's reactor: the configuration vector (and model doorbells, and shared queues) join it. */
  readonly reactor?: Reactor;
  /** Every client runs on this thread: doorbells may be plain calls. Default false. */
  readonly sameThread?: boolean;
  /**
   * VMs expected: with more VMs than data queues, the last queue is shared by every VM past the others (driven by
   * the main thread, round-robin). Default: as many as there are queues.
   */
  readonly expectedVms?: number;
}

/** What the host keeps of one VM. */
export interface VmRecord {
  readonly id: number;
  readonly name: string;
  readonly events: (e: AccelEvent) => void;
  readonly dma: VmDmaMap;
  readonly sessions: Map<bigint, SessionParams["service"]>;
  readonly quota: number | null;
  readonly counters: Int32Array;
  /** Its own data queue, or null. */
  queue: number | null;
  /** The shared queue it is a member of, or null. */
  sharedQueue: number | null;
  /** The VM let go of its queue after the last failure. */
  released: boolean;
}

/** The host's counters. */
export interface HostStats {
  readonly state: string;
  readonly epoch: number;
  readonly failures: number;
  readonly lastFailure: string | null;
  readonly refused: readonly string[];
  /** Data queues in use. */
  readonly queues: number;
  readonly sessions: number;
  /** What the device held when it first said full, or null. */
  readonly capacity: number | null;
  readonly vms: readonly {
    readonly name: string;
    readonly queue: number | null;
    readonly shared: boolean;
    readonly sessions: number;
    readonly inflight: number;
  }[];
}
