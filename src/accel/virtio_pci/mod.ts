/**
 * The virtio-crypto accelerator: a user-space driver for a virtio-crypto PCI function over VFIO (the role DPDK's
 * crypto_virtio driver plays), as a `CryptoEngine`; and the modern virtio-pci transport it stands on.
 *
 * @example Drive a function bound to vfio-pci, behind a router with the software engine
 * ```ts ignore
 * const accel = VirtioPciEngine.open(openVfioPort("0000:00:04.0"), { reactor });
 * const engine = new RouterEngine(accel, new SoftwareEngine());
 * ```
 *
 * @module
 */

export { CommonCfg, DeviceStatus, VIRTIO_MSI_NO_VECTOR } from "./common_cfg.ts";
export { type QueueSetup, VirtioPciTransport } from "./transport.ts";
export {
  type DmaArea,
  type DmaPort,
  type MsixPort,
  openVfioPort,
  type VectorPort,
  type VirtioPciPort,
  type VirtioTransportPort,
} from "./port.ts";
export {
  capabilitiesFromConfig,
  chainProbe,
  HASH_SIZES,
  MAC_SIZES,
  type Probe,
  probeList,
  withoutRefused,
} from "./device_caps.ts";
export { checkSession } from "./session_checks.ts";
export { controlAreaSize, ControlQueue, createRefusal, type CtrlCreate, ctrlCreateFor } from "./control.ts";
export {
  copyBack,
  HEADER_LEN,
  RequestBuilder,
  Slot,
  SLOT_BOUNCE,
  SLOT_IV,
  SLOT_STATUS,
  zeroList,
} from "./request_builder.ts";
export { dataAreaSize, DataPath, type DataPathOptions, type Finish, setUpDataQueue } from "./data_path.ts";
export { type GuestIovaLookup, GuestIovaMap, type IovaEntry, VmDmaMap } from "./guest_dma.ts";
export { type DoorbellTicket, openDoorbell } from "./doorbell.ts";
export {
  type AccelTicket,
  areaFromWire,
  areaToWire,
  type AreaWire,
  capabilitiesFromWire,
  capabilitiesToWire,
  type CapabilitiesWire,
  type QueueTicket,
} from "./ticket.ts";
export {
  type AccelControl,
  answerCall,
  callControl,
  type DeviceSessionRef,
  type SharedControl,
  type VmControl,
} from "./control_link.ts";
export { completionWord, SharedQueueClient, type SharedQueueTicket } from "./shared_client.ts";
export { SharedQueueProxy } from "./queue_proxy.ts";
export { createOpSlots, OpSlots, SHARED_SEGMENTS } from "./shared_ops.ts";
export { SessionBroker, type SessionOwner } from "./host_sessions.ts";
export { type AccelEvent, type HostOptions, type HostStats, VirtioPciHost } from "./host.ts";
export { type ClientOptions, type ClientStats, VirtioPciClient } from "./client.ts";
export { paramsFromWire, paramsToWire, type ParamsWire } from "./session_wire.ts";
export { probeDevice, type ProbeResult } from "./host_probe.ts";
export { AccelSession } from "./session.ts";
export { VirtioPciError, type VirtioPciErrorKind } from "./errors.ts";
export {
  handshake,
  isRunning,
  type QueueAreas,
  startQueues,
  statusProblem,
  WANTED_FEATURES,
} from "./start.ts";
export {
  type CompletionMode,
  type EngineState,
  type QueueShape,
  queueShape,
  type ResolvedOptions,
  resolveOptions,
  sessionSignature,
  type VirtioPciEngineOptions,
  type VirtioPciStats,
} from "./engine_options.ts";
export { DeviceRuntime, type RuntimeParts } from "./runtime.ts";
export { EngineMonitor, type MonitorOptions } from "./monitor.ts";
export { VirtioPciEngine } from "./engine.ts";
