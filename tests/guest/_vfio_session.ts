/**
 * The in-guest VFIO session of the tier-4 test (`_vfio_guest.ts` runs it after `cryptobridge bind`): a minimal
 * virtio-crypto driver in user space, on `VfioSession`, `VirtioPciTransport`, `DriverQueue` and `MsixVectors`.
 *
 * One CIPHER_CREATE_SESSION (AES-128-CBC, encrypt) goes through the control queue, which lives in a DMA buffer:
 * the rings and the request are addressed by IOVA, so QEMU's device (with `iommu_platform=on`) reaches them only
 * through the virtual IOMMU's translation of our mapping. The queue signals MSI-X vector 1, whose eventfd the
 * reactor waits on.
 *
 * @module
 */

import { DeviceStatus, VirtioPciTransport } from "../../src/accel/virtio_pci/mod.ts";
import {
  CipherAlgo,
  CryptoOpDirection,
  decodeConfig,
  decodeCreateSessionInput,
  encodeCtrlRequest,
  Layout,
  Opcode,
  Status,
} from "../../src/crypto/mod.ts";
import { RegionGuestMemory } from "../../src/memory/mod.ts";
import { EPOLLIN, type EventFd, Reactor } from "../../src/os/mod.ts";
import { type DmaBuffer, MsixVectors, VfioSession } from "../../src/vfio/mod.ts";
import {
  DriverQueue,
  featureMask,
  splitRingLayout,
  VIRTIO_F_ACCESS_PLATFORM,
  VIRTIO_F_VERSION_1,
} from "../../src/virtio/mod.ts";

/** What the session saw, for the host's assertions. */
export interface SessionReport {
  readonly path: string;
  /** IOVA of a 4 KiB buffer that was mapped, then unmapped (UNMAP_DMA returned its size). */
  readonly probeIova: number;
  readonly probeUnmapped: boolean;
  /** VFIO_DEVICE_RESET's answer: false when the device has no reset method (EINVAL; QEMU's virtio-pci has none). */
  readonly deviceReset: boolean;
  readonly dmaIova: number;
  readonly dmaSize: number;
  /** Hex. */
  readonly deviceFeatures: string;
  readonly version1: boolean;
  /** Hex. */
  readonly negotiated: string;
  readonly numQueues: number;
  readonly maxDataqueues: number;
  readonly controlQueue: number;
  readonly queueSize: number;
  readonly statusAfterDriverOk: number;
  /** Eventfd count of MSI-X vector 1 (the control queue's) after the kick; vector 0 (config) stays 0. */
  readonly msixQueueCount: string;
  readonly msixConfigCount: string;
  readonly interruptMs: number;
  readonly usedLen: number;
  readonly sessionStatus: number;
  readonly sessionId: string;
}

const QUEUE_SIZE = 16;
const KEY = new Uint8Array([...Array(16).keys()].map((i) => 0x10 + i));

/** Waits until the eventfd is readable (through the reactor) or the timeout passes; `kick` runs once waiting. */
async function waitForInterrupt(
  efd: EventFd,
  kick: () => void,
  timeoutMs: number,
): Promise<{ count: bigint; ms: number }> {
  using reactor = new Reactor();
  let count = 0n;
  const t0 = performance.now();
  reactor.add(efd.fd, EPOLLIN, () => {
    count += efd.consume();
    reactor.stop();
  });
  const running = reactor.run();
  const timer = setTimeout(() => reactor.stop(), timeoutMs);
  try {
    kick();
    await running;
  } finally {
    clearTimeout(timer);
  }
  return { count, ms: Math.round(performance.now() - t0) };
}

/** The device's virtio-crypto config: `max_dataqueues` names the control queue (the one after the data queues). */
function readCryptoConfig(transport: VirtioPciTransport): { maxDataqueues: number; ready: boolean } {
  const bytes = new Uint8Array(Layout.CONFIG);
  transport.readDeviceConfig(0, bytes);
  const config = decodeConfig(bytes);
  return { maxDataqueues: config.maxDataqueues, ready: (config.status & 1) !== 0 };
}

/** Writes the control request, key and answer buffer after the rings and queues the chain. */
function queueCreateSession(queue: DriverQueue<string>, mem: RegionGuestMemory, base: number): number {
  const request = encodeCtrlRequest({
    kind: "cipher-session",
    header: { opcode: Opcode.CIPHER_CREATE_SESSION, algo: CipherAlgo.AES_CBC, flag: 0, reserved: 0 },
    flf: { algo: CipherAlgo.AES_CBC, keyLen: KEY.length, op: CryptoOpDirection.ENCRYPT },
  }, "legacy");
  const keyAt = base + 256;
  const inputAt = base + 512;
  mem.write(base, request);
  mem.write(keyAt, KEY);
  queue.add(
    {
      out: [{ gpa: base, len: request.length }, { gpa: keyAt, len: KEY.length }],
      in: [{ gpa: inputAt, len: Layout.CREATE_SESSION_INPUT }],
    },
    {},
    "create-session",
  );
  queue.publish();
  return inputAt;
}

