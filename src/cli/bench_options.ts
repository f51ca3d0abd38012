/**
 * The `bench` command line: its options, their defaults and the checks that turn a mistake into one line saying
 * what to do instead (a `UsageError`).
 *
 * @module
 */

import type { ParseArgsConfig } from "node:util";
import type { VhostSessionLayout } from "../crypto/mod.ts";
import {
  BENCH_ALGORITHMS,
  BENCH_SIZES,
  type BenchAlgorithm,
  type CompletionMode,
  type HeadOrder,
  isBenchAlgorithm,
} from "../frontend/mod.ts";
import { parseCommand } from "./args.ts";
import type { NeighbourMode } from "./bench_neighbour.ts";
import { peerPreset } from "./bench_peer.ts";
import type { BenchConfig } from "./bench_run.ts";
import { UsageError } from "./errors.ts";

/** `bench` options after parsing: the run's configuration, plus how to start the back-end and print. */
export interface BenchOptions extends Omit<BenchConfig, "socket" | "onProgress"> {
  /** Back-ends (VM sockets) to drive at once; none: bench starts `cryptobridge serve` itself. */
  readonly sockets: readonly string[];
  /** VMs (sockets) of the serve bench starts itself. */
  readonly vms: number;
  /** Start that serve with `--poll`. */
  readonly poll: boolean;
  /** Start that serve with `--busy-poll`. */
  readonly busyPollUs?: number;
  /** CPU for that serve. */
  readonly pinServe?: number;
  /** CPU for this process. */
  readonly pinBench?: number;
  /** The last VM is a neighbour that floods or is killed and restarted while the others run the cases. */
  readonly neighbour?: NeighbourMode;
  readonly json: boolean;
  readonly help: boolean;
}

