/**
 * `WaitingRoom`: at most one front-end waiting for a VM's slot while the front-end that holds it is unsettled
 * (still in its handshake or in the middle of a message: `PeerDeadline.unsettled`) or its requests are draining.
 * If the holder is dropped, the waiting one is served; if the holder settles, or the wait outlasts the holder's
 * time limits, it is refused. A front-end that arrives while the holder is settled is refused at once, as is a
 * second one while one waits.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { RateLimitedLog } from "../log/mod.ts";
import type { UnixConnection } from "../os/mod.ts";
import { describePeer, type PeerInfo } from "./peer.ts";
import type { PeerDeadline, PeerLimits } from "./peer_deadline.ts";

const log = getLogger(["cryptobridge", "vhost_user"]);

/** A front-end waiting for the slot. */
export interface Waiting {
  readonly connection: UnixConnection;
  readonly peer: PeerInfo;
}

/** The one place a front-end may wait for a held slot. */
export class WaitingRoom {
  readonly #log: RateLimitedLog;
  readonly #limits: PeerLimits;
  #waiting: Waiting | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param limitedLog The VM's rate-limited log (refusals are the peers' doing).
   * @param limits The holder's time limits (they bound the wait).
   */
  constructor(limitedLog: RateLimitedLog, limits: PeerLimits) {
    this.#log = limitedLog;
    this.#limits = limits;
  }

  /** Whether someone is waiting. */
  get occupied(): boolean {
    return this.#waiting !== null;
  }

  /**
   * A front-end arrived while the slot is held: it waits if the holder may still go, else it is refused.
   *
   * @param w The newcomer (its connection is owned by the room from now on).
   * @param holder The holder's time limits, or undefined while a dropped holder's requests drain.
   */
  offer(w: Waiting, holder: PeerDeadline | undefined): void {
    if ((holder !== undefined && !holder.unsettled) || this.#waiting !== null) {
      return this.refuse(w, "one is already connected");
    }
    const bound = this.#limits.handshakeMs + 100;
    const waitMs = holder === undefined ? bound : Math.min(bound, holder.remainingMs + 100);
    this.#log.info(log, "waiting", "{peer} waits: the front-end holding the slot has not settled", {
      peer: describePeer(w.peer),
    });
    this.#waiting = w;
    this.#timer = setTimeout(() => {
      const late = this.take();
      if (late !== null) this.refuse(late, "the connected one did not leave in time");
    }, waitMs);
  }

  /** The holder settled: whoever waits for its slot is refused. */
  holderSettled(): void {
    const w = this.take();
    if (w !== null) this.refuse(w, "the connected one finished its handshake");
  }

  /**
   * Refuses a front-end: closes its connection with a log line that names it.
   *
   * @param w The front-end.
   * @param why Why, for the log.
   */
  refuse(w: Waiting, why: string): void {
    this.#log.warn(log, "refused", "refusing a second front-end, {peer}: {why}", {
      peer: describePeer(w.peer),
      why,
    });
    w.connection.close();
  }

  /**
   * Takes the waiting front-end out (to serve it).
   *
   * @returns It, or null.
   */
  take(): Waiting | null {
    const w = this.#waiting;
    this.#waiting = null;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    return w;
  }

  /** Closes the waiting front-end's connection, if any (shutdown). */
  close(): void {
    this.take()?.connection.close();
  }
}
