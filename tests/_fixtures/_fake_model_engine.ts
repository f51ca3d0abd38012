/**
 * Test fixture, part of `fake_virtio_crypto.ts`: the cryptography behind the model device, the OpenSSL software
 * engine restricted to the services the model serves and to its session limit (QEMU's built-in back-end: cipher
 * only, 256 sessions, a full table answered ERR), and, on demand, a wrong answer for the sessions a predicate picks.
 *
 * @module
 */

import {
  type Capabilities,
  type CryptoEngine,
  type CryptoOp,
  EngineError,
  type EngineSession,
  type SessionParams,
  type SgList,
} from "../../src/engine/mod.ts";
import { SoftwareEngine } from "../../src/engine/software/mod.ts";

/** A model session: the device's session table closes sessions through `session.engine`, the model engine. */
class ModelSession implements EngineSession {
  constructor(
    readonly params: SessionParams,
    readonly engine: CryptoEngine,
    public inner: EngineSession | undefined,
  ) {}
}

/** The software engine restricted to what the model serves, with its own session limit. */
export class ModelEngine implements CryptoEngine {
  readonly name = "model";
  readonly #inner = new SoftwareEngine();
  readonly #serves: readonly string[];
  readonly #max: number;
  readonly #corrupt: (params: SessionParams) => boolean;
  #open = 0;

  constructor(
    serves: readonly string[],
    max: number,
    corrupt: (params: SessionParams) => boolean = () => false,
  ) {
    this.#serves = serves;
    this.#max = max;
    this.#corrupt = corrupt;
  }

  capabilities(): Capabilities {
    return this.#inner.capabilities();
  }

  createSession(params: SessionParams): EngineSession {
    if (!this.#serves.includes(params.service)) throw new EngineError("notsupp", "model: not served");
    if (this.#open >= this.#max) throw new EngineError("invalid", "model: table full"); // QEMU: status ERR
    const inner = this.#inner.createSession(params);
    this.#open++;
    return new ModelSession(params, this, inner);
  }

  closeSession(session: EngineSession): void {
    const s = session as ModelSession;
    if (s.inner === undefined) return;
    this.#inner.closeSession(s.inner);
    s.inner = undefined;
    this.#open--;
  }

  submit(op: CryptoOp): number {
    const outer = op.session as ModelSession | null;
    if (outer?.inner === undefined) return 4; // INVSESS
    op.session = outer.inner;
    try {
      const status = this.#inner.submit(op);
      if (status === 0 && this.#corrupt(outer.params)) {
        flipFirstByte(op.digest.total > 0 ? op.digest : op.dst);
      }
      return status;
    } finally {
      op.session = outer;
    }
  }

  close(): void {
    this.#inner.close();
  }
}

// The wrong answer: the first byte of the output, inverted.
function flipFirstByte(list: SgList): void {
  if (list.total === 0) return;
  const b = new Uint8Array(1);
  list.copyOut(0, b);
  b[0] = b[0]! ^ 0xff;
  list.copyIn(0, b);
}
