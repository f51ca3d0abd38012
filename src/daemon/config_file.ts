/**
 * `serve --config FILE`: the daemon's settings and its VMs in one JSON document (docs/config.md). Every field is
 * checked before anything binds, and a bad one is named with its place: `vms[1].socket: is required`.
 *
 * @module
 */

import { ConfigError, FieldReader } from "../vm/config.ts";
import { parseLogLevel } from "../logging/logging.ts";
import { ENGINE_CHOICES, type EngineChoice } from "./engines.ts";
import { type DaemonOptions, DEFAULT_BUSY_POLL_US } from "./daemon.ts";
import { isRoutePolicy, ROUTE_POLICIES, type RoutePolicy } from "../engine/route_policy.ts";

const FIELDS = ["vms", "device", "engine", "route", "poll", "busyPollUs", "logLevel"] as const;

/**
 * Parses and checks a configuration document. The VM entries are checked by `runDaemon` (`parseVmConfig`), with
 * the same field names.
 *
 * @param text The file's text.
 * @param source Its name, for messages.
 * @returns The daemon options it describes.
 * @throws ConfigError naming the bad field (or the JSON syntax error's position).
 */
export function parseConfigText(text: string, source: string): DaemonOptions {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(source, `is not JSON: ${(e as Error).message}`);
  }
  const r = new FieldReader(value, "", FIELDS);
  const vms = r.raw("vms");
  if (!Array.isArray(vms) || vms.length === 0) {
    throw new ConfigError("vms", 'must be a list of at least one VM: [{ "name": …, "socket": … }]');
  }
  const engine = r.string("engine", "auto");
  if (!(ENGINE_CHOICES as readonly string[]).includes(engine)) {
    throw new ConfigError("engine", `must be one of ${ENGINE_CHOICES.join(", ")}: got "${engine}"`);
  }
  const route = r.string("route", "accel-first");
  if (!isRoutePolicy(route)) {
    throw new ConfigError("route", `must be one of ${ROUTE_POLICIES.join(", ")}: got "${route}"`);
  }
  const level = r.string("logLevel", "info");
  let logLevel;
  try {
    logLevel = parseLogLevel(level);
  } catch (e) {
    throw new ConfigError("logLevel", (e as Error).message);
  }
  const device = r.string("device", undefined);
  return {
    vms,
    engine: engine as EngineChoice,
    route: route as RoutePolicy,
    poll: r.bool("poll", false),
    busyPollUs: r.int("busyPollUs", 0, 100_000, DEFAULT_BUSY_POLL_US),
    logLevel,
    ...(device === undefined ? {} : { device }),
  };
}

/**
 * Reads and checks a configuration file.
 *
 * @param path The file.
 * @returns The daemon options.
 * @throws ConfigError (unreadable file, bad JSON, bad field).
 */
export function readConfigFile(path: string): DaemonOptions {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    throw new ConfigError(path, `cannot be read: ${(e as Error).message}`);
  }
  return parseConfigText(text, path);
}
