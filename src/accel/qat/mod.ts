/**
 * Intel QAT gen4: a user-space driver for the virtual functions 8086:4941, 4943 and 4945 (4xxx, 401xx, 402xx)
 * over VFIO, as a `CryptoEngine`, in two halves so that a VM's thread can drive its own ring pair:
 *
 * - `QatDevice` (the process that owns the VF): reset, PF/VF mailbox, ring pair reset and configuration,
 *   interrupts, health, stop and restart; it hands out a `QatRingPairTicket` per ring pair (plain numbers).
 * - `QatRingPair` (any thread, from a ticket, no VFIO call): sessions as content descriptors in its scratch
 *   area, requests into the TX ring with one doorbell per batch, responses from the RX ring.
 *
 * `QatHost` keeps the device on the daemon's main thread and hands each VM's thread a ring pair of its own;
 * `QatClient` is that VM's engine over it. `QatEngine` composes the device and one ring pair in one thread (the
 * self-test, an embedder's inline daemon); it and the client share the per-ring logic (`QatRingDriver`). The
 * driver follows DPDK's and qatlib's reading of the hardware interface (qat-gen4.md); it has been tested against
 * a model of a VF, not on hardware.
 *
 * @example Drive a VF bound to vfio-pci, behind a router with the software engine
 * ```ts ignore
 * const accel = QatEngine.open(openQatVfioPort("0000:3d:00.1"), { reactor });
 * const engine = new RouterEngine(accel, new SoftwareEngine());
 * ```
 *
 * @module
 */

export { QatError, type QatErrorKind } from "./errors.ts";
export {
  buildRingBase,
  BUNDLE_SIZE,
  BUNDLES,
  configSizeCode,
  Csr,
  csrOffset,
  EMPTY_SIGNATURE,
  ringBaseIova,
  ringBytes,
  type RingShape,
  ringShape,
  RX_RING,
  rxRingConfig,
  sizeCode,
  SYM_REQUEST_SIZE,
  SYM_RESPONSE_SIZE,
  TX_RING,
  txRingConfig,
} from "./csr.ts";
export * as pfvf from "./pfvf.ts";
export { Mailbox, type MailboxOptions, type Mmio32 } from "./mailbox.ts";
export {
  CdCtrl,
  HDR_VALID,
  LaCmd,
  LaFlag,
  nextCurrId,
  Req,
  Resp,
  responseOutcome,
  RespStatus,
  SERVICE_LA,
  Slice,
  Word,
} from "./fw_la.ts";
export {
  authConfig,
  AuthMode,
  cipherConfig,
  cipherConfigUpper,
  CipherMode,
  type DescriptorPlan,
  HwAuth,
  HwCipher,
  writeDescriptor,
} from "./content_descriptor.ts";
export { GCM_IV_LEN, GCM_MAX_AAD, GCM_TAG_LENGTHS, planSession, type SessionFacts } from "./session_plan.ts";
export { readSgl, SGL_ENTRY, SGL_HEADER, SglBuilder, sglBytes, type SglEntry } from "./sgl.ts";
export {
  CD_STRIDE,
  type MemoryTicket,
  type QatRingPairTicket,
  type QatRingPairWire,
  type RingPairShape,
  scratchBytes,
  slotLayout,
  ticketFromWire,
  ticketToWire,
} from "./ticket.ts";
export { QatSession } from "./session.ts";
export { type Finish, QatRingPair, type RingPairCounters } from "./ring_pair.ts";
export { type MmioBar, openQatVfioPort, type QatPort } from "./port.ts";
export { QatDevice, type QatDeviceOptions } from "./device.ts";
export {
  qatCapabilities,
  type QatEngineOptions,
  type QatState,
  type QatStats,
  resolveQatOptions,
} from "./engine_options.ts";
export { QatEngine } from "./engine.ts";
export {
  QatRingDriver,
  type RingDriverCounts,
  type RingDriverOptions,
  type RingInterrupt,
} from "./ring_driver.ts";
export {
  QAT_EPOCH_WORD,
  QAT_INFLIGHT_WORD,
  QAT_SESSIONS_WORD,
  QAT_STATE_WORD,
  type QatAccelEvent,
  type QatGrant,
  type QatHostOptions,
  type QatHostStats,
  type QatVmControl,
  type QatVmTicket,
} from "./host_types.ts";
export { QatLifecycle } from "./lifecycle.ts";
export { QatHost } from "./host.ts";
export { QatClient, type QatClientStats } from "./client.ts";
export { answerQatCall, qatCallControl } from "./control_link.ts";
