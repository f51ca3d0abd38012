/**
 * The shape of a virtio-crypto device a driver asks for (`DriverOptions`), and where that shape puts things in
 * guest RAM: the rings of every vring first, then the request buffers, the rest left for `reserveRam`.
 *
 * @module
 */

import { type HeadOrder, indirectAreaSize, splitRingLayout } from "../virtio/mod.ts";
import type { Reactor } from "../os/mod.ts";
import { align } from "./driver_setup.ts";

/** Options of `VirtioCryptoDriver.open`. */
export interface DriverOptions {
  /** The back-end's socket. */
  readonly path: string;
  /** Reactor to wait in; a private one is created (and closed with the driver) when omitted. */
  readonly reactor?: Reactor;
  /** Data queues to set up. Default 1. */
  readonly dataQueues?: number;
  /** Also set up the control queue (vring `dataQueues`), as a transport that hands it over does. Default true. */
  readonly controlQueue?: boolean;
  /** Queue size. Default 256. */
  readonly queueSize?: number;
  /** Negotiate VIRTIO_CRYPTO_F_REVISION_1 (unpadded layouts) and the stateless modes. Default false. */
  readonly revision1?: boolean;
  /** With `revision1`, also negotiate the stateless-mode bits the back-end offers. Default true. */
  readonly stateless?: boolean;
  /** Act like QEMU 7.2: SET_FEATURES carries only bit 30 (interop.md §1.9). Default false. */
  readonly qemuFeatures?: boolean;
  /** Bytes of guest RAM. Default 64 MiB. */
  readonly ramSize?: number;
  /** How heads are handed out on every ring (`HeadOrder`). Default `free-list`. */
  readonly headOrder?: HeadOrder;
  /**
   * After setting up the rings, send VHOST_USER_SET_VRING_ENABLE(index, 1) for each: with
   * VHOST_USER_F_PROTOCOL_FEATURES negotiated a ring starts disabled (vhost-user spec, "Ring states"), though
   * QEMU never sends it for crypto; DPDK's vhost_crypto waits for it. Default false (as QEMU).
   */
  readonly vringEnable?: boolean;
  /** Bytes per in-flight request buffer. Default 136 KiB (a 64 KiB request, in and out, plus headers). */
  readonly slotSize?: number;
}

/** Where `DriverOptions` put the vrings and request buffers in guest RAM (`ramPlan`). */
export interface RamPlan {
  /** Data queues. */
  readonly dataQueues: number;
  /** Vrings: the data queues, and the control queue when it is set up. */
  readonly vrings: number;
  /** Entries per ring. */
  readonly queueSize: number;
  /** Bytes per vring: its split ring and its indirect tables, each 4 KiB-aligned; vring `i` starts at `i * ringBytes`. */
  readonly ringBytes: number;
  /** Bytes per request buffer (4 KiB-aligned); the buffers follow the rings. */
  readonly slotSize: number;
  /** Request buffers: requests `submit` can keep in flight. */
  readonly slots: number;
  /** Bytes of guest RAM: what was asked, and at least the rings and buffers. */
  readonly ramSize: number;
}

/**
 * Applies the defaults of `DriverOptions` and sizes guest RAM from them.
 *
 * @param o The options.
 * @returns The layout `VirtioCryptoDriver.open` sets up.
 */
export function ramPlan(o: DriverOptions): RamPlan {
  const dataQueues = o.dataQueues ?? 1;
  const queueSize = o.queueSize ?? 256;
  const vrings = dataQueues + ((o.controlQueue ?? true) ? 1 : 0);
  const ringBytes = align(splitRingLayout(0, queueSize).end, 4096) +
    align(indirectAreaSize(queueSize, 64), 4096);
  const slotSize = align(o.slotSize ?? 136 * 1024, 4096);
  const slots = Math.min(queueSize, 64);
  const ramSize = align(Math.max(o.ramSize ?? 64 << 20, vrings * ringBytes + slots * slotSize), 4096);
  return { dataQueues, vrings, queueSize, ringBytes, slotSize, slots, ramSize };
}
