/**
 * cryptobridge: a virtio-crypto device (virtio device id 20) for VMs, served over vhost-user, backed by a PCI crypto
 * accelerator through VFIO with OpenSSL as the software fallback.
 *
 * As a library: `runDaemon()` serves a device on a socket; `VirtioCryptoDriver` drives any vhost-user crypto
 * back-end the way QEMU and a guest would; engines implement `CryptoEngine` (`SoftwareEngine`, `VirtioPciEngine` for a
 * virtio-crypto PCI function through VFIO, `RouterEngine` in front of both). As a program (`deno run mod.ts` or the
 * compiled binary): the `cryptobridge` command line.
 *
 * @example Serve on a socket and stop
 * ```ts ignore
 * import { runDaemon } from "./mod.ts";
 * const daemon = runDaemon({ socket: "/tmp/cryptobridge.sock" });
 * await daemon.stop();
 * ```
 *
 * @module
 */

export {
  type Daemon,
  type DaemonOptions,
  type DaemonSnapshot,
  type DaemonStats,
  runDaemon,
} from "./src/daemon/daemon.ts";
export { defaultSocketPath } from "./src/daemon/paths.ts";
export { ConfigError, type VmConfig, type VmSnapshot } from "./src/vm/mod.ts";
export { type EngineChoice, EngineSetupError } from "./src/daemon/engines.ts";
export {
  type AlgorithmInfo,
  allocHostMemory,
  type Capabilities,
  type CryptoEngine,
  CryptoOp,
  type DmaRegion,
  EngineError,
  type EngineSession,
  type HostMemory,
  PENDING,
  type SessionParams,
  SgList,
} from "./src/engine/mod.ts";
export { SoftwareEngine } from "./src/engine/software/mod.ts";
export { type FallbackReason, RouterEngine, type RouterStats } from "./src/engine/router.ts";
export {
  type CompletionMode,
  type EngineState,
  openVfioPort,
  VirtioPciEngine,
  type VirtioPciEngineOptions,
  VirtioPciError,
  type VirtioPciErrorKind,
  type VirtioPciPort,
  type VirtioPciStats,
} from "./src/accel/virtio_pci/mod.ts";
export { CryptoDevice, type CryptoDeviceOptions } from "./src/crypto/device.ts";
export { CryptoWireError } from "./src/crypto/mod.ts";
export * as spec from "./src/spec/virtio_crypto.ts";
export { type DriverOptions, type SessionSpec, VirtioCryptoDriver } from "./src/frontend/mod.ts";
export { VhostUserError } from "./src/vhost_user/mod.ts";
export { VirtqueueError } from "./src/virtio/mod.ts";
export { GuestMemoryError } from "./src/memory/mod.ts";
export { ErrnoError } from "./ffi/errno.ts";
export { main } from "./src/cli/main.ts";

if (import.meta.main) {
  const { main } = await import("./src/cli/main.ts");
  Deno.exit(await main(Deno.args));
}
