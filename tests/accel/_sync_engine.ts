/**
 * Test adapter: `SyncEngine` runs an asynchronous engine synchronously, so the engine conformance suite (which
 * expects `submit` to return the status) runs on the accelerator engine unchanged. `submit` notifies the device
 * and polls the used ring until the operation completes. Used with `completions: "caller"`; the device must make
 * progress without this thread's event loop (QEMU's device runs in its own thread; the host model serves inline).
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
} from "../../src/engine/mod.ts";
import type { VirtioPciEngine } from "../../src/accel/virtio_pci/mod.ts";

const NOT_DONE = -100;

/** A synchronous face for a `VirtioPciEngine`. */
export class SyncEngine implements CryptoEngine {
  readonly name: string;
  /** The engine under test. */
  readonly inner: VirtioPciEngine;
  readonly #timeoutMs: number;

  /**
   * @param inner The engine (opened with `completions: "caller"`).
   * @param timeoutMs How long one operation may take.
   */
  constructor(inner: VirtioPciEngine, timeoutMs = 10_000) {
    this.inner = inner;
    this.name = inner.name;
    this.#timeoutMs = timeoutMs;
  }

  capabilities(): Capabilities {
    return this.inner.capabilities();
  }

  createSession(params: SessionParams): EngineSession {
    return this.inner.createSession(params);
  }

  closeSession(session: EngineSession): void {
    this.inner.closeSession(session);
  }

  /** Submits and waits (polling) for the completion. */
  submit(op: CryptoOp): number {
    let done = NOT_DONE;
    const previous = op.complete;
    op.complete = (_op, status) => done = status;
    try {
      const status = this.inner.submit(op);
      if (status !== PENDING) return status;
      const deadline = performance.now() + this.#timeoutMs;
      while (done === NOT_DONE) {
        this.inner.poll();
        if (done === NOT_DONE && performance.now() > deadline) {
          throw new Error(`The accelerator did not complete an operation within ${this.#timeoutMs} ms`);
        }
      }
      return done;
    } finally {
      op.complete = previous;
    }
  }

  close(): void {
    this.inner.close();
  }
}
