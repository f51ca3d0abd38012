/**
 * The control socket (docs/control.md): a JSON-RPC 2.0 server over a Unix stream socket, one request per line,
 * answering through the `DaemonControl` interface the daemon implements, and a client for the CLI and scripts.
 *
 * The client lives in `client.ts` and loads no FFI: import it from there where permissions matter (the CLI).
 *
 * @example Serve a daemon's control socket, ask it for its status
 * ```ts ignore
 * import { ControlClient, ControlServer } from "./src/control/mod.ts";
 * const server = ControlServer.listen({ path: "/run/cryptobridge/cryptobridge-control.sock", control });
 * using client = await ControlClient.connect(server.path);
 * console.log(await client.call("status"));
 * await server.close();
 * ```
 *
 * @module
 */

export {
  ControlClient,
  ControlClientError,
  type ControlClientErrorKind,
  type ControlClientOptions,
} from "./client.ts";
export { type ConnectionLimits, ControlConnection } from "./connection.ts";
export { answerLine, DEFAULT_MAX_BATCH } from "./dispatch.ts";
export { CONTROL_ERROR_CODES, ControlError, type ControlErrorData, type ControlErrorKind } from "./errors.ts";
export {
  checkParams,
  invoke,
  METHODS,
  type MethodSpec,
  type ParamSpec,
  type ParamType,
  toRpcError,
} from "./methods.ts";
export { CONTROL_SOCKET_NAME, controlPathBeside, DEFAULT_CONTROL_PATH } from "./paths.ts";
export { projectAccelerator, projectStats, projectStatus, projectVm, projectVmStats } from "./project.ts";
export {
  checkRequest,
  ErrorCode,
  failure,
  JSONRPC_VERSION,
  type Params,
  parseLine,
  type RequestId,
  RpcError,
  type RpcErrorObject,
  type RpcRequest,
  type RpcResponse,
  success,
} from "./protocol.ts";
export type {
  AcceleratorKindName,
  AcceleratorReport,
  Awaitable,
  DaemonControl,
  EngineReport,
  LogLevelName,
  PathStats,
  QatAcceleratorReport,
  ResetOptions,
  StatsReport,
  StatusReport,
  VmReport,
  VmStats,
} from "./reports.ts";
export { ACCELERATOR_KIND_NAMES, LOG_LEVEL_NAMES } from "./reports.ts";
export { CONTROL_DEFAULTS, ControlServer, type ControlServerOptions } from "./server.ts";
