/**
 * The QAT host's vocabulary: the ticket a VM's thread starts from, the events the host sends it, what the thread
 * asks of the host (`QatVmControl`), how the host is opened and what it counts. Everything that crosses a thread
 * is plain data (the ring pair as `QatRingPairWire`: JSON has no bigint).
 *
 * @module
 */

import type { Reactor } from "../../os/mod.ts";
import type { DmaRegion } from "../../engine/mod.ts";
import type { CapabilitiesWire, HostStats, IovaEntry } from "../virtio_pci/mod.ts";
import type { QatEngineOptions } from "./engine_options.ts";
import type { QatRingPairWire } from "./ticket.ts";

/** A ring pair given to a VM: the ring pair and the VM's guest RAM as the device sees it now. */
export interface QatGrant {
  readonly epoch: number;
  readonly ring: QatRingPairWire;
  /** The VM's guest RAM mapped for the device (IOVAs may change across a restart). */
  readonly guest: readonly IovaEntry[];
}

/** What the QAT host tells a VM's client. */
export type QatAccelEvent =
  | { readonly kind: "down"; readonly epoch: number }
  | ({ readonly kind: "up" } & QatGrant);

/** Everything a VM's QAT client starts from. */
export interface QatVmTicket {
  /** Tells a QAT ticket from a virtio-crypto one. */
  readonly kind: "qat-gen4-vf";
  /** The VM's number at the host. */
  readonly vm: number;
  readonly name: string;
  readonly capabilities: CapabilitiesWire;
  /** `[state (1 ready, 0 down), epoch]`, written by the main thread only. */
  readonly state: SharedArrayBuffer;
  /** `[requests in flight, sessions]`, written by the VM's thread, read by the main thread. */
  readonly counters: SharedArrayBuffer;
  /** Its ring pair, or null (the device is down, or none was left). */
  readonly grant: QatGrant | null;
  /** No ring pair was left for this VM: it is served in software until its thread starts again. */
  readonly software: boolean;
  /** How completions come back: the bundle's MSI-X eventfd in the VM's reactor, or polling. */
  readonly completions: "interrupt" | "poll";
  readonly requestTimeoutMs: number;
  readonly watchdogMs: number;
  /** Least time between asking the host to restart the device. */
  readonly retryMs: number;
  /** Sessions the VM may hold on its ring pair, or null for the ring pair's room. */
  readonly quota: number | null;
}

/** Index of the state word in `QatVmTicket.state`. */
export const QAT_STATE_WORD = 0;
/** Index of the epoch in `QatVmTicket.state`. */
export const QAT_EPOCH_WORD = 1;
/** Index of the in-flight count in `QatVmTicket.counters`. */
export const QAT_INFLIGHT_WORD = 0;
/** Index of the session count in `QatVmTicket.counters`. */
export const QAT_SESSIONS_WORD = 1;

/** What a VM's QAT client asks of the main thread, which owns the VF. */
export interface QatVmControl {
  /** Maps the VM's memory table for DMA (replacing the previous one); returns what got mapped. */
  mapMemory(regions: readonly DmaRegion[]): IovaEntry[];
  /** The client saw the device fail in `epoch` (a request that got no answer, a broken response ring). */
  reportFailure(reason: string, epoch: number): void;
  /** The client let go of its ring pair after the device went down in `epoch`. */
  detached(epoch: number): void;
  /** The device is down: restart it if it may be now, and give this VM its ring pair again (null: not yet). */
  restart(): QatGrant | null;
}

/** Options of `QatHost.open`. */
export interface QatHostOptions extends Omit<QatEngineOptions, "completions" | "reactor"> {
  /** Poll completions on the VM threads even when each bundle has a vector. Default false. */
  readonly poll?: boolean;
  /** Ring pairs to configure, at most the VF's symmetric bundles. Default: all of them. */
  readonly ringPairs?: number;
  /** Unused: the VM threads' reactors take the interrupts (accepted for the hub's one set of options). */
  readonly reactor?: Reactor;
  /**
   * How often the VF is checked while no VM has requests on it (while some do, every `watchdogMs`). Default
   * 1000; a reset or a PF notification is noticed within it, not at the next request.
   */
  readonly idleHealthMs?: number;
}

/**
 * The host's counters: the virtio-crypto host's (`queues` are the VF's ring pairs; a VM's `queue` is its ring
 * pair's bundle, or null when it is served in software), with the VF's own.
 */
export interface QatHostStats extends HostStats {
  readonly kind: "qat-gen4-vf";
  /** Ring pairs driven by a VM now (0 while the VF is down). */
  readonly ringPairs: number;
  /** The services of the VF's bundles, as the PF said. */
  readonly services: readonly string[];
  /** VMs served in software because no ring pair was left when they attached. */
  readonly softwareVms: number;
}
