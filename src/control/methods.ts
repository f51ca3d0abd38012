/**
 * The control socket's methods (docs/control.md): each one's parameters, checked before the daemon sees them
 * (a missing, unknown or mistyped one is -32602 Invalid params), and its answer, copied into its report shape.
 *
 * @module
 */

import { CONTROL_ERROR_CODES, ControlError } from "./errors.ts";
import { projectAccelerator, projectStats, projectStatus, projectVm, projectVmStats } from "./project.ts";
import { ErrorCode, type Params, RpcError } from "./protocol.ts";
import { type DaemonControl, LOG_LEVEL_NAMES, type LogLevelName } from "./reports.ts";

/** JSON types a parameter may have. */
export type ParamType = "string" | "boolean";

/** One parameter of a method. */
export interface ParamSpec {
  /** Its name (and its place among positional parameters). */
  readonly name: string;
  /** Its JSON type. */
  readonly type: ParamType;
  /** Whether it must be given. */
  readonly required: boolean;
  /** The values it may take, when it is one of a set. */
  readonly oneOf?: readonly string[];
}

/** One method. */
export interface MethodSpec {
  /** Its name. */
  readonly name: string;
  /** What it does, one line (the `methods` method lists it). */
  readonly summary: string;
  /** Its parameters. */
  readonly params: readonly ParamSpec[];
  /** Whether parameters other than `params` are passed on to the daemon (which checks them): by name only. */
  readonly open?: boolean;
  /** Runs it. */
  readonly run: (control: DaemonControl, params: Readonly<Record<string, unknown>>) => Promise<unknown>;
}

const LEVELS = [...LOG_LEVEL_NAMES, "warn"];

const str = (params: Readonly<Record<string, unknown>>, key: string): string => params[key] as string;

/** Every method, in the order `methods` lists them. */
export const METHODS: readonly MethodSpec[] = [
  {
    name: "status",
    summary: "version, uptime, engines, accelerator state, VM count",
    params: [],
    run: async (c) => projectStatus(await c.status()),
  },
  {
    name: "vm.list",
    summary: "every VM: name, socket, connected or not, queues, sessions open, requests in flight",
    params: [],
    run: async (c) => {
      const vms = await c.listVms();
      if (!Array.isArray(vms)) throw new TypeError("Cannot answer: vm.list must be an array");
      return vms.map((v, i) => projectVm(v, `vms[${i}]`));
    },
  },
  {
    name: "stats",
    summary: "counters per VM and in total: requests by status, by path (accelerator, software), fallbacks",
    params: [],
    run: async (c) => projectStats(await c.stats()),
  },
  {
    name: "vm.add",
    summary:
      "serve one more VM (settings as in the configuration file's vms entries); the others are untouched",
    params: [{ name: "name", type: "string", required: true }, {
      name: "socket",
      type: "string",
      required: true,
    }],
    open: true,
    run: async (c, p) => projectVm(await c.addVm(p)),
  },
  {
    name: "vm.remove",
    summary: "stop serving one VM: front-end dropped, sessions closed (keys zeroed), socket removed",
    params: [{ name: "name", type: "string", required: true }],
    run: async (c, p) => {
      const last = await c.removeVm(str(p, "name"));
      return {
        name: str(p, "name"),
        removed: true,
        last: last === null ? null : projectVmStats(last, "last"),
      };
    },
  },
  {
    name: "log.set_level",
    summary: "log at this level and above from now on",
    params: [{ name: "level", type: "string", required: true, oneOf: LEVELS }],
    run: async (c, p) => {
      const level = (str(p, "level") === "warn" ? "warning" : str(p, "level")) as LogLevelName;
      await c.setLogLevel(level);
      return { level };
    },
  },
  {
    name: "accelerator.reset",
    summary: "reset the accelerator: in-flight requests re-run in software; it restarts by the usual policy",
    params: [],
    run: async (c) => projectAccelerator(await c.resetAccelerator({ restart: false })),
  },
  {
    name: "accelerator.restart",
    summary: "reset the accelerator and start it again at once",
    params: [],
    run: async (c) => projectAccelerator(await c.resetAccelerator({ restart: true })),
  },
  {
    name: "methods",
    summary: "the methods and their parameters",
    params: [],
    run: () => Promise.resolve(METHODS.map(({ name, summary, params }) => ({ name, summary, params }))),
  },
];

