/**
 * Runs the CLI's `main()` in this process, capturing what it prints: the CLI tests' common harness.
 *
 * @module
 */

import { main } from "../../src/cli/main.ts";

/** What a CLI run printed, and its exit code. */
export interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/**
 * Runs `cryptobridge <args>` through `main()`, with console.log and console.error captured (restored after).
 *
 * @param args The command line.
 * @returns The exit code and the captured output.
 */
export async function runCli(args: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => void out.push(a.join(" "));
  console.error = (...a: unknown[]) => void err.push(a.join(" "));
  try {
    const code = await main(args);
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}
