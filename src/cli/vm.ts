/**
 * `cryptobridge vm list|add|remove|stats`: a running daemon's VMs, through its control socket. `add` takes the
 * settings of a configuration file's `vms` entry as options; the daemon checks them.
 *
 * @module
 */

import type { StatsReport, VmReport, VmStats } from "../control/reports.ts";
import { intOption, parseCommand } from "./args.ts";
import { callDaemon, CONTROL_OPTIONS, CONTROL_OPTIONS_HELP, EXIT_CODES_HELP } from "./control_args.ts";
import { UsageError } from "./errors.ts";
import { table } from "./table.ts";

/** `vm --help`. */
export const VM_HELP = `cryptobridge vm: a running daemon's VMs

Usage:
  cryptobridge vm list [--json]
  cryptobridge vm add NAME --socket PATH [--queues N] [--max-sessions N] [--max-inflight N] [--cpu LIST]
                       [--owner USER] [--group GROUP] [--mode MODE] [--json]
  cryptobridge vm remove NAME [--json]
  cryptobridge vm stats [--json]

Options of add (the settings of a configuration file's vms entry, docs/config.md):
  --socket PATH         the VM's vhost-user socket (required)
  --queues N            data queues offered to QEMU (default 1)
  --max-sessions N      open sessions allowed (default 1024)
  --max-inflight N      requests in flight at once (default 256)
  --cpu LIST            CPUs its thread runs on, such as 2 or 2,3
  --owner USER          owner of the socket file (a name or uid; QEMU's user, e.g. libvirt-qemu)
  --group GROUP         group of the socket file
  --mode MODE           permission bits of the socket file, octal (default 0600; never for other users)
Common options:
${CONTROL_OPTIONS_HELP}

add serves one more VM and leaves the others untouched; remove drops its front-end, closes its sessions
(keys zeroed) and removes its socket; stats prints each VM's requests by status and path and its fallbacks.

${EXIT_CODES_HELP}`;

const ADD_OPTIONS = {
  ...CONTROL_OPTIONS,
  socket: { type: "string" },
  queues: { type: "string" },
  "max-sessions": { type: "string" },
  "max-inflight": { type: "string" },
  cpu: { type: "string" },
  owner: { type: "string" },
  group: { type: "string" },
  mode: { type: "string" },
} as const;

/**
 * The table `vm list` prints.
 *
 * @param vms The VMs.
 * @returns The lines.
 */
export function vmTable(vms: readonly VmReport[]): string[] {
  return table(
    ["NAME", "SOCKET", "CONNECTED", "QUEUES", "SESSIONS", "INFLIGHT", "THREAD"],
    vms.map((v) => [
      v.name,
      v.socket,
      v.connected ? "yes" : "no",
      String(v.queues),
      `${v.sessions}/${v.maxSessions}`,
      `${v.inflight}/${v.maxInflight}`,
      v.thread === null ? "main" : `${v.thread.tid} (cpus ${v.thread.cpus.join(",")})`,
    ]),
  );
}

function statsLine(s: VmStats): string[] {
  const status = Object.entries(s.byStatus).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(", ");
  const fallbacks = Object.entries(s.fallbacks).map(([k, n]) => `${k} ${n}`).join(", ");
  const { accelerator: a, software: w } = s.byPath;
  return [
    `${s.name}: ${s.requests} requests (${status || "none"}), ${s.bytes} bytes out`,
    `  accelerator: ${a.requests} requests, ${a.sessions} sessions; software: ${w.requests} requests, ` +
    `${w.sessions} sessions`,
    `  to software: ${fallbacks || "none"}`,
  ];
}

/**
 * The text `vm stats` prints.
 *
 * @param r The report.
 * @returns The text.
 */
export function formatStats(r: StatsReport): string {
  return [...r.vms.flatMap(statsLine), ...(r.vms.length > 1 ? statsLine(r.total) : [])].join("\n");
}

/** A number option as a number, a name as a string (owner and group take either). */
function idOrName(v: string): string | number {
  return /^\d+$/.test(v) ? Number(v) : v;
}

/**
 * The VM settings of `vm add`'s options.
 *
 * @param name The VM's name.
 * @param values The options.
 * @returns The configuration entry.
 * @throws UsageError for a missing socket or a malformed number.
 */
export function vmConfig(
  name: string,
  values: Record<string, string | boolean | undefined>,
): Record<string, unknown> {
  if (typeof values.socket !== "string") {
    throw new UsageError("vm add needs --socket PATH: the VM's vhost-user socket");
  }
  const config: Record<string, unknown> = { name, socket: values.socket };
  const ints: [string, string][] = [["queues", "queues"], ["max-sessions", "maxSessions"], [
    "max-inflight",
    "maxInflight",
  ]];
  for (const [flag, field] of ints) {
    if (values[flag] !== undefined) config[field] = intOption(`--${flag}`, values[flag], 0, 0, 1 << 24);
  }
  if (typeof values.cpu === "string") {
    const cpus = values.cpu.split(",").map((c) => intOption("--cpu", c.trim(), 0, 0, 1023));
    config["cpu"] = cpus.length === 1 ? cpus[0] : cpus;
  }
  if (typeof values.owner === "string") config["owner"] = idOrName(values.owner);
  if (typeof values.group === "string") config["group"] = idOrName(values.group);
  if (typeof values.mode === "string") config["mode"] = values.mode;
  return config;
}

function one(sub: string, positionals: string[]): string {
  if (positionals.length !== 1) {
    throw new UsageError(
      `vm ${sub} takes one VM name: got ${positionals.length}: see \`cryptobridge vm --help\``,
    );
  }
  return positionals[0]!;
}

/**
 * Runs `vm`.
 *
 * @param args Arguments after `vm`.
 * @returns The exit code (`EXIT_CODES_HELP`).
 */
export async function vm(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "-h" || sub === "--help") {
    console.log(VM_HELP);
    return sub === undefined ? 2 : 0;
  }
  const { values, positionals } = parseCommand(
    `vm ${sub}`,
    rest,
    sub === "add" ? ADD_OPTIONS : CONTROL_OPTIONS,
  );
  if (values.help) {
    console.log(VM_HELP);
    return 0;
  }
  switch (sub) {
    case "list":
      if (positionals.length > 0) throw new UsageError(`vm list takes no arguments: got "${positionals[0]}"`);
      return await callDaemon(values, { method: "vm.list" }, (r) => vmTable(r as VmReport[]).join("\n"));
    case "stats":
      if (positionals.length > 0) {
        throw new UsageError(`vm stats takes no arguments: got "${positionals[0]}"`);
      }
      return await callDaemon(values, { method: "stats" }, (r) => formatStats(r as StatsReport));
    case "add": {
      const params = vmConfig(one("add", positionals), values);
      return await callDaemon(values, { method: "vm.add", params }, (r) => {
        const v = r as VmReport;
        return `${v.name}: serving on ${v.socket} (${v.queues} queue${v.queues === 1 ? "" : "s"})`;
      });
    }
    case "remove": {
      const name = one("remove", positionals);
      return await callDaemon(values, { method: "vm.remove", params: { name } }, () => `${name}: removed`);
    }
    default:
      throw new UsageError(`Unknown vm command "${sub}": use list, add, remove or stats`);
  }
}
