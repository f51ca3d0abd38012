/**
 * Test double: `TimedEngine`, the real `SoftwareEngine` (real cryptography) behind a chosen subset of its
 * algorithms, that charges each request a cost to a fake clock (fixed plus per source byte, per algorithm), so the
 * calibration sees engines of known relative speed and the tests assert the thresholds it derives, never a
 * measured time. It can answer asynchronously (a microtask later, as an accelerator's completion), fail every
 * request (`ENGINE_FAILED`) or never answer (a hung ring).
 *
 * @module
 */

import {
  type Capabilities,
  type CryptoEngine,
  type CryptoOp,
  ENGINE_FAILED,
  type EngineSession,
  PENDING,
  type SessionParams,
} from "../../src/engine/mod.ts";
import { SoftwareEngine } from "../../src/engine/software/mod.ts";

/** A fake clock in milliseconds. */
export class FakeClock {
  ms = 0;
  readonly now = (): number => this.ms;
}

/** Cost of a request: `fixedNs + perByteNs * source bytes`. */
export interface Cost {
  readonly fixedNs: number;
  readonly perByteNs: number;
}

/** How a `TimedEngine` behaves. */
export interface TimedScript {
  readonly clock: FakeClock;
  /** Cost per algorithm name (`AES-CBC`, `SHA256`...); others cost `fallback`. */
  readonly costs: Readonly<Record<string, Cost>>;
  readonly fallback?: Cost;
  /** Algorithm names advertised per service; default every one the software engine has. */
  readonly advertise?: readonly string[];
  readonly async?: boolean;
  readonly fail?: boolean;
  readonly hang?: boolean;
}

class TimedSession implements EngineSession {
  constructor(readonly params: SessionParams, readonly engine: TimedEngine, readonly inner: EngineSession) {}
}

/** An engine of known speed on a fake clock. */
export class TimedEngine implements CryptoEngine {
  readonly name: string;
  readonly inner = new SoftwareEngine();
  /** Requests submitted, by source size. */
  readonly sizes: number[] = [];
  readonly #script: TimedScript;

  constructor(name: string, script: TimedScript) {
    this.name = name;
    this.#script = script;
  }

  capabilities(): Capabilities {
    const caps = this.inner.capabilities();
    const keep = this.#script.advertise;
    const pick = <T extends { name: string }>(m: ReadonlyMap<number, T>) =>
      new Map([...m].filter(([, info]) => keep === undefined || keep.includes(info.name)));
    return {
      ...caps,
      cipher: pick(caps.cipher),
      hash: pick(caps.hash),
      mac: pick(caps.mac),
      aead: pick(caps.aead),
      akcipher: new Map(),
      chaining: false,
    };
  }

  createSession(params: SessionParams): EngineSession {
    return new TimedSession(params, this, this.inner.createSession(params));
  }

  closeSession(session: EngineSession): void {
    this.inner.closeSession((session as TimedSession).inner);
  }

  submit(op: CryptoOp): number {
    const s = op.session as TimedSession;
    this.sizes.push(op.src.total);
    const name = algorithmOf(this.inner.capabilities(), s.params);
    const cost = this.#script.costs[name] ?? this.#script.fallback ?? { fixedNs: 1000, perByteNs: 1 };
    this.#script.clock.ms += (cost.fixedNs + cost.perByteNs * op.src.total) / 1e6;
    if (this.#script.hang) return PENDING;
    op.session = s.inner;
    const status = this.#script.fail ? ENGINE_FAILED : this.inner.submit(op);
    op.session = s;
    if (!this.#script.async) return status;
    queueMicrotask(() => op.complete(op, status));
    return PENDING;
  }

  close(): void {
    this.inner.close();
  }
}

function algorithmOf(caps: Capabilities, p: SessionParams): string {
  if (p.service === "chain" || p.service === "akcipher") return p.service;
  return caps[p.service].get(p.algo)?.name ?? "";
}
