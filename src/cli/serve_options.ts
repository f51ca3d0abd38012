/**
 * `serve`'s command line, checked, as `runDaemon` options: VMs from `--socket` (repeatable) or `--config FILE`,
 * the serving mode and the engines. Every mistake is a `UsageError` that says what to do instead.
 *
 * @module
 */

import type { LogLevel } from "@logtape/logtape";
import { readConfigFile } from "../daemon/config_file.ts";
import { type DaemonOptions, DEFAULT_BUSY_POLL_US } from "../daemon/daemon.ts";
import { ENGINE_CHOICES, type EngineChoice } from "../daemon/engines.ts";
import { isRoutePolicy, ROUTE_POLICIES, type RoutePolicy } from "../engine/route_policy.ts";
import { type LogFormat, parseLogFormat, parseLogLevel } from "../logging/logging.ts";
import { controlPathBeside } from "../control/paths.ts";
import { parseMetricsAddress } from "../metrics/mod.ts";
import { defaultSocketPath } from "../daemon/paths.ts";
import { normalizeBdf } from "../pci/mod.ts";
import { ConfigError, VM_DEFAULTS, vmsFromSockets } from "../vm/mod.ts";
import { intOption, stringOption } from "./args.ts";
import { UsageError } from "./errors.ts";

/** `serve`'s options for `parseCommand`. */
export const SERVE_OPTIONS = {
  socket: { type: "string", multiple: true },
  config: { type: "string" },
  queues: { type: "string" },
  "max-sessions": { type: "string" },
  "max-inflight": { type: "string" },
  poll: { type: "boolean" },
  "busy-poll": { type: "string" },
  "allow-unsealed-memory": { type: "boolean" },
  device: { type: "string" },
  engine: { type: "string" },
  route: { type: "string" },
  "log-level": { type: "string" },
  "log-format": { type: "string" },
  control: { type: "string" },
  "no-control": { type: "boolean" },
  metrics: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

type Values = Record<string, string | boolean | undefined>;

/**
 * `--engine` and `--device`, checked.
 *
 * @param engine `--engine`, if given.
 * @param device `--device`, if given.
 * @returns The choice and the canonical address.
 * @throws UsageError for an unknown engine, a malformed address, or `accel` without a device.
 */
export function engineOptions(
  engine: string | boolean | undefined,
  device: string | boolean | undefined,
): { engine: EngineChoice; device: string | undefined } {
  const choice = stringOption(engine, "auto");
  if (!(ENGINE_CHOICES as readonly string[]).includes(choice)) {
    throw new UsageError(`--engine must be one of ${ENGINE_CHOICES.join(", ")}: got "${choice}"`);
  }
  const raw = typeof device === "string" ? device : undefined;
  const bdf = raw === undefined ? undefined : normalizeBdf(raw);
  if (bdf === null) {
    throw new UsageError(
      `--device "${raw}" is not a PCI address (such as 0000:00:04.0): run \`cryptobridge list\` to find it`,
    );
  }
  if (choice === "accel" && bdf === undefined) {
    throw new UsageError("--engine accel needs --device BDF (the accelerator to use)");
  }
  return { engine: choice as EngineChoice, device: bdf };
}

/**
 * `--route`, checked.
 *
 * @param value The option's value.
 * @param fallback When absent (the config file's, else accel-first).
 * @returns The policy.
 * @throws UsageError for an unknown policy.
 */
export function routeOption(
  value: string | boolean | undefined,
  fallback: RoutePolicy = "accel-first",
): RoutePolicy {
  const route = stringOption(value, fallback);
  if (!isRoutePolicy(route)) {
    throw new UsageError(
      `--route must be one of ${
        ROUTE_POLICIES.join(", ")
      }: got "${route}" (fastest measures the accelerator ` +
        "against software at start and sends each request where it is faster)",
    );
  }
  return route;
}

/**
 * `--log-level`, checked.
 *
 * @param value The option's value.
 * @param fallback When absent.
 * @returns The level.
 */
export function logLevelOption(value: string | boolean | undefined, fallback: LogLevel = "info"): LogLevel {
  try {
    return parseLogLevel(stringOption(value, fallback));
  } catch (e) {
    throw new UsageError(`--log-level: ${(e as Error).message}`);
  }
}

function fromConfigFile(path: string, sockets: readonly string[]): DaemonOptions {
  if (sockets.length > 0) {
    throw new UsageError("Give the VMs with --socket or in --config, not both: put every VM in the file");
  }
  try {
    return readConfigFile(path);
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(`--config ${e.message}: see docs/config.md`);
    throw e;
  }
}

function vmsFromFlags(values: Values, sockets: readonly string[]): unknown[] {
  return vmsFromSockets(sockets.length > 0 ? sockets : [defaultSocketPath()], {
    queues: intOption("--queues", values["queues"], VM_DEFAULTS.queues, 1, 64),
    maxSessions: intOption("--max-sessions", values["max-sessions"], VM_DEFAULTS.maxSessions, 1, 1 << 24),
    maxInflight: intOption("--max-inflight", values["max-inflight"], VM_DEFAULTS.maxInflight, 1, 65536),
    ...(values["allow-unsealed-memory"] === true ? { allowUnsealedMemory: true } : {}),
  });
}

/**
 * The daemon options of a `serve` command line. Flags given with `--config` override the file's settings.
 *
 * @param values The single-valued options.
 * @param sockets Every `--socket`.
 * @returns The options (VM entries are checked by `runDaemon`).
 * @throws UsageError for a mistake.
 */
export function daemonOptions(values: Values, sockets: readonly string[]): DaemonOptions {
  const config = typeof values["config"] === "string";
  const base = config
    ? fromConfigFile(values["config"] as string, sockets)
    : { vms: vmsFromFlags(values, sockets) };
  const perVm = values["queues"] ?? values["max-sessions"] ?? values["max-inflight"] ??
    values["allow-unsealed-memory"];
  if (config && perVm !== undefined) {
    throw new UsageError(
      "--queues, --max-sessions, --max-inflight and --allow-unsealed-memory are per VM: set them in the --config file",
    );
  }
  const { engine, device } = engineOptions(
    values["engine"] ?? base.engine as string,
    values["device"] ?? base.device,
  );
  return {
    ...base,
    engine,
    ...(device === undefined ? {} : { device }),
    route: routeOption(values["route"], base.route),
    poll: values["poll"] === true || base.poll === true,
    busyPollUs: intOption(
      "--busy-poll",
      values["busy-poll"],
      base.busyPollUs ?? DEFAULT_BUSY_POLL_US,
      0,
      100_000,
    ),
    logLevel: logLevelOption(values["log-level"], base.logLevel ?? "info"),
    logFormat: logFormatOption(values["log-format"]),
  };
}

/**
 * `--log-format`, checked.
 *
 * @param value The option's value.
 * @returns The format (default text).
 */
export function logFormatOption(value: string | boolean | undefined): LogFormat {
  try {
    return parseLogFormat(stringOption(value, "text"));
  } catch (e) {
    throw new UsageError(`--log-format: ${(e as Error).message}`);
  }
}

/** Where serve's host services listen. */
export interface HostEndpoints {
  /** The control socket, or null (`--no-control`). */
  readonly control: string | null;
  /** The metrics address, or null. */
  readonly metrics: string | null;
}

/**
 * `--control`, `--no-control` and `--metrics`, checked.
 *
 * @param values The single-valued options.
 * @param firstSocket The first VM's socket (the control socket goes beside it by default).
 * @returns The endpoints.
 * @throws UsageError for both --control and --no-control, or a malformed --metrics.
 */
export function hostEndpoints(values: Values, firstSocket: string): HostEndpoints {
  if (values["no-control"] === true && values["control"] !== undefined) {
    throw new UsageError("Give --control PATH or --no-control, not both");
  }
  const control = values["no-control"] === true
    ? null
    : stringOption(values["control"], controlPathBeside(firstSocket));
  const metrics = typeof values["metrics"] === "string" ? values["metrics"] : null;
  if (metrics !== null) {
    try {
      parseMetricsAddress(metrics);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  return { control, metrics };
}
