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
export { type ServerOptions, ShrinkableMemoryError, VhostUserServer } from "./server.ts";
export { type FrontendRingAddresses, Vring } from "./vring.ts";
