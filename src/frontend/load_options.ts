/**
 * What a `LoadGenerator` is asked to do and what a run answers: each slot's request, the queue and area to drive,
 * the completion mode, the limit of a run and its result.
 *
 * @module
 */

import type { Reactor } from "../os/mod.ts";
import type { ClaimedQueue } from "./crypto_driver.ts";
import type { GuestRam } from "./guest_ram.ts";
import type { Departure } from "./departures.ts";
import type { LatencySummary } from "./latency.ts";

/** One slot's request: device-readable parts (header first), then the lengths of the device-writable parts. */
export interface LoadRequest {
  /** Bytes of each device-readable part, in order (header and `op_flf`, then the `op_vlf` parts). */
  readonly out: readonly Uint8Array[];
  /** Lengths of the device-writable parts before the status byte, in order. */
  readonly inLengths: readonly number[];
}

/** How completions are noticed. */
export type CompletionMode = "event" | "poll";

/** Options of a `LoadGenerator`. */
export interface LoadGeneratorOptions {
  /** Guest RAM (the requests are laid out in it). */
  readonly ram: GuestRam;
  /** The data queue to drive. */
  readonly queue: ClaimedQueue;
  /** The reactor to wait for the call eventfd in (`event` mode). */
  readonly reactor: Reactor;
  /** Guest-physical address of the area the slots go in (`VirtioCryptoDriver.reserveRam`). */
  readonly area: number;
  /** Bytes of that area. */
  readonly areaSize: number;
  /** Requests in flight. */
  readonly depth: number;
  /** The request of a slot (called once per slot). */
  readonly request: (slot: number) => LoadRequest;
  /**
   * The expected bytes of a slot's device-writable parts (concatenated, without the status byte), called once per
   * slot.
   */
  readonly expected: (slot: number) => Uint8Array;
  /** Indirect chains (one descriptor in the ring per request). Default false. */
  readonly indirect?: boolean;
  /** Default `event`. */
  readonly completion?: CompletionMode;
  /** Compare every n-th completion (and the first of each slot) with the expected output. Default 1024. */
  readonly verifyEvery?: number;
  /** End the run as stalled (`neverCompleted`) when nothing completes for this long. Default 5000 ms. */
  readonly stallMs?: number;
}

/** When a run stops submitting: after `count` requests, after `durationMs`, or whichever comes first. */
export interface LoadLimit {
  readonly count?: number;
  readonly durationMs?: number;
}

/** The outcome of one run. */
export interface LoadResult {
  /** Requests completed (every one checked for status and used length). */
  readonly completed: number;
  /** From the first submission to the last completion. */
  readonly elapsedMs: number;
  /** Completions compared with the expected output. */
  readonly verified: number;
  /** Latency from submission to completion, as seen by the driver. */
  readonly latency: LatencySummary;
  /** Departures from the specs the generator saw since it was made (its runs add up). */
  readonly departures: readonly Departure[];
  /** The run ended because nothing completed for `stallMs`. */
  readonly stalled: boolean;
  /** Requests still in flight when it stalled (0 otherwise). */
  readonly neverCompleted: number;
}
