/**
 * Command-line parsing helpers on `node:util` `parseArgs` (design.md decision 8), turning its errors into
 * `UsageError`s that say what to do instead.
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./errors.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * Parses a subcommand's arguments strictly.
 *
 * @param command The subcommand, for messages.
 * @param args The arguments after it.
 * @param options Its options.
 * @returns The values (options given more than once, declared `multiple`, in `lists`) and positionals.
 * @throws UsageError for an unknown option or a missing value.
 */
export function parseCommand<T extends Options>(
  command: string,
  args: string[],
  options: T,
): {
  values: Record<string, string | boolean | undefined>;
  lists: Record<string, string[]>;
  positionals: string[];
} {
  try {
    const { values, positionals } = parseArgs({ args, options, strict: true, allowPositionals: true });
    const lists: Record<string, string[]> = {};
    const single: Record<string, string | boolean | undefined> = {};
    for (const [k, v] of Object.entries(values)) {
      if (Array.isArray(v)) lists[k] = v as string[];
      else single[k] = v as string | boolean | undefined;
    }
    return { values: single, lists, positionals };
  } catch (e) {
    const message = (e as Error).message.replace(/\. To specify a positional argument.*$/s, "");
    throw new UsageError(`${message}: run \`cryptobridge ${command} --help\` for the options`);
  }
}

/**
 * An integer option value within bounds.
 *
 * @param name The option, for messages (`--queues`).
 * @param value What was given (undefined: the default).
 * @param fallback The default.
 * @param min Smallest accepted.
 * @param max Largest accepted.
 * @throws UsageError naming the option and the range.
 */
export function intOption(
  name: string,
  value: string | boolean | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(
      `${name} must be an integer from ${min} to ${max}: current value is ${String(value)}`,
    );
  }
  return n;
}

/**
 * A string option value, or the default.
 *
 * @param value What was given.
 * @param fallback The default.
 */
export function stringOption(value: string | boolean | undefined, fallback: string): string {
  return typeof value === "string" ? value : fallback;
}
