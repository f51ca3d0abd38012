/**
 * `cryptobridge status`: what a running daemon says of itself through its control socket.
 *
 * @module
 */

import type { AcceleratorReport, StatusReport } from "../control/reports.ts";
import { parseCommand } from "./args.ts";
import { callDaemon, CONTROL_OPTIONS, CONTROL_OPTIONS_HELP, EXIT_CODES_HELP } from "./control_args.ts";
import { UsageError } from "./errors.ts";

/** `status --help`. */
export const STATUS_HELP = `cryptobridge status: ask a running daemon how it is

Usage: cryptobridge status [--control PATH] [--json]

Options:
${CONTROL_OPTIONS_HELP}

Prints the daemon's version, process, uptime, log level, engines, the accelerator (its kind, virtio-crypto or
qat-gen4-vf; its state, failures, resets, what it refused, and its request counters; for a QAT VF its ring pairs,
bundle services, doorbells and interrupts), the number of VMs and of connected front-ends, and where it serves control and
metrics. \`cryptobridge vm list\` shows the VMs, \`cryptobridge vm stats\` their counters.

${EXIT_CODES_HELP}`;

/**
 * A duration as `2d 3h 04m`, `5m 07s` or `12s`.
 *
 * @param seconds The duration.
 * @returns Its text.
 */
export function formatUptime(seconds: number): string {
  const s = Math.floor(seconds);
  const [d, h, m, sec] = [Math.floor(s / 86400), Math.floor(s / 3600) % 24, Math.floor(s / 60) % 60, s % 60];
  const pad = (n: number): string => String(n).padStart(2, "0");
  if (d > 0) return `${d}d ${h}h ${pad(m)}m`;
  if (h > 0) return `${h}h ${pad(m)}m`;
  if (m > 0) return `${m}m ${pad(sec)}s`;
  return `${sec}s`;
}

/**
 * The accelerator's line (and, for a QAT VF, a second line with its ring pairs, services and doorbells).
 *
 * @param a The report.
 * @returns The text.
 */
export function formatAccelerator(a: AcceleratorReport): string {
  const last = a.lastFailure === null ? "" : ` (last: ${a.lastFailure})`;
  const refused = a.refused.length === 0 ? "" : `; refused when probed: ${a.refused.join(", ")}`;
  const line =
    `${a.kind} ${a.device ?? a.name}: ${a.state}, epoch ${a.epoch}, ${a.failures} failures${last}, ` +
    `${a.resets} resets, ${a.sessions} sessions, ${a.inflight} in flight; requests: ${a.completed} completed, ` +
    `${a.failed} failed (re-run in software), ${a.declined} declined, ${a.bounced} bounced${refused}`;
  if (a.qat === null) return line;
  const q = a.qat;
  const soft = q.softwareVms === null
    ? " (VMs past them: not reported by this daemon)"
    : q.softwareVms === 0
    ? ""
    : ` (${q.softwareVms} VM${q.softwareVms === 1 ? "" : "s"} past them in software)`;
  const pairs = `${q.ringPairs} ring pair${q.ringPairs === 1 ? "" : "s"} in use${soft}`;
  const services = q.services.length === 0 ? "none" : q.services.join(", ");
  return `${line}\n  QAT: ${pairs}; bundle services: ${services}; ${q.doorbells} doorbells, ${q.interrupts} interrupts`;
}

/**
 * The text `status` prints.
 *
 * @param r The report.
 * @returns The lines.
 */
export function formatStatus(r: StatusReport): string {
  const engines = r.engines.map((e) => `${e.name} (${e.role}, ${e.state})`).join(", ");
  return [
    `cryptobridge ${r.version}, pid ${r.pid}, up ${formatUptime(r.uptimeSeconds)} (since ${r.startedAt})`,
    `engines: ${engines || "none"}`,
    `accelerator: ${r.accelerator === null ? "none" : formatAccelerator(r.accelerator)}`,
    `VMs: ${r.vms.total} (${r.vms.connected} connected)`,
    `log level: ${r.logLevel}; control: ${r.endpoints.control}; metrics: ${r.endpoints.metrics ?? "off"}`,
  ].join("\n");
}

/**
 * Runs `status`.
 *
 * @param args Arguments after `status`.
 * @returns The exit code (`EXIT_CODES_HELP`).
 */
export async function status(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand("status", args, CONTROL_OPTIONS);
  if (values.help) {
    console.log(STATUS_HELP);
    return 0;
  }
  if (positionals.length > 0) {
    throw new UsageError(
      `status takes no arguments: got "${positionals[0]}": see \`cryptobridge status --help\``,
    );
  }
  return await callDaemon(values, { method: "status" }, (r) => formatStatus(r as StatusReport));
}