/** The options `bench` accepts. */
const BENCH_FLAGS = {
  socket: { type: "string", multiple: true },
  vms: { type: "string" },
  neighbour: { type: "string" },
  poll: { type: "boolean" },
  "busy-poll": { type: "string" },
  "pin-serve": { type: "string" },
  "pin-bench": { type: "string" },
  peer: { type: "string" },
  "session-layout": { type: "string" },
  "no-control-queue": { type: "boolean" },
  "control-queue": { type: "boolean" },
  heads: { type: "string" },
  "vring-enable": { type: "boolean" },
  "no-vring-enable": { type: "boolean" },
  "max-size": { type: "string" },
  algo: { type: "string" },
  size: { type: "string" },
  depth: { type: "string" },
  duration: { type: "string" },
  count: { type: "string" },
  warmup: { type: "string" },
  indirect: { type: "boolean" },
  direct: { type: "boolean" },
  completion: { type: "string" },
  "queue-size": { type: "string" },
  "verify-every": { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} satisfies NonNullable<ParseArgsConfig["options"]>;

type Values = Record<string, string | boolean | undefined>;

/**
 * Parses `bench` arguments.
 *
 * @param args The arguments after `bench`.
 * @returns The options, defaults filled in.
 * @throws UsageError for an unknown option, a bad value or a contradictory combination.
 */
export function parseBenchOptions(args: string[]): BenchOptions {
  const { values: v, lists, positionals } = parseCommand("bench", args, BENCH_FLAGS);
  const sockets = lists["socket"] ?? [];
  checkCombination(v, positionals, sockets);
  // Run limits and queue size are checked before the fields below: the order decides which of several mistakes
  // is reported.
  const limits = runLimits(v);
  const queueSize = queueSizeOf(v["queue-size"] ?? "1024");
  const vms = integer("--vms", v.vms ?? "1", 1, 16);
  return {
    sockets,
    vms,
    ...neighbourOf(str(v.neighbour), sockets.length || vms, limits),
    poll: v.poll === true,
    ...optionalInt("busyPollUs", "--busy-poll", v["busy-poll"], 0, 100_000),
    ...optionalInt("pinServe", "--pin-serve", v["pin-serve"], 0, 4095),
    ...optionalInt("pinBench", "--pin-bench", v["pin-bench"], 0, 4095),
    ...peerOptions(v),
    algorithms: algorithms(str(v.algo)),
    sizes: sizes(str(v.size)),
    depth: integer("--depth", v.depth ?? "32", 1, 1024),
    ...limits,
    completion: completion(str(v.completion) ?? "event"),
    queueSize,
    verifyEvery: integer("--verify-every", v["verify-every"] ?? "1024", 1, Number.MAX_SAFE_INTEGER),
    json: v.json === true,
    help: v.help === true,
  };
}

/**
 * The options a `--peer` preset sets, each overridden by its own flag: chains, heads, SET_VRING_ENABLE, the
 * control queue, the session layout and the largest size sent.
 */
function peerOptions(v: Values): Pick<
  BenchOptions,
  "peer" | "indirect" | "heads" | "vringEnable" | "controlQueue" | "sessionLayout" | "maxSize"
> {
  const preset = v.peer === undefined ? undefined : peerPreset(String(v.peer));
  const indirect = pair(v, "indirect", "direct") ?? preset?.indirect ?? false;
  const heads = headOrder(str(v.heads), indirect, preset?.heads);
  const maxSize = v["max-size"] === undefined
    ? preset?.maxSize
    : integer("--max-size", v["max-size"], 16, 1 << 20);
  return {
    ...(preset !== undefined ? { peer: preset.peer } : {}),
    indirect,
    heads,
    vringEnable: pair(v, "vring-enable", "no-vring-enable") ?? preset?.vringEnable ?? false,
    controlQueue: pair(v, "control-queue", "no-control-queue") ?? preset?.controlQueue ?? true,
    sessionLayout: sessionLayout(str(v["session-layout"]) ?? preset?.sessionLayout ?? "B"),
    ...(maxSize !== undefined ? { maxSize } : {}),
  };
}

/** A switch and its negation: true, false, or undefined when neither was given (both: a UsageError). */
function pair(v: Values, on: string, off: string): boolean | undefined {
  if (v[on] === true && v[off] === true) {
    throw new UsageError(`--${on} and --${off} contradict each other: give one of them`);
  }
  return v[on] === true ? true : v[off] === true ? false : undefined;
}

/**
 * `--heads`: free-list or avail-order (indirect chains only). A preset's avail-order gives way to direct chains
 * asked for explicitly.
 */
function headOrder(value: string | undefined, indirect: boolean, preset: HeadOrder | undefined): HeadOrder {
  if (value === undefined) return indirect ? preset ?? "free-list" : "free-list";
  if (value !== "free-list" && value !== "avail-order") {
    throw new UsageError(`--heads must be free-list or avail-order: current value is ${value}`);
  }
  if (value === "avail-order" && !indirect) {
    throw new UsageError(
      `--heads avail-order needs indirect chains (one descriptor per request): add --indirect`,
    );
  }
  return value;
}

/** Refuses positionals, and the options of bench's own serve next to `--socket` (they would be ignored). */
function checkCombination(v: Values, positionals: readonly string[], sockets: readonly string[]): void {
  if (positionals.length > 0) {
    throw new UsageError(
      `bench takes no arguments, only options: got "${positionals[0]}": see \`cryptobridge bench --help\``,
    );
  }
  if (sockets.length === 0) return;
  for (const name of ["poll", "busy-poll", "pin-serve", "vms"]) {
    if (v[name] !== undefined) {
      throw new UsageError(
        `--${name} applies to the serve bench starts itself: with --socket, start the back-end with it yourself`,
      );
    }
  }
}

/**
 * How long each case runs: `--count`, `--duration` (2 s when neither is given) and `--warmup` (0.5 s, or none
 * with `--count`).
 */
function runLimits(
  v: Values,
): { readonly durationMs?: number; readonly count?: number; readonly warmupMs: number } {
  const count = v.count === undefined ? undefined : integer("--count", v.count, 1, Number.MAX_SAFE_INTEGER);
  const duration = v.duration === undefined ? undefined : seconds("--duration", v.duration, 0.001);
  const durationMs = duration === undefined ? (count === undefined ? 2000 : undefined) : duration * 1000;
  const warmup = v.warmup === undefined ? (count === undefined ? 0.5 : 0) : seconds("--warmup", v.warmup, 0);
  return {
    ...(durationMs !== undefined ? { durationMs } : {}),
    ...(count !== undefined ? { count } : {}),
    warmupMs: warmup * 1000,
  };
}

/** `--neighbour`: flood or restart, with at least two VMs and a run sized by `--duration`. */
function neighbourOf(
  value: string | undefined,
  vms: number,
  limits: { readonly count?: number },
): { readonly neighbour?: NeighbourMode } {
  if (value === undefined) return {};
  if (value !== "flood" && value !== "restart") {
    throw new UsageError(`--neighbour must be flood or restart: current value is ${value}`);
  }
  if (vms < 2) {
    throw new UsageError(`--neighbour needs two VMs or more: give --socket twice, or --vms 2`);
  }
  if (limits.count !== undefined) {
    throw new UsageError(`--neighbour runs for a time: use --duration instead of --count`);
  }
  return { neighbour: value };
}

function queueSizeOf(value: string | boolean): number {
  const queueSize = integer("--queue-size", value, 1, 1024);
  if ((queueSize & (queueSize - 1)) !== 0) {
    throw new UsageError(`--queue-size must be a power of 2 up to 1024: current value is ${queueSize}`);
  }
  return queueSize;
}

function str(value: string | boolean | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function integer(name: string, value: string | boolean, min: number, max: number): number {
  const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(
      `${name} must be an integer from ${min} to ${max}: current value is ${String(value)}`,
    );
  }
  return n;
}

function optionalInt(
  key: "pinServe" | "pinBench" | "busyPollUs",
  name: string,
  value: string | boolean | undefined,
  min: number,
  max: number,
): Partial<Record<"pinServe" | "pinBench" | "busyPollUs", number>> {
  return value === undefined ? {} : { [key]: integer(name, value, min, max) };
}

function seconds(name: string, value: string | boolean, min: number): number {
  const n = typeof value === "string" && /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  if (!(n >= min) || n > 86400) {
    throw new UsageError(
      `${name} must be a number of seconds from ${min} to 86400: current value is ${value}`,
    );
  }
  return n;
}

/**
 * A `--session-layout` value: A, B or C, or a QEMU version mapped to its layout (≤ 7.0: A, 7.1-8.0: B, ≥ 8.1: C).
 *
 * @param value What was typed.
 * @returns The layout.
 * @throws UsageError for anything else.
 */
export function sessionLayout(value: string): VhostSessionLayout {
  const upper = value.toUpperCase();
  if (upper === "A" || upper === "B" || upper === "C") return upper;
  const m = /^(?:qemu-?)?(\d+)\.(\d+)(?:\.\d+)?$/i.exec(value);
  if (m !== null) {
    const version = Number(m[1]) * 100 + Number(m[2]);
    return version <= 700 ? "A" : version <= 800 ? "B" : "C";
  }
  throw new UsageError(
    `--session-layout must be A (QEMU <= 7.0), B (7.1-8.0), C (>= 8.1) or a QEMU version: current value is ${value}`,
  );
}

function algorithms(value: string | undefined): BenchAlgorithm[] {
  if (value === undefined || value === "all") return [...BENCH_ALGORITHMS];
  const names = value.split(",").map((s) => s.trim().toLowerCase()).filter((s) => s !== "");
  for (const name of names) {
    if (!isBenchAlgorithm(name)) {
      throw new UsageError(`--algo: unknown algorithm "${name}": use ${BENCH_ALGORITHMS.join(", ")} or all`);
    }
  }
  if (names.length === 0) throw new UsageError(`--algo needs at least one algorithm`);
  return [...new Set(names as BenchAlgorithm[])];
}

/**
 * A `--size` list: integers, optionally with a k suffix (× 1024), each a multiple of 16 from 16 to 1 MiB.
 *
 * @param value What was typed (undefined: the default matrix).
 * @returns The sizes, in the order given, without duplicates.
 * @throws UsageError for a malformed or out-of-range size.
 */
export function sizes(value: string | undefined): number[] {
  if (value === undefined) return [...BENCH_SIZES];
  const out: number[] = [];
  for (const raw of value.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
    const m = /^(\d+)\s*(k|kib|K|KiB)?$/.exec(raw);
    const n = m === null ? NaN : Number(m[1]) * (m[2] === undefined ? 1 : 1024);
    if (!Number.isSafeInteger(n) || n < 16 || n > 1 << 20 || n % 16 !== 0) {
      throw new UsageError(
        `--size must be a multiple of 16 from 16 to 1M (k = 1024): current value is ${raw}`,
      );
    }
    if (!out.includes(n)) out.push(n);
  }
  if (out.length === 0) throw new UsageError("--size needs at least one size");
  return out;
}

function completion(value: string): CompletionMode {
  if (value === "event" || value === "poll") return value;
  throw new UsageError(`--completion must be event or poll: current value is ${value}`);
}
