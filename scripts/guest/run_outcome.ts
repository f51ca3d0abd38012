/**
 * What a finished boot means: the `GUEST-<NAME>` marker lines of its console, and the command's exit code from
 * `GUEST-EXIT`, or the error that says why there is none (timeout, `/init` failure, kernel panic, QEMU exit).
 *
 * @module
 */

import type { GuestMarker } from "./boot_options.ts";
import type { QemuRun } from "./qemu_run.ts";
import { GuestLabError } from "./tools.ts";

const MARKER_RE = /^(GUEST-[A-Z0-9-]+)(?:[ \t]+(.*))?$/;

/**
 * The marker lines of a console log.
 *
 * @param log The console text.
 * @returns Each `GUEST-<NAME> [text]` line, in order.
 */
export function parseMarkers(log: string): GuestMarker[] {
  const markers: GuestMarker[] = [];
  for (const line of log.split("\n")) {
    const m = MARKER_RE.exec(line.trim());
    if (m !== null) markers.push({ name: m[1]!, text: (m[2] ?? "").trim() });
  }
  return markers;
}

/** Where the run's log is, and how long it ran, for the error message. */
export interface OutcomeContext {
  readonly resultsDir: string;
  readonly keep: boolean;
  readonly durationMs: number;
  readonly timeoutMs: number;
}

/** The exit code from `GUEST-EXIT`, or the error that explains why there is none. */
export function checkOutcome(run: QemuRun, markers: readonly GuestMarker[], ctx: OutcomeContext): number {
  const exit = markers.findLast((m) => m.name === "GUEST-EXIT");
  const where = ctx.keep
    ? ` (console log: ${ctx.resultsDir}/console.log)`
    : " (set GUEST_LAB_KEEP=1 to keep it)";
  const tail = `\n--- last console lines${where} ---\n${lastLines(run.log, 40)}`;
  if (run.timedOut) {
    return fail(
      "timeout",
      `Cannot finish the guest run: killed QEMU after ${ctx.timeoutMs} ms${tail}`,
      run.log,
    );
  }
  if (exit === undefined || !/^\d+$/.test(exit.text)) {
    const error = markers.find((m) => m.name === "GUEST-ERROR");
    const panic = /Kernel panic - not syncing: (.*)/.exec(run.log);
    const why = error !== undefined
      ? `the guest's /init failed: ${error.text}`
      : panic !== null
      ? `the guest kernel panicked: ${panic[1]}`
      : `QEMU exited with code ${run.status.code} after ${ctx.durationMs} ms without GUEST-EXIT`;
    return fail(
      run.status.success || error !== undefined ? "no-exit-marker" : "qemu",
      `Cannot finish the guest run: ${why}${tail}`,
      run.log,
    );
  }
  return Number(exit.text);
}

function fail(kind: "timeout" | "qemu" | "no-exit-marker", message: string, log: string): never {
  throw new GuestLabError(kind, message, { log });
}

function lastLines(text: string, n: number): string {
  return text.trimEnd().split("\n").slice(-n).join("\n");
}
