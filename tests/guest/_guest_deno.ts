/**
 * Running this checkout's Deno programs inside the guest: the guest has no network, so the host's npm cache (the
 * CLI imports one npm package, @logtape/logtape) is copied into the guest's `DENO_DIR` and Deno runs with
 * `--cached-only`; what such a program writes to the results share comes back through `readGuestResult()`.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { GuestRun } from "../../scripts/guest_lab.ts";

/** Deno flags for a program run in the guest: no type check (slow under TCG), no lock (the checkout is read-only). */
export const GUEST_DENO_FLAGS = "--no-check --no-lock --cached-only -A";

/**
 * The host's npm cache, after making sure the CLI's npm package is in it (the guest cannot download).
 *
 * @returns Its path.
 */
export async function hostNpmCache(): Promise<string> {
  const deno = Deno.execPath();
  const cached = await new Deno.Command(deno, { args: ["cache", "--quiet", "mod.ts"], stdout: "null" })
    .output();
  assert.ok(cached.success, `deno cache mod.ts failed: ${new TextDecoder().decode(cached.stderr)}`);
  const info = await new Deno.Command(deno, { args: ["info", "--json"], stdout: "piped" }).output();
  return (JSON.parse(new TextDecoder().decode(info.stdout)) as { npmCache: string }).npmCache;
}

/**
 * The guest shell line that copies the npm cache into the guest's `DENO_DIR` (exit 90 when it cannot).
 *
 * @param npm The host's npm cache (`hostNpmCache()`).
 */
export function copyNpmCache(npm: string): string {
  return `mkdir -p /run/deno && cp -r '${npm}' /run/deno/npm || exit 90`;
}

/**
 * The JSON result a guest program wrote to the results share, or an error that carries the guest's output (the
 * program failed before writing it).
 *
 * @param run The finished boot.
 * @param file The result's name in `run.resultsDir`.
 */
export function readGuestResult<T>(run: GuestRun, file: string): T {
  try {
    return JSON.parse(Deno.readTextFileSync(`${run.resultsDir}/${file}`)) as T;
  } catch (e) {
    throw new Error(`The guest wrote no ${file} (${(e as Error).message}); its output:\n${run.output}`);
  }
}
