/**
 * `SessionManager`: creates and closes sessions for the device, whatever describes them (control queue,
 * vhost-user message 26, stateless requests), and maps engine refusals to status bytes.
 *
 * Key hygiene: every key buffer the device copied out of guest memory or a message is zeroed once the engine has
 * taken what it needs; the engine zeroes its own copies when the session closes. Keys are never logged.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { type CryptoEngine, EngineError, type EngineSession, type SessionParams } from "../engine/engine.ts";
import { RateLimitedLog } from "../log/mod.ts";
import { Status } from "../spec/virtio_crypto.ts";
import { SessionTable } from "./session_table.ts";

const log = getLogger(["cryptobridge", "crypto"]);

/** The outcome of a create: a session id, or the status to answer with. */
export interface CreateResult {
  /** The new session id (>= 1), or -1. */
  readonly id: number;
  /** OK, or why not. */
  readonly status: number;
}

/** Sessions of one device. */
export class SessionManager {
  readonly #engine: CryptoEngine;
  readonly #table: SessionTable;
  /** The VM's rate-limited log (refusals are the guest's doing, and a guest can ask for many). */
  readonly log: RateLimitedLog;

  /**
   * @param engine The engine (a router in production).
   * @param maxSessions The session limit (NOSPC past it).
   * @param limited The VM's rate-limited log.
   */
  constructor(engine: CryptoEngine, maxSessions: number, limited: RateLimitedLog = new RateLimitedLog()) {
    this.#engine = engine;
    this.#table = new SessionTable(maxSessions);
    this.log = limited;
  }

  /** The table (lookups on the data path, metrics). */
  get table(): SessionTable {
    return this.#table;
  }

  /**
   * Creates a session and zeroes the key buffers of `params` afterwards.
   *
   * @param params Session parameters.
   * @returns The id, or -1 with the status to answer.
   */
  create(params: SessionParams): CreateResult {
    try {
      if (this.#table.full) return { id: -1, status: Status.NOSPC };
      const session = this.#engine.createSession(params);
      const id = this.#table.add(session);
      log.debug("session {id} created: {service} algo {algo}", {
        id,
        service: params.service,
        algo: algoOf(params),
      });
      return { id, status: Status.OK };
    } catch (e) {
      if (!(e instanceof EngineError)) throw e;
      this.log.info(log, "session-refused", "session refused: {reason}", { reason: e.message });
      return { id: -1, status: statusOf(e) };
    } finally {
      zeroKeys(params);
    }
  }

  /**
   * A session for one stateless request (not in the table; the caller closes it).
   *
   * @returns The session, or the status byte to answer with.
   */
  createTemporary(params: SessionParams): EngineSession | number {
    try {
      return this.#engine.createSession(params);
    } catch (e) {
      if (!(e instanceof EngineError)) throw e;
      return statusOf(e);
    } finally {
      zeroKeys(params);
    }
  }

  /**
   * Closes a session (its engine zeroes the keys).
   *
   * @returns Whether it existed.
   */
  close(id: number): boolean {
    const closed = this.#table.close(id);
    if (closed) log.debug("session {id} closed", { id });
    return closed;
  }

  /** Closes every session. */
  closeAll(): void {
    this.#table.closeAll();
  }
}

function statusOf(e: EngineError): number {
  switch (e.kind) {
    case "notsupp":
      return Status.NOTSUPP;
    case "nospc":
      return Status.NOSPC;
    default:
      return Status.ERR;
  }
}

function algoOf(p: SessionParams): number {
  return p.service === "chain" ? p.cipher.algo : p.algo;
}

/** Zeroes every key buffer in session parameters (the device's copies). */
export function zeroKeys(p: SessionParams): void {
  switch (p.service) {
    case "cipher":
    case "mac":
    case "aead":
    case "akcipher":
      p.key.fill(0);
      return;
    case "chain":
      p.cipher.key.fill(0);
      p.auth.key.fill(0);
      return;
    case "hash":
      return;
  }
}
