/**
 * The front-end side, in TypeScript: what QEMU and a guest driver do, for tests, `cryptobridge bench` and checking
 * any vhost-user crypto back-end.
 *
 * @module
 */

export {
  type ChainShape,
  type Completion,
  type DriverOptions,
  type InPart,
  type OutPart,
  VirtioCryptoDriver,
} from "./crypto_driver.ts";
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
  buildRequest,
  cipherRequest,
  type PartBytes,
  type RequestParts,
  sessionRequest,
} from "./requests.ts";
