/**
 * Test fixture: checking that a scenario leaves no file descriptor open.
 *
 * @module
 */

import assert from "node:assert/strict";
import { isFdOpen } from "../../src/os/mod.ts";

/** The open descriptors of this process (fcntl probes: /proc needs --allow-all in Deno 2.9). */
export function openFds(): Set<number> {
  const open = new Set<number>();
  for (let fd = 0; fd < 4096; fd++) if (isFdOpen(fd)) open.add(fd);
  return open;
}

let lastMismatch = "";

/**
 * Whether the descriptors opened since `before` become exactly `expected` within 200 ms (fds of Deno's runtime
 * that closed meanwhile do not count).
 *
 * @param before `openFds()` before the scenario.
 * @param expected Descriptors the scenario is meant to leave open.
 */
export async function fdsSettle(before: Set<number>, expected: readonly number[] = []): Promise<boolean> {
  const want = [...expected].sort((a, b) => a - b);
  for (const t0 = Date.now();; await new Promise((r) => setTimeout(r, 10))) {
    const added = [...openFds()].filter((fd) => !before.has(fd)).sort((a, b) => a - b);
    if (added.length === want.length && added.every((fd, i) => fd === want[i])) return true;
    if (Date.now() - t0 > 200) {
      lastMismatch = `open: [${added}], expected: [${want}]`;
      return false;
    }
  }
}

/**
 * Runs a leak-checking scenario (which returns `fdsSettle(…)`) up to 3 times. Under `deno test --parallel` the
 * other test files share this process's fd table, and a neighbour may open fds of its own (its runtime, its
 * tests) during a scenario: a leak repeats in every attempt, the neighbour's fds do not.
 *
 * @param scenario The scenario.
 */
export async function expectNoLeak(scenario: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) if (await scenario()) return;
  assert.fail(`descriptors leaked (3 attempts): ${lastMismatch}`);
}
