/**
 * `QatSession`: a session whose content descriptor lives in a ring pair's scratch area. Made without any device
 * round trip (the firmware reads the descriptor by address with every request), by the thread that drives the
 * ring pair. `CdPool` hands out the descriptor slots and zeroes them when a session closes, so no key stays in
 * DMA memory.
 *
 * @module
 */

import type { CryptoEngine, EngineSession, SessionParams } from "../../engine/mod.ts";
import { REQUEST_WORDS } from "./fw_la.ts";
import type { SessionFacts } from "./session_plan.ts";

/** Service numbers the hot path switches on (no string compares per request). */
export const Kind = { CIPHER: 0, HASH: 1, MAC: 2, AEAD: 3, CHAIN: 4 } as const;

const KIND_OF: Readonly<Record<SessionFacts["service"], number>> = {
  cipher: Kind.CIPHER,
  hash: Kind.HASH,
  mac: Kind.MAC,
  aead: Kind.AEAD,
  chain: Kind.CHAIN,
};

/** A session on a QAT ring pair. */
export class QatSession implements EngineSession {
  readonly params: SessionParams;
  readonly engine: CryptoEngine;
  /** The request template: 32 little-endian words, copied into the TX ring per request. */
  readonly template: Uint32Array;
  /** The descriptor's slot in the ring pair's pool. */
  readonly cd: number;
  /** The ring pair incarnation the session was made on (a restarted ring pair has a new scratch area). */
  readonly epoch: number;
  /** `Kind`. */
  readonly kind: number;
  readonly ivLen: number;
  readonly unit: number;
  readonly resultLen: number;
  readonly verify: boolean;
  readonly encrypt: boolean;
  readonly aadLen: number;
  /** Requests of this session on the device. */
  inflight = 0;
  /** Closed by the caller: INVSESS from then on. */
  closed = false;

  /**
   * @param engine The engine the router hands it back to.
   * @param params Its parameters.
   * @param facts What the plan says about its requests.
   * @param where Descriptor slot, template bytes, epoch.
   */
  constructor(
    engine: CryptoEngine,
    params: SessionParams,
    facts: SessionFacts,
    where: { readonly cd: number; readonly template: Uint8Array; readonly epoch: number },
  ) {
    this.engine = engine;
    this.params = params;
    this.cd = where.cd;
    this.epoch = where.epoch;
    this.template = new Uint32Array(REQUEST_WORDS);
    new Uint8Array(this.template.buffer).set(where.template);
    this.kind = KIND_OF[facts.service];
    this.ivLen = facts.ivLen;
    this.unit = facts.unit;
    this.resultLen = facts.resultLen;
    this.verify = facts.verify;
    this.encrypt = facts.encrypt;
    this.aadLen = facts.aadLen;
  }
}

/** Content descriptor slots of one scratch area. */
export class CdPool {
  readonly #bytes: Uint8Array;
  readonly #stride: number;
  readonly #free: number[];

  /**
   * @param bytes The pool's memory (`count * stride` bytes at the start of the scratch area).
   * @param count Slots.
   * @param stride Bytes per slot.
   */
  constructor(bytes: Uint8Array, count: number, stride: number) {
    this.#bytes = bytes;
    this.#stride = stride;
    this.#free = Array.from({ length: count }, (_, i) => count - 1 - i);
  }

  /** Free slots. */
  get available(): number {
    return this.#free.length;
  }

  /**
   * Takes a slot.
   *
   * @returns Its index, or -1 when the pool is full.
   */
  take(): number {
    return this.#free.pop() ?? -1;
  }

  /**
   * The memory of a slot.
   *
   * @param index The slot.
   * @returns A view of its bytes.
   */
  view(index: number): Uint8Array {
    return this.#bytes.subarray(index * this.#stride, (index + 1) * this.#stride);
  }

  /**
   * Zeroes a slot (keys leave DMA memory) and gives it back.
   *
   * @param index The slot.
   */
  release(index: number): void {
    this.view(index).fill(0);
    this.#free.push(index);
  }
}
