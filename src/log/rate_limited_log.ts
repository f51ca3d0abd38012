/**
 * `RateLimitedLog`: log lines a guest or a front-end can cause, at most a few per kind and window, with what was
 * suppressed counted, reported once per window in the log and kept for the stats. One instance per VM: a guest
 * that floods one kind of message (a malformed chain per request) silences only its own lines of that kind.
 *
 * A leaf every layer may use (it imports only the logging library): the device counts what its data queues
 * suppressed, the vhost-user server what its front-end caused, both in the same instance.
 *
 * @module
 */

import type { Logger } from "@logtape/logtape";

/** Levels a rate-limited line may have. */
export type LimitedLevel = "info" | "warning" | "error";

/** Options of a `RateLimitedLog`. */
export interface RateLimitOptions {
  /** Lines per kind shown in each window (default 5). */
  readonly burst?: number;
  /** Window length in milliseconds (default 10 000). */
  readonly windowMs?: number;
  /** Names the VM in summaries (its socket path); set later with `label`. */
  readonly label?: string;
  /** Clock (tests). Default `performance.now`. */
  readonly now?: () => number;
}

interface KindState {
  start: number;
  shown: number;
  suppressed: number;
  logger: Logger;
}

/** Per-kind rate limiting of log lines, with suppressed counts. */
export class RateLimitedLog {
  /** Lines per kind shown in each window; may be changed at run time (tests that read every line raise it). */
  burst: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #kinds = new Map<string, KindState>();
  readonly #total = new Map<string, number>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Names the VM in summaries. */
  label: string;

  /** @param options Burst, window, label and clock. */
  constructor(options: RateLimitOptions = {}) {
    this.burst = options.burst ?? 5;
    this.#windowMs = options.windowMs ?? 10_000;
    this.#now = options.now ?? (() => performance.now());
    this.label = options.label ?? "";
  }

  /**
   * Logs a line unless its kind already used its burst in the current window; then only counts it.
   *
   * @param logger Where the line goes.
   * @param level Its level.
   * @param kind What kind of event it reports (`malformed-chain`, `session-refused`, …).
   * @param message A LogTape message template.
   * @param props Its properties.
   * @returns Whether the line was logged.
   */
  log(
    logger: Logger,
    level: LimitedLevel,
    kind: string,
    message: string,
    props: Record<string, unknown> = {},
  ): boolean {
    const now = this.#now();
    let s = this.#kinds.get(kind);
    if (s === undefined) {
      s = { start: now, shown: 0, suppressed: 0, logger };
      this.#kinds.set(kind, s);
    } else if (now - s.start >= this.#windowMs) {
      this.#report(kind, s, now);
      s.start = now;
      s.shown = 0;
    }
    s.logger = logger;
    if (s.shown < this.burst) {
      s.shown++;
      logger[level](message, props);
      return true;
    }
    s.suppressed++;
    this.#total.set(kind, (this.#total.get(kind) ?? 0) + 1);
    this.#arm();
    return false;
  }

  /** `log(logger, "warning", …)`. */
  warn(logger: Logger, kind: string, message: string, props?: Record<string, unknown>): boolean {
    return this.log(logger, "warning", kind, message, props);
  }

  /** `log(logger, "info", …)`. */
  info(logger: Logger, kind: string, message: string, props?: Record<string, unknown>): boolean {
    return this.log(logger, "info", kind, message, props);
  }

  /** Lines suppressed since this instance was made, by kind (for the stats). */
  get suppressed(): Readonly<Record<string, number>> {
    return Object.fromEntries(this.#total);
  }

  /** Lines suppressed since this instance was made, all kinds. */
  get suppressedTotal(): number {
    let n = 0;
    for (const v of this.#total.values()) n += v;
    return n;
  }

  /** Reports what each kind suppressed in its current window now (a summary line per kind). */
  flush(): void {
    const now = this.#now();
    for (const [kind, s] of this.#kinds) this.#report(kind, s, now);
  }

  /** Flushes and stops the summary timer (the VM is gone); the counts stay readable. */
  close(): void {
    this.flush();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #report(kind: string, s: KindState, now: number): void {
    if (s.suppressed === 0) return;
    const props = {
      count: s.suppressed,
      kind,
      seconds: Math.max(1, Math.round((now - s.start) / 1000)),
      vm: this.label,
      total: this.#total.get(kind) ?? 0,
    };
    // Two templates rather than an optional " on …" fragment: LogTape quotes string values, so a fragment
    // would print as `s" on VM vm0 (…)"`.
    if (this.label === "") {
      s.logger.warn(
        "suppressed {count} more {kind} lines in the last {seconds} s ({total} since start)",
        props,
      );
    } else {
      s.logger.warn(
        "suppressed {count} more {kind} lines in the last {seconds} s on {vm} ({total} since start)",
        props,
      );
    }
    s.suppressed = 0;
  }

  // One timer while something is suppressed, so a flood that stops is still reported at its window's end; none
  // while quiet. Unref'd: it never keeps the process alive.
  #arm(): void {
    if (this.#timer !== undefined) return;
    const timer = setTimeout(() => {
      this.#timer = undefined;
      const now = this.#now();
      let pending = false;
      for (const [kind, s] of this.#kinds) {
        if (now - s.start >= this.#windowMs) {
          this.#report(kind, s, now);
          s.start = now;
          s.shown = 0;
        } else if (s.suppressed > 0) pending = true;
      }
      if (pending) this.#arm();
    }, this.#windowMs);
    Deno.unrefTimer(timer as unknown as number);
    this.#timer = timer;
  }
}
