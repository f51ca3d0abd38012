/**
 * Test fixture: `FakeVirtioCrypto`, a virtio-crypto PCI function in TypeScript that implements the engine's
 * `VirtioPciPort`, so `VirtioPciEngine` runs on the host without VFIO.
 *
 * Why it exists: the real device (QEMU's virtio-crypto-pci behind VFIO) only exists in the tier-4 guest, where a
 * run costs a boot. This model lets the host tests cover the engine's logic: the virtio-pci status handshake and
 * feature negotiation, queues in "DMA memory" addressed by IOVA, indirect descriptors, MSI-X as real eventfds,
 * and device failures on demand. The device side is the bridge's own `CryptoDevice` (control and data queue
 * parsing, the legacy layout) over `SplitQueue`s in the IOVA space, with the OpenSSL software engine doing the
 * cryptography, filtered to behave like QEMU's built-in back-end by default: AES-CBC and SHA-1 advertised, cipher
 * sessions only, a full table of 256 answered with ERR.
 *
 * DMA: `allocate` gives page-multiple off-heap buffers at IOVAs from a real `IovaAllocator` (placed high);
 * `mapFixed` wraps the caller's memory at its address (zero-copy, through `UnsafePointerView`), as VFIO would pin it.
 *
 * @module
 */

import { CryptoDevice } from "../../src/crypto/device.ts";
import { ModelEngine } from "./_fake_model_engine.ts";
import { CipherAlgo, HashAlgo } from "../../src/spec/virtio_crypto.ts";
import { configMasks, type CryptoConfig, encodeConfig } from "../../src/crypto/mod.ts";
import { allocHostMemory, type SessionParams } from "../../src/engine/mod.ts";
import { type GuestRegion, RegionGuestMemory } from "../../src/memory/mod.ts";
import { EPOLLIN, EventFd, type Reactor } from "../../src/os/mod.ts";
import { IovaAllocator } from "../../src/vfio/mod.ts";
import { dmaError } from "../../src/vfio/container.ts";
import { Errno, ErrnoError } from "../../src/os/mod.ts";
import {
  featureMask,
  SplitQueue,
  VIRTIO_F_ACCESS_PLATFORM,
  VIRTIO_F_VERSION_1,
  VIRTIO_RING_F_INDIRECT_DESC,
} from "../../src/virtio/mod.ts";
import type { VringHandle } from "../../src/vhost_user/backend.ts";
import {
  DeviceStatus,
  type DmaArea,
  type DmaPort,
  type DoorbellTicket,
  type MsixPort,
  type QueueSetup,
  VIRTIO_MSI_NO_VECTOR,
  type VirtioPciPort,
  type VirtioTransportPort,
} from "../../src/accel/virtio_pci/mod.ts";

/** How the model behaves. */
export interface FakeOptions {
  /** Advertised cipher ids. Default AES-CBC. */
  readonly cipher?: readonly number[];
  /** Advertised hash ids. Default SHA-1. */
  readonly hash?: readonly number[];
  /** Advertised MAC ids. Default none. */
  readonly mac?: readonly number[];
  /** Advertised AEAD ids. Default none. */
  readonly aead?: readonly number[];
  /** Services it really creates sessions for. Default cipher only (QEMU's built-in back-end). */
  readonly serves?: readonly SessionParams["service"][];
  /** Sessions it holds; one more is answered ERR. Default 256. */
  readonly maxSessions?: number;
  /** Offer VIRTIO_F_INDIRECT_DESC. Default true. */
  readonly indirect?: boolean;
  /** Data queues (`max_dataqueues`; QEMU's `queues=`). Default 1. */
  readonly dataQueues?: number;
  /**
   * When data requests are served: "timer" (default: a timer after each notification, like QEMU's bottom half),
   * "inline" (inside the notification: for tests that wait synchronously), "manual" (only at `process()`).
   */
  readonly serve?: "timer" | "inline" | "manual";
  /**
   * Bytes `mapFixed` may pin in all, as RLIMIT_MEMLOCK bounds what VFIO pins: a mapping past it fails as VFIO's
   * does (ENOMEM). Default unlimited.
   */
  readonly pinLimit?: number;
  /**
   * A wrong-answer device: sessions this picks get their first output byte flipped (the digest or tag when the
   * request has one, else the destination), with status OK, as a faulty engine would answer. Default none.
   */
  readonly corrupt?: (params: SessionParams) => boolean;
}

const X86_RANGES = [{ start: 0, end: 0xfedf_ffff }, { start: 0xfef0_0000, end: 0x7f_ffff_ffff }];

interface ModelQueue {
  readonly queue: SplitQueue;
  readonly vector: number;
}