/** A started device: what `startDevice` set up. */
interface Started {
  readonly negotiated: bigint;
  readonly maxDataqueues: number;
  readonly vectors: MsixVectors;
  readonly controlQueue: number;
  readonly size: number;
  readonly mem: RegionGuestMemory;
  readonly queue: DriverQueue<string>;
  readonly ringsEnd: number;
  readonly status: number;
}

/** Feature negotiation, MSI-X, bus mastering and the control queue, up to DRIVER_OK. */
function startDevice(session: VfioSession, transport: VirtioPciTransport, dma: DmaBuffer): Started {
  transport.reset();
  transport.addStatus(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER);
  const negotiated = transport.negotiate(
    featureMask(VIRTIO_F_VERSION_1) | featureMask(VIRTIO_F_ACCESS_PLATFORM),
  );
  const { maxDataqueues, ready } = readCryptoConfig(transport);
  if (!ready) throw new Error("virtio-crypto config status lacks HW_READY");
  const vectors = MsixVectors.enable(session.device, 2);
  session.device.enableBusMaster();
  transport.setConfigVector(0);
  const controlQueue = maxDataqueues;
  const size = Math.min(QUEUE_SIZE, transport.maxQueueSize(controlQueue));
  const layout = splitRingLayout(dma.iova, size);
  const mem = new RegionGuestMemory([{
    gpa: dma.iova,
    size: dma.size,
    frontendVa: 0,
    bytes: dma.bytes,
    address: dma.address,
  }]);
  const queue = new DriverQueue<string>(mem, { size, ...layout });
  transport.setupQueue(controlQueue, {
    size,
    desc: layout.desc,
    avail: layout.avail,
    used: layout.used,
    vector: 1,
  });
  const status = transport.driverOk();
  return { negotiated, maxDataqueues, vectors, controlQueue, size, mem, queue, ringsEnd: layout.end, status };
}

/** What one control request through the started device gave. */
interface Exchange {
  readonly irq: { count: bigint; ms: number };
  readonly usedLen: number;
  readonly status: number;
  readonly sessionId: bigint;
}

/** Queues CREATE_SESSION, kicks, waits for MSI-X vector 1 and reads the answer from the used ring. */
async function createSession(transport: VirtioPciTransport, started: Started): Promise<Exchange> {
  const inputAt = queueCreateSession(started.queue, started.mem, Math.ceil(started.ringsEnd / 64) * 64);
  const kick = (): void => transport.notify(started.controlQueue);
  const irq = await waitForInterrupt(started.vectors.eventfd(1), kick, 20_000);
  if (irq.count === 0n) throw new Error("MSI-X vector 1 did not fire within 20 s of the kick");
  const used = started.queue.pollUsed();
  if (used === null) throw new Error("the interrupt fired but the used ring is empty");
  const answer = new Uint8Array(Layout.CREATE_SESSION_INPUT);
  started.mem.read(inputAt, answer);
  const input = decodeCreateSessionInput(answer);
  if (input.status !== Status.OK) throw new Error(`CREATE_SESSION answered status ${input.status}`);
  return { irq, usedLen: used.len, status: input.status, sessionId: input.sessionId };
}

/**
 * Opens the function through VFIO and runs one control request through the device.
 *
 * @param bdf The function, bound to vfio-pci.
 * @returns What happened.
 * @throws Error when a step does not give the expected answer.
 */
export async function runVirtioSession(bdf: string): Promise<SessionReport> {
  using session = VfioSession.open(bdf);
  const deviceReset = session.device.reset();
  const probe = session.dma.allocate(4096);
  session.dma.free(probe); // UNMAP_DMA must give back exactly the mapped size
  const dma = session.dma.allocate(64 * 1024);
  using transport = VirtioPciTransport.open(session.device);
  const features = transport.deviceFeatures();
  const version1 = (features & featureMask(VIRTIO_F_VERSION_1)) !== 0n;
  if (!version1) throw new Error(`device_feature 0x${features.toString(16)} lacks VERSION_1 (bit 32)`);
  const started = startDevice(session, transport, dma);
  using vectors = started.vectors;
  try {
    const x = await createSession(transport, started);
    return {
      path: session.path,
      probeIova: probe.iova,
      probeUnmapped: !probe.isMapped,
      deviceReset,
      dmaIova: dma.iova,
      dmaSize: dma.size,
      deviceFeatures: `0x${features.toString(16)}`,
      version1,
      negotiated: `0x${started.negotiated.toString(16)}`,
      numQueues: transport.numQueues,
      maxDataqueues: started.maxDataqueues,
      controlQueue: started.controlQueue,
      queueSize: started.size,
      statusAfterDriverOk: started.status,
      msixQueueCount: x.irq.count.toString(),
      msixConfigCount: vectors.eventfd(0).consume().toString(),
      interruptMs: x.irq.ms,
      usedLen: x.usedLen,
      sessionStatus: x.status,
      sessionId: x.sessionId.toString(),
    };
  } finally {
    // Stop the device before its DMA memory and vectors go (the `using`s release them after this).
    transport.reset();
    session.device.disableBusMaster();
  }
}
