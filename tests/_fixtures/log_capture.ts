/**
 * Test fixture: every `cryptobridge.*` log record written while it is configured, rendered and raw (to check a
 * record's level and whether it carries an Error, whose stack a sink would print).
 *
 * @module
 */

import { configure, type LogRecord, reset } from "@logtape/logtape";

/** Captured log records. */
export interface LogCapture extends AsyncDisposable {
  /** Rendered lines: `warning: dropping front-end …`. */
  readonly lines: string[];
  /** The records themselves. */
  readonly records: LogRecord[];
}

/**
 * Sends `cryptobridge.*` records (info and above) to memory until disposed.
 *
 * @returns The capture.
 */
export async function captureLogs(): Promise<LogCapture> {
  const lines: string[] = [];
  const records: LogRecord[] = [];
  await configure({
    reset: true,
    sinks: {
      memory: (r: LogRecord) => {
        records.push(r);
        lines.push(`${r.level}: ${r.message.map((p) => typeof p === "string" ? p : String(p)).join("")}`);
      },
    },
    loggers: [
      { category: ["cryptobridge"], lowestLevel: "info", sinks: ["memory"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["memory"] },
    ],
  });
  return { lines, records, [Symbol.asyncDispose]: () => reset() };
}

/** Whether a record carries an Error (a sink prints its stack). */
export function hasError(r: LogRecord): boolean {
  return Object.values(r.properties).some((v) => v instanceof Error);
}
