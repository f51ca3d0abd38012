/**
 * Logging setup for the daemon and the CLI. Library layers only call `getLogger(["cryptobridge", layer])`;
 * this composition-root file decides where records go (LogTape is library-first, design.md decision 8).
 *
 * Keys are never logged: no code path passes key bytes to a logger.
 *
 * @module
 */

import { configure, getConsoleSink, type LogLevel, reset } from "@logtape/logtape";
import { type LogFormat, logFormatter } from "./format.ts";

export { LOG_FORMATS, type LogFormat, parseLogFormat } from "./format.ts";

// Every level goes to console.error (stderr), so stdout carries only command output (tables, JSON).
const TO_STDERR = {
  trace: "error",
  debug: "error",
  info: "error",
  warning: "error",
  error: "error",
  fatal: "error",
} as const;

/** Levels accepted by `--log-level`. */
export const LOG_LEVELS: readonly LogLevel[] = ["trace", "debug", "info", "warning", "error", "fatal"];

/**
 * Checks a `--log-level` value.
 *
 * @param value What the user typed.
 * @returns The level.
 * @throws TypeError naming the accepted values.
 */
export function parseLogLevel(value: string): LogLevel {
  const level = (value === "warn" ? "warning" : value) as LogLevel;
  if (!LOG_LEVELS.includes(level)) {
    throw new TypeError(`Unknown log level "${value}": use one of ${LOG_LEVELS.join(", ")}`);
  }
  return level;
}

/** Options of `configureLogging`. */
export interface LoggingOptions {
  /** The VM a thread serves: its lines read `cryptobridge·vm1·vhost_user: …` (json: a `vm` property). */
  readonly vm?: string;
  /** `text` (default) or `json`: one JSON object per line, for journald and log shippers (`--log-format`). */
  readonly format?: LogFormat;
}

/**
 * Sends the `cryptobridge` loggers at `level` and above to stderr. Each thread configures its own (a Worker is an
 * isolate of its own); a VM's thread names its VM in every line.
 *
 * @param level The lowest level logged.
 * @param options The VM this thread serves; the line format.
 */
export async function configureLogging(level: LogLevel, options: LoggingOptions = {}): Promise<void> {
  const formatter = logFormatter(
    options.format ?? "text",
    options.vm === undefined ? {} : { vm: options.vm },
  );
  await configure({
    reset: true,
    sinks: {
      stderr: getConsoleSink({ levelMap: TO_STDERR, formatter }),
    },
    loggers: [
      { category: ["cryptobridge"], lowestLevel: level, sinks: ["stderr"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    ],
  });
}

/** Removes the logging configuration (tests, shutdown). */
export async function resetLogging(): Promise<void> {
  await reset();
}
