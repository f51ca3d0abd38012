/**
 * Test adapter: a `QatEngine` on the gen4 VF model, synchronously. `submit` rings the doorbell (caller mode),
 * then alternates one pass of the model's arbiter and one poll of the driver until the operation completes, so
 * the engine conformance suite (which expects `submit` to return the status) runs on the driver unchanged.
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
} from "../../../src/engine/mod.ts";
import { QatEngine, type QatEngineOptions } from "../../../src/accel/qat/mod.ts";
import { type FakeQatOptions, FakeQatVf } from "../../_fixtures/fake_qat_vf.ts";

const NOT_DONE = -100;

// A session of the adapter, so that a router in front hands its operations to the adapter, not to the engine.
class SyncSession implements EngineSession {
  constructor(readonly params: SessionParams, readonly engine: CryptoEngine, readonly inner: EngineSession) {}
}

/** A synchronous face for a `QatEngine` driving a `FakeQatVf`. */
export class SyncQat implements CryptoEngine {
  readonly name: string;
  readonly model: FakeQatVf;
  readonly inner: QatEngine;

  constructor(model: FakeQatOptions = {}, options: QatEngineOptions = {}) {
    this.model = new FakeQatVf(model);
    this.inner = QatEngine.open(this.model, { completions: "caller", ...options });
    this.name = this.inner.name;
  }

  capabilities(): Capabilities {
    return this.inner.capabilities();
  }

  createSession(params: SessionParams): EngineSession {
    return new SyncSession(params, this, this.inner.createSession(params));
  }

  closeSession(session: EngineSession): void {
    this.inner.closeSession((session as SyncSession).inner);
  }

  /** Submits, then steps the model and polls the driver until the completion (at most 10 000 rounds). */
  submit(op: CryptoOp): number {
    let done = NOT_DONE;
    const previous = op.complete;
    const outer = op.session as SyncSession | null;
    op.complete = (_op, status) => done = status;
    if (outer instanceof SyncSession) op.session = outer.inner;
    try {
      const status = this.inner.submit(op);
      if (status !== PENDING) return status;
      for (let round = 0; done === NOT_DONE; round++) {
        if (round > 10_000) throw new Error("The QAT model did not complete an operation");
        this.model.pump();
        this.inner.poll();
      }
      return done;
    } finally {
      op.complete = previous;
      op.session = outer;
    }
  }

  close(): void {
    this.inner.close();
    this.model.close();
  }
}
