/**
 * What `status` and `vm` share: the `--control`, `--json` and `--timeout` options, one call to the daemon, and
 * the exit codes scripts test (docs/control.md, "Exit codes"). Loads no FFI: these commands run with
 * `--allow-read`, `--allow-write` and `--allow-net=unix:` on the socket only.
 *
 * @module
 */

import { ControlClient, ControlClientError, ErrorCode, RpcError } from "../control/client.ts";
import { DEFAULT_CONTROL_PATH } from "../control/paths.ts";
import type { Params } from "../control/protocol.ts";
import { intOption, stringOption } from "./args.ts";

/** Exit codes of the commands that talk to a running daemon. */
export const ExitCode = {
  /** It worked. */
  OK: 0,
  /** The daemon answered with another error, or something else failed. */
  FAILED: 1,
  /** The command line is wrong. */
  USAGE: 2,
  /** No daemon answers on the control socket (not running, or another `--control`). */
  NO_DAEMON: 3,
  /** No such VM (or accelerator). */
  NOT_FOUND: 4,
  /** The VM name or socket is taken. */
  EXISTS: 5,
  /** This user may not use the control socket. */
  PERMISSION: 6,
  /** The daemon cannot do it now: no accelerator, too many clients, stopping, or no answer in time. */
  UNAVAILABLE: 7,
} as const;

/** The options every control command takes (for `parseCommand`). */
export const CONTROL_OPTIONS = {
  control: { type: "string" },
  json: { type: "boolean" },
  timeout: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** The help lines of those options. */
export const CONTROL_OPTIONS_HELP =
  `  --control PATH   the daemon's control socket (default ${DEFAULT_CONTROL_PATH}, beside serve's
                   default socket; serve --control sets it)
  --json           print the daemon's answer as JSON, for scripts
  --timeout S      seconds to wait for an answer (default 30)
  -h, --help       show this help`;

/** The exit codes, as the help pages print them. */
export const EXIT_CODES_HELP =
  `Exit codes: 0 done; 1 failed; 2 wrong command line; 3 no daemon answers; 4 no such VM;
5 the VM name or socket is taken; 6 this user may not use the socket; 7 the daemon cannot do it now.`;

const CODE_EXITS: Readonly<Record<number, number>> = {
  [ErrorCode.NOT_FOUND]: ExitCode.NOT_FOUND,
  [ErrorCode.ALREADY_EXISTS]: ExitCode.EXISTS,
  [ErrorCode.PERMISSION_DENIED]: ExitCode.PERMISSION,
  [ErrorCode.SERVER_BUSY]: ExitCode.UNAVAILABLE,
  [ErrorCode.UNAVAILABLE]: ExitCode.UNAVAILABLE,
  [ErrorCode.CONFLICT]: ExitCode.UNAVAILABLE,
  [ErrorCode.INVALID_PARAMS]: ExitCode.USAGE,
};

/**
 * The message and exit code for a failed call.
 *
 * @param e What the call threw.
 * @returns The line to print (without the `cryptobridge: ` prefix) and the exit code, or null for an error that
 *   is not the daemon's or the socket's (main reports it).
 */
export function describeFailure(e: unknown): { message: string; code: number } | null {
  if (e instanceof ControlClientError) {
    switch (e.kind) {
      case "no-daemon":
        return {
          message: `no daemon answers on ${e.path}: start it with \`cryptobridge serve\` (as a service: ` +
            "`systemctl start cryptobridge`), or give --control PATH: the socket of `serve --control PATH`, by default " +
            "cryptobridge-control.sock beside its first VM's socket",
          code: ExitCode.NO_DAEMON,
        };
      case "permission":
        return {
          message: `cannot open ${e.path}: permission denied: the control socket is its daemon's user's ` +
            "alone: run this as that user (or root)",
          code: ExitCode.PERMISSION,
        };
      case "timeout":
        return { message: `${e.message}: try --timeout`, code: ExitCode.UNAVAILABLE };
      default:
        return { message: e.message, code: ExitCode.FAILED };
    }
  }
  if (e instanceof RpcError) {
    const field = (e.data as { field?: unknown } | undefined)?.field;
    const message = typeof field === "string" && !e.message.includes(field)
      ? `${e.message} (${field})`
      : e.message;
    return { message, code: CODE_EXITS[e.code] ?? ExitCode.FAILED };
  }
  return null;
}

/**
 * Calls one method on the daemon at `--control` and prints its answer: as JSON with `--json`, else through
 * `format`. Failures are printed as one line and turned into their exit code.
 *
 * @param values The parsed options.
 * @param call The method and its parameters.
 * @param format The text form of the result.
 * @returns The exit code.
 */
export async function callDaemon(
  values: Record<string, string | boolean | undefined>,
  call: { readonly method: string; readonly params?: Params },
  format: (result: unknown) => string,
): Promise<number> {
  const path = stringOption(values.control, DEFAULT_CONTROL_PATH);
  const timeoutMs = intOption("--timeout", values.timeout, 30, 1, 3600) * 1000;
  try {
    using client = await ControlClient.connect(path, { timeoutMs });
    const result = await client.call(call.method, call.params);
    console.log(values.json === true ? JSON.stringify(result, null, 2) : format(result));
    return ExitCode.OK;
  } catch (e) {
    const failure = describeFailure(e);
    if (failure === null) throw e;
    console.error(`cryptobridge: ${failure.message}`);
    return failure.code;
  }
}
