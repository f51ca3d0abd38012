/**
 * `QatRingPairTicket`: everything a thread needs to drive one symmetric ring pair, as plain numbers (structured
 * clone carries the bigints; `ticketToWire` turns them into strings for JSON). The device side (`QatDevice`)
 * makes it after resetting and configuring the ring pair; the data path (`QatRingPair.fromTicket`) wraps the
 * addresses in views and needs no VFIO call: the CSRs are host addresses inside the mapped BAR0, the rings and
 * the scratch area host addresses of DMA memory with their IOVAs.
 *
 * The scratch area holds, in order, the content descriptors of the sessions this ring pair's user creates and one
 * slot per request in flight (`slotLayout`).
 *
 * @module
 */

import { sglBytes } from "./sgl.ts";

/** DMA memory as a thread sees it. */
export interface MemoryTicket {
  /** Device address. */
  readonly iova: number;
  /** Host address in this process. */
  readonly address: bigint;
  /** Bytes. */
  readonly size: number;
}

/** The registers of one ring pair, as host addresses in the mapped BAR0. */
export interface CsrTicket {
  /** RING_TAIL of the TX ring: the doorbell. */
  readonly txTail: bigint;
  /** RING_HEAD of the RX ring: how far responses were consumed. */
  readonly rxHead: bigint;
  /** INT_FLAG_AND_COL of the bundle: written to re-arm the interrupt (interrupt mode). */
  readonly intFlagAndCol: bigint;
  /** The RX ring's bit in the bundle's interrupt registers. */
  readonly rxRingMask: number;
}

/** What a data path is sized by. */
export interface RingPairShape {
  /** Messages per ring (a power of 2, 128..4096). */
  readonly entries: number;
  /** Requests on the device at once (at most `entries - 1`). */
  readonly slots: number;
  /** Most ranges a source or destination list has. */
  readonly maxSegments: number;
  /** Bounce bytes per slot, for memory the device cannot reach. */
  readonly bounceBytes: number;
  /** Content descriptors (sessions) the scratch area holds. */
  readonly maxSessions: number;
}

/** One ring pair, for the thread that drives it. */
export interface QatRingPairTicket {
  /** For logs: the function and bundle, `0000:3d:00.1/1`. */
  readonly name: string;
  /** The bundle (bank) of the ring pair. */
  readonly bundle: number;
  /** Device incarnation: responses are tagged with it, so one from before a restart is never taken as current. */
  readonly epoch: number;
  readonly shape: RingPairShape;
  /** The TX ring (requests), aligned to its size. */
  readonly tx: MemoryTicket;
  /** The RX ring (responses), aligned to its size. */
  readonly rx: MemoryTicket;
  /** Content descriptors and slots (`scratchBytes`). */
  readonly scratch: MemoryTicket;
  readonly csr: CsrTicket;
  /** The eventfd of the ring pair's interrupt, or null when completions are polled. */
  readonly eventfd: number | null;
}

/** Bytes of one content descriptor in the scratch area (64-byte aligned). */
export const CD_STRIDE = 192;
/** GCM AAD and chain AAD sink bytes per slot (AAD beyond this goes to software). */
export const SLOT_AAD_BYTES = 256;
/** Digest or tag bytes per slot. */
export const SLOT_DIGEST_BYTES = 64;

/** Offsets inside one slot. */
export interface SlotLayout {
  readonly srcSgl: number;
  readonly dstSgl: number;
  readonly digest: number;
  readonly aad: number;
  /** Where the AAD a chained request inserts before its hashed region lands on the way out. */
  readonly sink: number;
  readonly bounce: number;
  /** Bytes from one slot to the next. */
  readonly stride: number;
  /** Where the first slot starts in the scratch area. */
  readonly first: number;
}

function align64(n: number): number {
  return Math.ceil(n / 64) * 64;
}

/**
 * The slot layout of a shape.
 *
 * @param shape The shape.
 * @returns The offsets.
 */
export function slotLayout(shape: RingPairShape): SlotLayout {
  const sgl = align64(sglBytes(shape.maxSegments));
  const srcSgl = 0;
  const dstSgl = srcSgl + sgl;
  const digest = dstSgl + sgl;
  const aad = digest + SLOT_DIGEST_BYTES;
  const sink = aad + SLOT_AAD_BYTES;
  const bounce = sink + SLOT_AAD_BYTES;
  const stride = align64(bounce + shape.bounceBytes);
  return { srcSgl, dstSgl, digest, aad, sink, bounce, stride, first: align64(shape.maxSessions * CD_STRIDE) };
}

/**
 * Bytes of the scratch area (a page multiple).
 *
 * @param shape The shape.
 * @returns Bytes.
 */
export function scratchBytes(shape: RingPairShape): number {
  const layout = slotLayout(shape);
  return Math.ceil((layout.first + shape.slots * layout.stride) / 4096) * 4096;
}

/** A ticket as JSON: bigints as decimal strings. */
export type QatRingPairWire = Omit<QatRingPairTicket, "tx" | "rx" | "scratch" | "csr"> & {
  readonly tx: WireMemory;
  readonly rx: WireMemory;
  readonly scratch: WireMemory;
  readonly csr: Omit<CsrTicket, "txTail" | "rxHead" | "intFlagAndCol"> & {
    readonly txTail: string;
    readonly rxHead: string;
    readonly intFlagAndCol: string;
  };
};

type WireMemory = Omit<MemoryTicket, "address"> & { readonly address: string };

function memoryToWire(m: MemoryTicket): WireMemory {
  return { iova: m.iova, size: m.size, address: m.address.toString() };
}

function memoryFromWire(m: WireMemory): MemoryTicket {
  return { iova: m.iova, size: m.size, address: BigInt(m.address) };
}

/**
 * A ticket as JSON.
 *
 * @param t The ticket.
 * @returns Its wire form.
 */
export function ticketToWire(t: QatRingPairTicket): QatRingPairWire {
  return {
    ...t,
    tx: memoryToWire(t.tx),
    rx: memoryToWire(t.rx),
    scratch: memoryToWire(t.scratch),
    csr: {
      ...t.csr,
      txTail: t.csr.txTail.toString(),
      rxHead: t.csr.rxHead.toString(),
      intFlagAndCol: t.csr.intFlagAndCol.toString(),
    },
  };
}

/**
 * A ticket from JSON.
 *
 * @param w The wire form.
 * @returns The ticket.
 */
export function ticketFromWire(w: QatRingPairWire): QatRingPairTicket {
  return {
    ...w,
    tx: memoryFromWire(w.tx),
    rx: memoryFromWire(w.rx),
    scratch: memoryFromWire(w.scratch),
    csr: {
      ...w.csr,
      txTail: BigInt(w.csr.txTail),
      rxHead: BigInt(w.csr.rxHead),
      intFlagAndCol: BigInt(w.csr.intFlagAndCol),
    },
  };
}
