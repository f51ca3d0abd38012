/**
 * `SessionTable`: virtio session ids to engine sessions, bounded by a configured limit (NOSPC past it).
 *
 * Ids start at 1 and are never reused while the table lives (DPDK does the same), so a stale id from a closed
 * session cannot reach a new session. They are u64 on the wire and int64 ≥ 0 on vhost-user; here they are safe
 * integers.
 *
 * @module
 */

import type { EngineSession } from "../engine/engine.ts";

/** A bounded table of sessions. */
export class SessionTable {
  /** Most sessions open at once. */
  readonly limit: number;
  readonly #sessions = new Map<number, EngineSession>();
  #nextId = 1;

  /**
   * @param limit Most sessions open at once (>= 1).
   * @throws RangeError for a limit below 1.
   */
  constructor(limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new RangeError(`Cannot create session table: limit must be >= 1: current value is ${limit}`);
    }
    this.limit = limit;
  }

  /** Sessions open now. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Whether another session fits. */
  get full(): boolean {
    return this.#sessions.size >= this.limit;
  }

  /**
   * Adds a session.
   *
   * @param session An engine session.
   * @returns Its new id, or -1 when the table is full (the caller closes the session and answers NOSPC).
   */
  add(session: EngineSession): number {
    if (this.full) return -1;
    const id = this.#nextId++;
    this.#sessions.set(id, session);
    return id;
  }

  /**
   * The session with this id.
   *
   * @param id A session id (-1 and unknown ids give `undefined`).
   */
  get(id: number): EngineSession | undefined {
    return this.#sessions.get(id);
  }

  /**
   * Removes a session and closes it in its engine (which zeroes its keys).
   *
   * @param id The session id.
   * @returns Whether the id was open.
   */
  close(id: number): boolean {
    const s = this.#sessions.get(id);
    if (s === undefined) return false;
    this.#sessions.delete(id);
    s.engine.closeSession(s);
    return true;
  }

  /** Closes every session (disconnect, reset, shutdown). Ids keep increasing afterwards. */
  closeAll(): void {
    for (const s of this.#sessions.values()) s.engine.closeSession(s);
    this.#sessions.clear();
  }

  /** Sessions per engine name (metrics). */
  countByEngine(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const s of this.#sessions.values()) counts.set(s.engine.name, (counts.get(s.engine.name) ?? 0) + 1);
    return counts;
  }
}