/** A fake virtio-crypto PCI function. */
export class FakeVirtioCrypto implements VirtioPciPort, VirtioTransportPort, DmaPort {
  readonly name = "fake:00.0";
  readonly transport: VirtioTransportPort = this;
  readonly dma: DmaPort = this;
  /** Notifications per queue (data queues first, the control queue last). */
  readonly notifications: number[];
  /** Whether the port was closed. */
  closed = false;
  readonly #options: Required<FakeOptions>;
  readonly #iovas = new IovaAllocator(X86_RANGES);
  readonly #regions = new Map<number, GuestRegion>();
  #memory = new RegionGuestMemory([]);
  #status = 0;
  #features = 0n;
  #vanished = false;
  #hung = false;
  #generation = 0;
  #queues = new Map<number, ModelQueue>();
  #vectors: EventFd[] = [];
  readonly #doorbells: { bell: EventFd; reactor: Reactor; token: number }[] = [];
  #device: CryptoDevice;
  #engine: ModelEngine;

  /** @param options Behaviour. */
  constructor(options: FakeOptions = {}) {
    this.#options = {
      cipher: [CipherAlgo.AES_CBC],
      hash: [HashAlgo.SHA1],
      mac: [],
      aead: [],
      serves: ["cipher"],
      maxSessions: 256,
      indirect: true,
      serve: "timer",
      pinLimit: Infinity,
      dataQueues: 1,
      corrupt: () => false,
      ...options,
    };
    this.notifications = new Array(this.#options.dataQueues + 1).fill(0);
    this.#engine = new ModelEngine(this.#options.serves, this.#options.maxSessions, this.#options.corrupt);
    this.#device = this.#newDevice();
  }

