/**
 * What a VM's thread gets to drive its share of the accelerator, as plain data that crosses threads (structured
 * clone at the Worker's start, JSON in later commands): the capabilities, its data queue (ring memory, shape,
 * doorbell, completion eventfd) and the device's shared state word. The main thread keeps the device itself.
 *
 * @module
 */

import type { AlgorithmInfo, Capabilities } from "../../engine/mod.ts";
import type { DataPathOptions } from "./data_path.ts";
import type { DoorbellTicket } from "./doorbell.ts";
import type { DmaArea } from "./port.ts";

/** `Capabilities` as JSON (Maps as entry lists). */
export interface CapabilitiesWire {
  readonly cipher: readonly [number, AlgorithmInfo][];
  readonly hash: readonly [number, AlgorithmInfo][];
  readonly mac: readonly [number, AlgorithmInfo][];
  readonly aead: readonly [number, AlgorithmInfo][];
  readonly akcipher: readonly [number, AlgorithmInfo][];
  readonly chaining: boolean;
  readonly maxCipherKeyLen: number;
  readonly maxAuthKeyLen: number;
}

/**
 * Capabilities as JSON.
 *
 * @param c The capabilities.
 * @returns Their wire form.
 */
export function capabilitiesToWire(c: Capabilities): CapabilitiesWire {
  return {
    cipher: [...c.cipher],
    hash: [...c.hash],
    mac: [...c.mac],
    aead: [...c.aead],
    akcipher: [...c.akcipher],
    chaining: c.chaining,
    maxCipherKeyLen: c.maxCipherKeyLen,
    maxAuthKeyLen: c.maxAuthKeyLen,
  };
}

/**
 * Capabilities from JSON.
 *
 * @param w The wire form.
 * @returns The capabilities.
 */
export function capabilitiesFromWire(w: CapabilitiesWire): Capabilities {
  return {
    cipher: new Map(w.cipher),
    hash: new Map(w.hash),
    mac: new Map(w.mac),
    aead: new Map(w.aead),
    akcipher: new Map(w.akcipher),
    chaining: w.chaining,
    maxCipherKeyLen: w.maxCipherKeyLen,
    maxAuthKeyLen: w.maxAuthKeyLen,
  };
}

/** A DMA area as it crosses threads (the address as a decimal string: JSON has no bigint). */
export interface AreaWire {
  readonly iova: number;
  readonly size: number;
  readonly address: string;
}

/**
 * A DMA area as JSON.
 *
 * @param a The area.
 * @returns Its wire form.
 */
export function areaToWire(a: DmaArea): AreaWire {
  return { iova: a.iova, size: a.size, address: a.address.toString() };
}

/**
 * A DMA area re-wrapped in this thread (a zero-copy view of the same memory).
 *
 * @param w The wire form.
 * @returns The area.
 */
export function areaFromWire(w: AreaWire): DmaArea {
  const address = BigInt(w.address);
  const pointer = Deno.UnsafePointer.create(address);
  if (pointer === null) throw new RangeError("Cannot re-wrap a DMA area at address 0");
  // UNSAFE: the main thread frees the area only after this thread let go of its queue (the detach handshake).
  const bytes = new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(pointer, w.size));
  return { iova: w.iova, size: w.size, bytes, address };
}

/** One data queue of the device, given to one VM (or, in turn, several). */
export interface QueueTicket {
  /** The device's queue index. */
  readonly index: number;
  /** Its ring and request slots. */
  readonly area: AreaWire;
  /** Its shape (size, slots, indirect, limits, vector). */
  readonly options: DataPathOptions;
  readonly doorbell: DoorbellTicket;
  /** The eventfd of its MSI-X vector, or null (completions polled). */
  readonly irqFd: number | null;
}

/** What a VM on a shared queue gets (part of its `AccelTicket`). */
export interface SharedQueueTicket {
  /** The shared queue's index. */
  readonly index: number;
  readonly slots: number;
  readonly opSlots: SharedArrayBuffer;
  /** Slot numbers, VM → queue's thread. */
  readonly submit: SharedArrayBuffer;
  /** `slot | (status + 2) << 20`, queue's thread → VM. */
  readonly done: SharedArrayBuffer;
  /** Wakes the queue's thread. */
  readonly kickFd: number;
  /** Wakes the VM's thread (in its reactor). */
  readonly doneFd: number;
}

/** Everything a VM's client of the accelerator starts from. */
export interface AccelTicket {
  /** The VM's number at the accelerator (its sessions and mappings are filed under it). */
  readonly vm: number;
  /** A name for logs. */
  readonly name: string;
  readonly capabilities: CapabilitiesWire;
  /** The device's state: `[state (1 ready, 0 down), epoch]`, written by the main thread only. */
  readonly state: SharedArrayBuffer;
  /** The VM's counters the main thread reads: `[requests in flight]`. */
  readonly counters: SharedArrayBuffer;
  /** Its queue, or null while the device is down (or when it shares one). */
  readonly queue: QueueTicket | null;
  /** The queue it shares with other VMs (driven by the main thread), or null. */
  readonly shared: SharedQueueTicket | null;
  /** How completions come back: MSI-X into the VM's reactor, or polling (`caller`: the caller polls). */
  readonly completions: "interrupt" | "poll" | "caller";
  /** A request older than this means a hung device. */
  readonly requestTimeoutMs: number;
  /** Watchdog period while requests are in flight. */
  readonly watchdogMs: number;
}

/** Index of the state word in `AccelTicket.state`. */
export const STATE_WORD = 0;
/** Index of the epoch in `AccelTicket.state`. */
export const EPOCH_WORD = 1;
/** Index of the in-flight count in `AccelTicket.counters`. */
export const INFLIGHT_WORD = 0;
