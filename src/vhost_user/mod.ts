/**
 * vhost-user back-end, device-neutral: the wire format, the connection framing, the protocol handler and the
 * server. A device implements `Backend`; device-specific messages reach it through one opaque hook.
 *
 * @module
 */

export type { Backend, VringHandle } from "./backend.ts";
export { closeFds, type Message, VhostUserConnection } from "./connection.ts";
export { type HandlerOptions, type Reply, type RingWatcher, VhostUserHandler } from "./handler.ts";
export { MappedMemoryTable, SEALED_RAM_OPTION, type ShrinkableMemoryPolicy } from "./memory_table.ts";
export * from "./message.ts";
export { type ServerOptions, VhostUserServer } from "./server.ts";
export { ShrinkableMemoryError } from "./shrinkable_guard.ts";
export {
  classifyDrop,
  describePeer,
  type DropKind,
  type DropReport,
  type PeerInfo,
  PeerStalledError,
} from "./peer.ts";
export { DEFAULT_PEER_LIMITS, PeerDeadline, type PeerLimits } from "./peer_deadline.ts";
export { type FrontendRingAddresses, Vring } from "./vring.ts";
