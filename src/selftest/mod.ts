/**
 * The accelerator self-test (issue 11 item 6): published known-answer vectors on an accelerator's own engine for
 * each algorithm it advertises, and its speed against software. `cryptobridge selftest` prints it.
 *
 * @module
 */

export { openForSelftest, selftestDevice, type SelftestDeviceOptions } from "./device.ts";
export {
  type AlgorithmReport,
  countResults,
  FAILING_RESULTS,
  type SelftestReport,
  type SelftestResult,
  type SpeedSample,
} from "./report.ts";
export { runSelftest, type SelftestContext, type SelftestOptions, type SelftestSubject } from "./selftest.ts";