  #newDevice(): CryptoDevice {
    return new CryptoDevice({
      engine: this.#engine,
      maxSessions: 1 << 16,
      offerRevision1: false,
      dataQueues: this.#options.dataQueues,
    });
  }

  // --- VirtioTransportPort ---

  get status(): number {
    return this.#vanished ? 0xff : this.#status;
  }

  reset(): void {
    this.#status = 0;
    this.#features = 0n;
    this.#queues = new Map();
    this.#generation++; // scheduled processing is dropped
    this.#device.reset();
  }

  addStatus(bits: number): number {
    this.#status |= bits;
    return this.status;
  }

  negotiate(wanted: bigint): bigint {
    this.#features = this.#offered() & wanted;
    if ((this.#features & featureMask(VIRTIO_F_VERSION_1)) === 0n) {
      throw new Error("fake: VERSION_1 not taken");
    }
    return this.#features;
  }

  #offered(): bigint {
    const indirect = this.#options.indirect ? featureMask(VIRTIO_RING_F_INDIRECT_DESC) : 0n;
    return featureMask(VIRTIO_F_VERSION_1) | featureMask(VIRTIO_F_ACCESS_PLATFORM) | indirect;
  }

  readDeviceConfig(offset: number, target: Uint8Array): void {
    const config = encodeConfig(this.config());
    target.set(config.subarray(offset, offset + target.length));
  }

  /** The advertised configuration. */
  config(): CryptoConfig {
    const o = this.#options;
    return {
      status: 1,
      maxDataqueues: o.dataQueues,
      ...configMasks({ cipher: o.cipher, hash: o.hash, mac: o.mac, aead: o.aead }),
      maxCipherKeyLen: 64,
      maxAuthKeyLen: 512,
      maxSize: 0x7fff_ffff_ffff_ffffn,
    };
  }

  setConfigVector(_vector: number): void {}

  maxQueueSize(index: number): number {
    const n = this.#options.dataQueues;
    return index < n ? 1024 : index === n ? 64 : 0;
  }

  setupQueue(index: number, setup: QueueSetup): void {
    const queue = new SplitQueue(setup.size);
    queue.setAddresses({ desc: setup.desc, avail: setup.avail, used: setup.used });
    queue.setReady(true);
    this.#queues.set(index, { queue, vector: setup.vector });
  }

  driverOk(): number {
    return this.addStatus(DeviceStatus.DRIVER_OK);
  }

  notify(index: number): void {
    this.notifications[index] = (this.notifications[index] ?? 0) + 1;
    if (this.#vanished || (this.#status & DeviceStatus.DRIVER_OK) === 0) return; // QEMU ignores it too
    // QEMU answers control requests inside the register write.
    if (index === this.#options.dataQueues) return this.#process(index);
    if (this.#options.serve === "manual" || this.#hung) return;
    if (this.#options.serve === "inline") return this.#process(index);
    const generation = this.#generation;
    setTimeout(() => {
      if (generation === this.#generation) this.#process(index);
    }, 0);
  }

  // --- DmaPort ---

  allocate(size: number): DmaArea {
    const memory = allocHostMemory(size);
    const iova = this.#iovas.allocate(size, "high");
    const area: DmaArea = { iova, size, bytes: memory.bytes, address: memory.address };
    this.#addRegion(iova, memory.bytes, memory.address);
    return area;
  }

  free(area: DmaArea): void {
    this.#regions.delete(area.iova);
    this.#iovas.free(area.iova, area.size);
    this.#rebuild();
  }

  /** Bytes pinned by `mapFixed` now. */
  pinned = 0;

  mapFixed(address: bigint, iova: number, size: number): void {
    if (this.pinned + size > this.#options.pinLimit) {
      throw dmaError(new ErrnoError(Errno.ENOMEM, "ioctl(VFIO_IOMMU_MAP_DMA)"), `map 0x${iova.toString(16)}`);
    }
    this.pinned += size;
    this.#iovas.reserve(iova, size);
    const pointer = Deno.UnsafePointer.create(address)!;
    const bytes = new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(pointer, size));
    this.#addRegion(iova, bytes, address);
    this.#fixed.add(iova);
  }

  readonly #fixed = new Set<number>();

  mapAnywhere(address: bigint, size: number, preferred: number): number {
    try {
      this.mapFixed(address, preferred, size);
      return preferred;
    } catch {
      const iova = this.#iovas.allocate(size, "low");
      this.#iovas.free(iova, size);
      this.mapFixed(address, iova, size);
      return iova;
    }
  }

  unmapFixed(iova: number): void {
    const r = this.#regions.get(iova);
    if (r === undefined) return;
    if (this.#fixed.delete(iova)) this.pinned -= r.size;
    this.#regions.delete(iova);
    this.#iovas.free(iova, r.size);
    this.#rebuild();
  }

  /** IOVA ranges mapped with `mapFixed` or `allocate`, as `[iova, size]`. */
  get mappings(): [number, number][] {
    return [...this.#regions.values()].map((r) => [r.gpa, r.size]);
  }

  #addRegion(iova: number, bytes: Uint8Array, address: bigint): void {
    this.#regions.set(iova, { gpa: iova, size: bytes.length, frontendVa: iova, bytes, address });
    this.#rebuild();
  }

  #rebuild(): void {
    this.#memory = new RegionGuestMemory([...this.#regions.values()], this.#memory.generation + 1);
  }

  // --- the rest of VirtioPciPort ---

  enableMsix(count: number): MsixPort {
    this.#vectors = Array.from({ length: count }, () => new EventFd());
    const vectors = this.#vectors;
    return {
      eventfd: (v) => vectors[v]!,
      close: () => {
        for (const e of vectors) e.close();
      },
    };
  }

  setBusMaster(_on: boolean): void {}

  /**
   * A doorbell another thread can ring: an eventfd this model watches in `reactor` (a real device's is its notify
   * register), or, without a reactor, a direct call.
   */
  doorbell(index: number, reactor: Reactor | null): DoorbellTicket {
    if (reactor === null) return { kind: "local", ring: () => this.notify(index) };
    const bell = new EventFd();
    const token = reactor.add(bell.fd, EPOLLIN, () => {
      bell.consume();
      this.notify(index);
    });
    this.#doorbells.push({ bell, reactor, token });
    return { kind: "eventfd", fd: bell.fd };
  }

  readStatus(): number {
    return this.status;
  }

  injectReset(): void {
    this.reset();
  }

  close(): void {
    this.closed = true;
    for (const d of this.#doorbells) {
      d.reactor.remove(d.token);
      d.bell.close();
    }
    this.#device.reset();
    this.#engine.close();
  }

  // --- test controls ---

  /** Serves what the data queues hold (with `serve: "manual"`, or after `hang()`). */
  process(): void {
    for (let i = 0; i < this.#options.dataQueues; i++) this.#process(i);
  }

  /** The device stops answering data requests (they stay on the ring). */
  hang(): void {
    this.#hung = true;
  }

  /** The device is gone: status reads all-ones, notifications are lost. */
  vanish(): void {
    this.#vanished = true;
  }

  /** Sets DEVICE_NEEDS_RESET, as QEMU's `virtio_error()` does, and signals the configuration vector. */
  needsReset(): void {
    this.#status |= DeviceStatus.DEVICE_NEEDS_RESET;
    this.#vectors[0]?.signal();
  }

  /** Sessions the model holds. */
  get sessions(): number {
    return this.#device.sessions.table.size;
  }

  #process(index: number): void {
    const q = this.#queues.get(index);
    if (q === undefined || this.#vanished) return;
    const vectors = this.#vectors;
    const memory = this.#memory;
    const handle: VringHandle = {
      index,
      queue: q.queue,
      memory,
      flush: () => {
        q.queue.publishUsed(memory);
        if (q.vector !== VIRTIO_MSI_NO_VECTOR && q.queue.needsNotification(memory)) {
          vectors[q.vector]?.signal();
        }
      },
    };
    this.#device.processQueue(handle);
  }
}
