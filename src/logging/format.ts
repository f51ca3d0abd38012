/**
 * How log lines look (`--log-format`): `text` for people (LogTape's text format), `json` for journald and log
 * shippers (one JSON object per line: `@timestamp`, `level`, `logger`, `message`, `properties`).
 *
 * Both pass every value through `redact()` first: bytes (typed arrays, ArrayBuffers, DataViews) are written as
 * their length only. No code path hands key bytes to a logger (README, "Keys"); this makes sure a slip could not
 * print one either.
 *
 * @module
 */

import {
  getJsonLinesFormatter,
  getTextFormatter,
  type LogRecord,
  type TextFormatter,
} from "@logtape/logtape";

/** Log line formats. */
export type LogFormat = "text" | "json";

/** The formats, for usage messages. */
export const LOG_FORMATS: readonly LogFormat[] = ["text", "json"];

/**
 * Checks a `--log-format` value.
 *
 * @param value What the user typed.
 * @returns The format.
 * @throws TypeError naming the accepted values.
 */
export function parseLogFormat(value: string): LogFormat {
  if (!(LOG_FORMATS as readonly string[]).includes(value)) {
    throw new TypeError(`Unknown log format "${value}": use one of ${LOG_FORMATS.join(", ")}`);
  }
  return value as LogFormat;
}

const MAX_DEPTH = 8;

/**
 * A value with every byte buffer in it replaced by `[N bytes]` (objects and arrays copied, up to 8 levels deep;
 * deeper ones are `[…]`). Errors keep their name, message and cause.
 *
 * @param value Anything a log call was given.
 * @param depth How deep this is (callers leave it out).
 * @returns The value, safe to print.
 */
export function redact(value: unknown, depth = 0): unknown {
  if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  if (value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) {
    return `[${value.byteLength} bytes]`;
  }
  if (typeof value !== "object" || value === null) return value;
  if (depth >= MAX_DEPTH) return "[…]";
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value instanceof Error) {
    return {
      name: value.name,
      message: value.message,
      ...(value.cause === undefined ? {} : { cause: redact(value.cause, depth + 1) }),
    };
  }
  if (value instanceof Map) return redact(Object.fromEntries(value), depth);
  if (value instanceof Set) return redact([...value], depth);
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return `[${proto?.constructor?.name ?? "object"}]`;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, depth + 1)]));
}

function redactRecord(record: LogRecord): LogRecord {
  return {
    ...record,
    message: record.message.map((part, i) => (i % 2 === 0 ? part : redact(part))),
    properties: redact(record.properties) as Record<string, unknown>,
  };
}

/** Options of `logFormatter`. */
export interface LogFormatterOptions {
  /** The VM a thread serves: named in each line (text: the category `cryptobridge·vm1·…`; json: `vm`). */
  readonly vm?: string;
}

/**
 * The formatter of a format.
 *
 * @param format `text` or `json`.
 * @param options The VM this thread serves, if any.
 * @returns The formatter.
 */
export function logFormatter(format: LogFormat, options: LogFormatterOptions = {}): TextFormatter {
  const vm = options.vm;
  if (format === "text") {
    const text = getTextFormatter({
      category: (c) => (vm === undefined ? c : [c[0], vm, ...c.slice(1)]).join("·"),
    });
    return (record) => text(redactRecord(record));
  }
  const json = getJsonLinesFormatter({
    categorySeparator: ".",
    message: "rendered",
    properties: "nest:properties",
  });
  return (record) => {
    const safe = redactRecord(record);
    return json(vm === undefined ? safe : { ...safe, properties: { vm, ...safe.properties } });
  };
}
