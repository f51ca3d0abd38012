/**
 * The peer of `line_round_trip.ts`, on its own Worker (its own OS thread): pinned to its CPU, it answers every
 * value the main thread stores in the ping word by storing it in the pong word, until the value is `STOP`.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { pinThread } from "../src/os/thread.ts";

/** What the peer is started with. */
export interface LinePeerInit {
  /** Shared words: `ping` at index `PING`, `pong` at index `PONG` (on lines of their own). */
  readonly words: Int32Array;
  readonly cpu: number;
}

/** Index of the word the main thread writes. */
export const PING = 0;
/** Index of the word the peer writes: 128 bytes further, so not on the ping's line nor its prefetch pair. */
export const PONG = 32;
/** The ping value that ends the peer. */
export const STOP = -1;

self.onmessage = (e: MessageEvent<LinePeerInit>) => {
  const { words, cpu } = e.data;
  pinThread([cpu]);
  self.postMessage("ready");
  let answered = 0;
  for (let last = 0;;) {
    const v = Atomics.load(words, PING);
    if (v === last) continue;
    if (v === STOP) break;
    Atomics.store(words, PONG, v);
    last = v;
    answered++;
  }
  self.postMessage(answered);
};