const BY_NAME: ReadonlyMap<string, MethodSpec> = new Map(METHODS.map((m) => [m.name, m]));

function invalid(method: string, problem: string, field?: string): RpcError {
  return new RpcError(
    ErrorCode.INVALID_PARAMS,
    `Invalid params: ${method}: ${problem}`,
    field === undefined ? undefined : { field },
  );
}

function named(spec: MethodSpec, params: Params | undefined): Readonly<Record<string, unknown>> {
  if (params === undefined) return {};
  if (!Array.isArray(params)) return params as Readonly<Record<string, unknown>>;
  if (spec.open === true) throw invalid(spec.name, "takes its parameters by name (an object)");
  if (params.length > spec.params.length) {
    throw invalid(spec.name, `takes at most ${spec.params.length} parameter(s): got ${params.length}`);
  }
  return Object.fromEntries(params.map((v, i) => [spec.params[i]!.name, v]));
}

/**
 * A method's parameters, by name, checked against its specification.
 *
 * @param spec The method.
 * @param params The request's `params`.
 * @returns The parameters by name.
 * @throws RpcError INVALID_PARAMS naming the parameter (`data.field`).
 */
export function checkParams(spec: MethodSpec, params: Params | undefined): Readonly<Record<string, unknown>> {
  const p = named(spec, params);
  for (const key of Object.keys(p)) {
    if (spec.open !== true && !spec.params.some((s) => s.name === key)) {
      const known = spec.params.length === 0 ? "it takes none" : `it takes ${spec.params.map((s) => s.name)}`;
      throw invalid(spec.name, `unknown parameter "${key}": ${known}`, key);
    }
  }
  for (const s of spec.params) {
    const v = p[s.name];
    if (v === undefined) {
      if (s.required) throw invalid(spec.name, `"${s.name}" is required (a ${s.type})`, s.name);
      continue;
    }
    const type: string = typeof v;
    if (type !== s.type) {
      throw invalid(
        spec.name,
        `"${s.name}" must be a ${s.type}: got ${v === null ? "null" : typeof v}`,
        s.name,
      );
    }
    if (s.oneOf !== undefined && !s.oneOf.includes(v as string)) {
      throw invalid(spec.name, `"${s.name}" must be one of ${s.oneOf.join(", ")}: got "${v}"`, s.name);
    }
  }
  return p;
}

/**
 * The JSON-RPC error for what a method threw: ControlError by its kind, RpcError as is, anything else
 * "Internal error" (with its message: the daemon's own messages never hold key material).
 *
 * @param e What was thrown.
 * @returns The error to answer with.
 */
export function toRpcError(e: unknown): RpcError {
  if (e instanceof RpcError) return e;
  if (e instanceof ControlError) return new RpcError(CONTROL_ERROR_CODES[e.kind], e.message, e.data);
  const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return new RpcError(ErrorCode.INTERNAL_ERROR, "Internal error", { error: error.slice(0, 1000) });
}

/**
 * Runs one method.
 *
 * @param control The daemon.
 * @param method The method's name.
 * @param params Its parameters.
 * @returns The result (JSON).
 * @throws RpcError METHOD_NOT_FOUND, INVALID_PARAMS, or what the method failed with (`toRpcError`).
 */
export async function invoke(
  control: DaemonControl,
  method: string,
  params: Params | undefined,
): Promise<unknown> {
  const spec = BY_NAME.get(method);
  if (spec === undefined) {
    throw new RpcError(
      ErrorCode.METHOD_NOT_FOUND,
      `Method not found: "${method.slice(0, 100)}": call "methods" for the list`,
    );
  }
  const p = checkParams(spec, params);
  try {
    return await spec.run(control, p);
  } catch (e) {
    throw toRpcError(e);
  }
}
