/**
 * Engines: the `CryptoEngine` contract and its building blocks. Concrete engines live in sub-folders
 * (`software/`), imported only by the composition root (`src/daemon/`) and tests.
 *
 * @module
 */

export {
  type AeadSessionParams,
  type AkcipherSessionParams,
  type AlgorithmInfo,
  type Capabilities,
  type ChainSessionParams,
  type CipherSessionParams,
  type CryptoEngine,
  CryptoOp,
  type DmaRegion,
  EngineError,
  type EngineErrorKind,
  type EngineSession,
  type HashSessionParams,
  type MacSessionParams,
  PENDING,
  type SessionParams,
} from "./engine.ts";
export { allocHostMemory, type HostMemory } from "./host_memory.ts";
export { SgList } from "./sg_list.ts";
export { ENGINE_FAILED } from "./engine.ts";
export { mergeCapabilities, supports } from "./capabilities.ts";
export { type FallbackReason, RouterEngine, type RouterOptions, type RouterStats } from "./router.ts";
export {
  DEFAULT_ROUTE,
  isRoutePolicy,
  ROUTE_POLICIES,
  routeKey,
  type RoutePolicy,
  type RouteThresholds,
  type SpeedPoint,
  thresholdOf,
} from "./route_policy.ts";
export {
  type AlgorithmCalibration,
  calibrate,
  CalibrationError,
  type CalibrationOptions,
  formatCalibration,
  thresholdsOf,
} from "./calibration.ts";
export { type CalibratedService, type CalibrationTarget, calibrationTargets } from "./calibration_ops.ts";
