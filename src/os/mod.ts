/**
 * The operating system through libc: owned descriptors, mappings, eventfds (and, with the vhost-user work, the
 * reactor and Unix sockets). The only layer that imports `ffi/libc.ts`.
 *
 * @module
 */

export { Fd, isFdOpen } from "./fd.ts";
export {
  currentLedger,
  installLedger,
  MAX_LEDGER_FD,
  MAX_LEDGER_MAPPINGS,
  type Reclaimed,
  ResourceLedger,
} from "./ledger.ts";
export { fileCovers, type MapOptions, Mapping } from "./mapping.ts";
export {
  createMemfd,
  describeFd,
  fileSeals,
  guardAgainstShrink,
  type MemfdOptions,
  Seal,
  type ShrinkGuard,
} from "./seals.ts";
export { monotonicMs } from "./clock.ts";
export { EventFd } from "./eventfd.ts";
export { Reactor, type ReactorOptions, type ReadyHandler, type WaitMode } from "./reactor.ts";
export { pinThread, threadAffinity, threadId } from "./thread.ts";
export { lookupGroup, lookupUser } from "./users.ts";
export {
  MAX_FDS,
  UnixConnection,
  type UnixConnectionOptions,
  UnixSocketError,
  type UnixSocketErrorKind,
} from "./unix_socket.ts";
export { UnixListener, type UnixListenOptions } from "./unix_listener.ts";
export { type PeerCredentials, peerCredentials, sendNow } from "./socket_ops.ts";
export { encodeUnixAddress, UnixDatagram } from "./datagram.ts";
export { effectiveUid, openPath, openPathIfExists, pathExists, preadExact, pwriteExact } from "./file.ts";
export { IoctlArg, ioctlArg, ioctlValue } from "./ioctl.ts";
export { Sysfs, type SysfsAccess } from "./sysfs.ts";
export { Errno, ErrnoError, errnoName } from "../../ffi/errno.ts";
export { EPOLLERR, EPOLLET, EPOLLHUP, EPOLLIN, EPOLLOUT } from "../../ffi/constants.ts";
export { SERVE_V8_FLAGS, withServeV8Flags } from "./jit_budget.ts";
