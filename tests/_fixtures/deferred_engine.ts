/**
 * Test fixture: `DeferredEngine`, an asynchronous `CryptoEngine` that completes operations when the test says so,
 * in the order the test chooses.
 *
 * Why it exists: the device must cope with completions that arrive later and out of order (style.md rule 13: an
 * accelerator completes in any order; the used ring carries the head id), and GET_VRING_BASE must wait for requests
 * in flight. Nothing real on this machine can complete out of order: the OpenSSL software engine is synchronous, and
 * the accelerator engine comes in a later issue. So this engine wraps the real `SoftwareEngine` (the cryptography is
 * real, done by OpenSSL on guest memory in place), but `submit` only holds the operation and returns `PENDING`; the
 * test then releases held operations one by one or in any order, and each release runs the operation in the
 * software engine and reports the result through `op.complete(op, status)`, as an accelerator's completion
 * handler would.
 *
 * @module
 */

import {
  type Capabilities,
  type CryptoEngine,
  type CryptoOp,
  type EngineSession,
  PENDING,
  type SessionParams,
} from "../../src/engine/engine.ts";
import { SoftwareEngine } from "../../src/engine/software/mod.ts";

/** An engine whose operations complete only when released. */
export class DeferredEngine implements CryptoEngine {
  readonly name = "deferred";
  /** The engine that does the cryptography. */
  readonly inner: SoftwareEngine = new SoftwareEngine();
  readonly #held: CryptoOp[] = [];
  readonly #waiters: { n: number; resolve: () => void }[] = [];
  /** Operations completed so far. */
  completed = 0;

  capabilities(): Capabilities {
    return this.inner.capabilities();
  }

  createSession(params: SessionParams): EngineSession {
    return this.inner.createSession(params);
  }

  closeSession(session: EngineSession): void {
    this.inner.closeSession(session);
  }

  /** Holds the operation; the device hears about it when the test releases it. */
  submit(op: CryptoOp): number {
    this.#held.push(op);
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const w = this.#waiters[i]!;
      if (this.#held.length >= w.n) {
        this.#waiters.splice(i, 1);
        w.resolve();
      }
    }
    return PENDING;
  }

  /** Operations held now, in the order the device submitted them. */
  get held(): number {
    return this.#held.length;
  }

  /**
   * Resolves once at least `n` operations are held.
   *
   * @param n How many.
   * @param timeoutMs Rejects after this long.
   */
  waitHeld(n: number, timeoutMs = 2000): Promise<void> {
    if (this.#held.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.#waiters.indexOf(w);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(new Error(`Only ${this.#held.length} operations held after ${timeoutMs} ms, expected ${n}`));
      }, timeoutMs);
      const w = {
        n,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.#waiters.push(w);
    });
  }

  /**
   * Completes held operations: `order` lists positions in the held list (0 = the first submitted of those held
   * now), completed in that order. Each runs in the software engine, then `op.complete` reports its status.
   *
   * @param order Positions, each at most once.
   * @returns The descriptor heads (`op.tag`) completed, in order.
   */
  release(order: readonly number[]): number[] {
    const ops = order.map((i) => {
      const op = this.#held[i];
      if (op === undefined) {
        throw new RangeError(`No held operation at position ${i} (${this.#held.length} held)`);
      }
      return op;
    });
    if (new Set(order).size !== order.length) throw new RangeError("A position is listed twice");
    for (const op of ops) this.#held.splice(this.#held.indexOf(op), 1);
    return ops.map((op) => {
      const tag = op.tag;
      const status = this.inner.submit(op);
      this.completed++;
      op.complete(op, status);
      return tag;
    });
  }

  /** Completes every held operation, last submitted first. */
  releaseAllReversed(): number[] {
    return this.release(this.#held.map((_, i) => this.#held.length - 1 - i));
  }

  close(): void {
    this.#held.length = 0;
    this.inner.close();
  }
}
