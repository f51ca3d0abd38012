/**
 * `DeviceStats`: request counters of the device (requests by status, payload bytes). Engines keep their own
 * counters (which path served a request); the daemon reports both.
 *
 * @module
 */

import { RateLimitedLog } from "../log/mod.ts";
import { Status } from "../spec/virtio_crypto.ts";

const STATUS_NAMES = ["ok", "err", "badmsg", "notsupp", "invsess", "nospc", "key_rejected"] as const;

/** Counters, updated on the data path without allocation. */
export class DeviceStats {
  /** Requests completed, by status byte (index = status). */
  readonly byStatus: Float64Array = new Float64Array(STATUS_NAMES.length);
  /** Output bytes of successful requests. */
  bytes = 0;
  /**
   * The VM's rate-limited log: what the guest and the front-end cause is logged through it, and what it
   * suppressed is reported with these counters (`log_suppressed`, and by kind).
   */
  readonly log: RateLimitedLog;

  /** @param log The VM's rate-limited log (a new one by default). */
  constructor(log: RateLimitedLog = new RateLimitedLog()) {
    this.log = log;
  }

  /**
   * Counts one completed request.
   *
   * @param status Its status byte.
   * @param bytes Output bytes (0 on failure).
   */
  count(status: number, bytes: number): void {
    if (status >= 0 && status < this.byStatus.length) this.byStatus[status]!++;
    this.bytes += bytes;
  }

  /** Requests completed in all. */
  get requests(): number {
    return this.byStatus.reduce((a, b) => a + b, 0);
  }

  /** Requests completed with OK. */
  get ok(): number {
    return this.byStatus[Status.OK]!;
  }

  /** A plain object for logs and JSON. */
  toJSON(): Record<string, number> {
    const out: Record<string, number> = { requests: this.requests, bytes: this.bytes };
    STATUS_NAMES.forEach((name, i) => out[name] = this.byStatus[i]!);
    out["log_suppressed"] = this.log.suppressedTotal;
    for (const [kind, n] of Object.entries(this.log.suppressed)) out[`log_suppressed.${kind}`] = n;
    return out;
  }
}
