/**
 * Requests for the speed runs, shaped like a known-answer case (its session, IV, AAD and digest lengths, chain
 * regions) with a source of a given size: filler bytes, since nothing secret is measured.
 *
 * @module
 */

import type { CryptoOp, EngineSession } from "../engine/mod.ts";
import { type KatCase, opOf, type OpShape } from "./kat_case.ts";

/**
 * Whether a case can shape speed runs: one that reads a tag (AEAD decryption) would fail on filler bytes.
 *
 * @param c The case.
 * @returns True when its requests produce their digest or tag.
 */
export function timeable(c: KatCase): boolean {
  return !(c.digest instanceof Uint8Array);
}

/**
 * A request of `size` source bytes shaped like `c`.
 *
 * @param c The case (`timeable`).
 * @param size Source bytes.
 * @returns Its lists.
 */
export function speedShape(c: KatCase, size: number): OpShape {
  const digest = typeof c.digest === "number" ? { digest: c.digest } : {};
  const regions = c.regions === undefined
    ? {}
    : { regions: { cipherOffset: 0, cipherLen: size, hashOffset: 0, hashLen: size } };
  return {
    ...(c.iv === undefined ? {} : { iv: c.iv }),
    src: new Uint8Array(size).fill(0xa5),
    ...(c.dstLen === undefined ? {} : { dstLen: size }),
    ...(c.aad === undefined ? {} : { aad: c.aad }),
    ...digest,
    ...regions,
  };
}

/**
 * `depth` requests of `size` bytes for a session, each with its own buffers.
 *
 * @param session The session (the accelerator's or software's).
 * @param c The case shaping them.
 * @param size Source bytes.
 * @param depth How many.
 * @returns The operations.
 */
export function speedOps(session: EngineSession, c: KatCase, size: number, depth: number): CryptoOp[] {
  return Array.from({ length: depth }, () => opOf(session, speedShape(c, size)));
}
