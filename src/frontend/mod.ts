/**
 * The front-end side, in TypeScript: what QEMU and a guest driver do, for tests, `cryptobridge bench` and checking
 * any vhost-user crypto back-end.
 *
 * @module
 */

export type { ChainShape, InPart, OutPart } from "./chain_shape.ts";
export { type ClaimedQueue, type Completion, VirtioCryptoDriver } from "./crypto_driver.ts";
export type { DriverOptions } from "./driver_options.ts";
export type { HeadOrder } from "../virtio/mod.ts";
export { DEFAULT_GUEST_BASE, GuestRam } from "./guest_ram.ts";
export {
  ctrlCreateRequest,
  ctrlDestroyRequest,
  defaultChainOrder,
  type SessionSpec,
  vhostCreateRequest,
} from "./sessions.ts";
export { type FrontendOptions, VhostUserFrontend, waitReadable } from "./vhost_user_frontend.ts";
export {
  type AeadLengths,
  aeadRequest,
  buildRequest,
  type ChainLengths,
  chainRequest,
  cipherRequest,
  hashRequest,
  macRequest,
  type PartBytes,
  type RequestParts,
  sessionRequest,
  statelessRequest,
} from "./requests.ts";
export { LoadGenerator } from "./load.ts";
export {
  type Departure,
  DEPARTURE_KINDS,
  DEPARTURE_RULES,
  type DepartureExample,
  type DepartureKind,
  DepartureLog,
  describeDeparture,
} from "./departures.ts";
export { LoadError, type LoadErrorKind } from "./load_error.ts";
export type {
  CompletionMode,
  LoadGeneratorOptions,
  LoadLimit,
  LoadRequest,
  LoadResult,
} from "./load_options.ts";
export { LatencyHistogram, type LatencySummary } from "./latency.ts";
export {
  BENCH_ALGORITHMS,
  BENCH_SIZES,
  type BenchAlgorithm,
  benchSession,
  benchWorkload,
  isBenchAlgorithm,
  type Workload,
  type WorkloadRequest,
} from "./workloads.ts";
