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
 * @example Host administration from a script: list, bind, serve, give back (scripts/example_bind_serve.ts)
 * ```ts ignore
 * import { AdminError, bind, info, list, runDaemon, unbind } from "./mod.ts";
 * const fn = list().find((f) => f.cryptoCapable && f.driver === "virtio-pci");
 * if (fn === undefined) throw new Error("no virtio-crypto function on this host");
 * const bound = bind(fn.bdf); // typed: { bdf, from, to, changed, steps, notes }; throws AdminError, PciError
 * try {
 *   console.log(info(fn.bdf).virtio?.numQueues);
 *   const daemon = runDaemon({ socket: "/run/cryptobridge/vm1.sock", device: fn.bdf, engine: "accel" });
 *   await daemon.ready;
 *   await daemon.stop();
 * } finally {
 *   if (bound.changed) unbind(fn.bdf); // back to its original driver, also after an error
 * }
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
export {
  AdminError,
  type AdminErrorKind,
  bindFunction as bind,
  type BindFunctionOptions,
  type BindOutcome,
  deviceInfo as info,
  type HostOptions,
  type InfoReport,
  type ListEntry,
  listFunctions as list,
  type ListOptions,
  unbindFunction as unbind,
  type UnbindOptions,
} from "./src/admin/mod.ts";
export { PciError, type PciFunction } from "./src/pci/mod.ts";
export {
  type AlgorithmReport,
  selftestDevice as selftest,
  type SelftestDeviceOptions,
  type SelftestReport,
  type SelftestResult,
  type SpeedSample,
} from "./src/selftest/mod.ts";
export { AcceleratorKindError } from "./src/accel/open.ts";
export { VfioError } from "./src/vfio/mod.ts";
export { main } from "./src/cli/main.ts";

if (import.meta.main) {
  const { main } = await import("./src/cli/main.ts");
  Deno.exit(await main(Deno.args));
}
