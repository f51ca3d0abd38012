/**
 * One request on an engine, awaited: an accelerator completes later (`PENDING`, then `op.complete` from its poll
 * loop or interrupt), software at once. A request that gets no answer in time is a `SelftestTimeout`.
 *
 * @module
 */

import { type CryptoEngine, type CryptoOp, PENDING } from "../engine/mod.ts";

/** An engine did not answer a request in time. */
export class SelftestTimeout extends Error {
  override name = "SelftestTimeout";
}

/**
 * Submits one request and waits for its status.
 *
 * @param engine The engine to run it on (the accelerator's own, never a router).
 * @param op The request, its session set.
 * @param timeoutMs Longest wait for the answer.
 * @returns The status byte, or `ENGINE_FAILED` when the engine gave the request back.
 * @throws SelftestTimeout when no answer came within `timeoutMs`.
 */
export function runOp(engine: CryptoEngine, op: CryptoOp, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new SelftestTimeout(`${engine.name} did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    op.complete = (_op: CryptoOp, status: number): void => {
      clearTimeout(timer);
      resolve(status);
    };
    const status = engine.submit(op);
    if (status !== PENDING) {
      clearTimeout(timer);
      resolve(status);
    }
  });
}
