/**
 * Seeded, structure-aware mutations for the fuzzer: a PRNG (mulberry32, so a seed replays exactly), vhost-user
 * messages built from the real codes and sizes and then bent, and data-request headers mutated field by field.
 *
 * @module
 */

import { Request } from "../../src/vhost_user/mod.ts";

/** A seeded PRNG (mulberry32). */
export class Rng {
  #s: number;
  /** @param seed The seed (a u32). */
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  /** A u32. */
  u32(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** An integer in [0, n). */
  below(n: number): number {
    return this.u32() % n;
  }
  /** One of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }
  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }
}

const CODES = Object.values(Request);
/** Payload sizes each request really has, to start from (then bent). */
const SIZES = [0, 8, 40, 264, 632, 1072, 4096, 4097];
const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x10000, 0x7fffffff, 0xffffffff];

/** One mutated vhost-user message: header fields, payload, and whether to attach an fd. */
export interface FuzzMessage {
  readonly request: number;
  readonly flags: number;
  readonly payload: Uint8Array;
  /** Header size field (usually the payload length). */
  readonly size: number;
  readonly withFd: boolean;
  /** Send only this many bytes, then close (a truncated message). */
  readonly truncateAt: number | null;
}

/**
 * A vhost-user message: a real code with a plausible size, then with some fields set to edge values.
 *
 * @param rng The PRNG.
 * @returns The message.
 */
export function mutateMessage(rng: Rng): FuzzMessage {
  const request = rng.below(10) === 0 ? rng.u32() % 64 : rng.pick(CODES);
  const length = Math.min(rng.pick(SIZES), 4096);
  const payload = rng.bytes(length);
  // Small integers where the decoders look (indices, counts, sizes) make the interesting paths reachable.
  for (let o = 0; o + 4 <= payload.length && o < 64; o += 4) {
    if (rng.below(2) === 0) new DataView(payload.buffer).setUint32(o, rng.pick(INTERESTING) % 300, true);
  }
  const flags = rng.below(8) === 0 ? rng.u32() : 1 | (rng.below(2) === 0 ? 8 : 0);
  const size = rng.below(16) === 0 ? rng.pick(INTERESTING) : length;
  return {
    request,
    flags,
    payload,
    size,
    withFd: rng.below(4) === 0,
    truncateAt: rng.below(20) === 0 ? rng.below(12 + length) : null,
  };
}

/**
 * Mutates a copy of a data request header (legacy layout, 72 bytes, or any other request bytes).
 *
 * @param rng The PRNG.
 * @param header The valid header.
 * @returns The mutated copy.
 */
export function mutateHeader(rng: Rng, header: Uint8Array): Uint8Array {
  const out = header.slice();
  const view = new DataView(out.buffer);
  const n = 1 + rng.below(4);
  for (let i = 0; i < n; i++) {
    const o = rng.below(Math.max(1, out.length >> 2)) * 4;
    if (o + 4 > out.length) continue;
    const kind = rng.below(3);
    if (kind === 0) view.setUint32(o, rng.pick(INTERESTING), true);
    else if (kind === 1) out[o + rng.below(4)]! ^= 1 << rng.below(8);
    else view.setUint32(o, rng.u32(), true);
  }
  return out;
}
