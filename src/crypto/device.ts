/**
 * `CryptoDevice`: the virtio-crypto device (virtio device id 20), served over vhost-user as a `Backend`.
 *
 * Vrings 0..n-1 are data queues; vring n is the control queue, used only by a front-end that hands it over (QEMU
 * keeps it and sends sessions as messages 26/27 instead, interop.md §1.1). Feature bits decide the wire layout:
 * legacy padded unless REVISION_1 is acknowledged, stateless requests only for the services whose stateless bit is
 * acknowledged. QEMU acknowledges none (interop.md §1.5), so it always gets the legacy layout Linux uses.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { CryptoEngine, EngineSession } from "../engine/engine.ts";
import type { GuestMemory } from "../memory/mod.ts";
import type { Backend, VringHandle } from "../vhost_user/backend.ts";
import { RateLimitedLog, type RateLimitOptions } from "../log/mod.ts";
import {
  DescriptorChain,
  VIRTIO_F_VERSION_1,
  VIRTIO_RING_F_EVENT_IDX,
  VIRTIO_RING_F_INDIRECT_DESC,
} from "../virtio/mod.ts";
import { CryptoFeature, Service } from "../spec/virtio_crypto.ts";
import { buildCryptoConfig } from "./device_config.ts";
import type { CryptoConfig } from "./config.ts";
import { ControlQueue } from "./control_queue.ts";
import { DataQueue, InflightBudget } from "./data_queue.ts";
import type { DataRequest } from "./data_request.ts";
import type { DataLimits } from "./data_vlf.ts";
import type { ParserContext } from "./request.ts";
import { paramsFromStateless, SessionParamsError } from "./session_params.ts";
import { SessionManager } from "./sessions.ts";
import { DeviceStats } from "./stats.ts";
import { handleSessionMessage } from "./vhost_messages.ts";
import type { WireLayout } from "./wire.ts";

const log = getLogger(["cryptobridge", "crypto"]);

/** Options of a device. */
export interface CryptoDeviceOptions {
  /** The engine (the router in production). */
  readonly engine: CryptoEngine;
  /** Data queues (QEMU `queues=`; Linux uses only the first). Default 1. */
  readonly dataQueues?: number;
  /** Session limit (NOSPC past it). Default 1024 (DPDK's table size). */
  readonly maxSessions?: number;
  /** Largest queue size accepted (QEMU uses 1024). Default 1024. */
  readonly maxQueueSize?: number;
  /** `max_size`: most payload bytes in one request. Default 16 MiB. */
  readonly maxSize?: number;
  /** Offer REVISION_1 and the stateless modes (a front-end may then negotiate them). Default true. */
  readonly offerRevision1?: boolean;
  /** Rate limits of the lines the guest and the front-end can cause (defaults of `RateLimitedLog`). */
  readonly logLimits?: RateLimitOptions;
  /** Requests in flight at once over all data queues (asynchronous engines); the rest wait. Default 1024. */
  readonly maxInflight?: number;
}

/** Largest key lengths the device accepts: QEMU's vhost-user limits (interop.md §1.5). */
const KEY_LIMITS = { maxCipherKeyLen: 64, maxAuthKeyLen: 512, maxAkcipherKeyLen: 1024 } as const;

/** The virtio-crypto device. */
export class CryptoDevice implements Backend {
  readonly numQueues: number;
  readonly numDataQueues: number;
  readonly maxQueueSize: number;
  readonly features: bigint;
  readonly protocolFeatures: bigint = 1n << 7n; // VHOST_USER_PROTOCOL_F_CRYPTO_SESSION
  /** Request counters. */
  readonly stats: DeviceStats;
  readonly #engine: CryptoEngine;
  readonly #sessions: SessionManager;
  readonly #limits: DataLimits;
  readonly #data: DataQueue[];
  readonly #control: ControlQueue;
  readonly #ctrlChain: DescriptorChain;
  readonly #budget: InflightBudget;
  #acked = 0n;

  /** @param options Engine, queues and limits. */
  constructor(options: CryptoDeviceOptions) {
    this.#engine = options.engine;
    this.stats = new DeviceStats(new RateLimitedLog(options.logLimits));
    this.numDataQueues = checkCount("data queues", options.dataQueues ?? 1, 1, 64);
    this.numQueues = this.numDataQueues + 1;
    this.maxQueueSize = options.maxQueueSize ?? 1024;
    this.#sessions = new SessionManager(
      options.engine,
      checkCount("sessions", options.maxSessions ?? 1024, 1, 1 << 24),
      this.stats.log,
    );
    this.#limits = { ...KEY_LIMITS, maxSize: options.maxSize ?? 16 << 20 };
    this.features = offeredFeatures(options.offerRevision1 ?? true, options.engine);
    const ctx = this.#parserContext();
    this.#budget = new InflightBudget(
      checkCount("requests in flight", options.maxInflight ?? 1024, 1, 1 << 20),
    );
    this.#data = Array.from(
      { length: this.numDataQueues },
      () => new DataQueue(options.engine, ctx, this.maxQueueSize, this.stats, this.#budget),
    );
    this.#control = new ControlQueue(this.#sessions, KEY_LIMITS);
    this.#ctrlChain = new DescriptorChain(this.maxQueueSize);
  }

  /** The wire layout the front-end negotiated. */
  get layout(): WireLayout {
    return (this.#acked & (1n << BigInt(CryptoFeature.REVISION_1))) !== 0n ? "revision1" : "legacy";
  }

  /** The sessions (metrics, tests). */
  get sessions(): SessionManager {
    return this.#sessions;
  }

  /** The config space this device describes (what a transport that owns config space would expose). */
  config(): CryptoConfig {
    return buildCryptoConfig(this.#engine.capabilities(), {
      maxDataQueues: this.numDataQueues,
      maxSize: this.#limits.maxSize,
    });
  }

  /** The VM's rate-limited log, shared with the vhost-user server (`Backend.logLimit`). */
  get logLimit(): RateLimitedLog {
    return this.stats.log;
  }

  setFeatures(features: bigint): void {
    this.#acked = features;
  }

  processQueue(vring: VringHandle): void {
    if (vring.index < this.numDataQueues) return this.#data[vring.index]!.serve(vring);
    this.#serveControl(vring);
  }

  inflight(vring: VringHandle): number {
    return this.#data[vring.index]?.inflight ?? 0;
  }

  /** Requests in flight over all data queues. */
  get inflightTotal(): number {
    return this.#budget.used;
  }

  handleDeviceRequest(request: number, payload: Uint8Array): Uint8Array | null {
    return handleSessionMessage(this.#sessions, request, payload);
  }

  // The engine maps guest RAM for DMA when it has an accelerator (design.md decision 4).
  setMemory(memory: GuestMemory): void {
    this.#engine.setGuestMemory?.(memory.regions);
  }

  reset(): void {
    const open = this.#sessions.table.size;
    this.#sessions.closeAll();
    this.#acked = 0n;
    if (open > 0) {
      this.stats.log.info(log, "device-reset", "device reset: closed {open} sessions (keys zeroed)", {
        open,
      });
    }
  }

  #serveControl(vring: VringHandle): void {
    const mem = vring.memory;
    const chain = this.#ctrlChain;
    try {
      while (vring.queue.popChain(mem, chain)) {
        vring.queue.addUsed(mem, chain.head, this.#control.serve(mem, chain, this.layout));
      }
    } finally {
      vring.flush();
    }
  }

  #parserContext(): ParserContext {
    return {
      layout: () => this.layout,
      limits: this.#limits,
      session: (id) => this.#sessions.table.get(id),
      statelessAllowed: (service) => this.#statelessAcked(service),
      statelessSession: (req, key, authKey) => this.#statelessSession(req, key, authKey),
    };
  }

  #statelessAcked(service: number): boolean {
    const bit = STATELESS_BIT[service];
    return bit !== undefined && (this.#acked & (1n << BigInt(bit))) !== 0n;
  }

  #statelessSession(req: DataRequest, key: Uint8Array, authKey: Uint8Array): EngineSession | number {
    try {
      // Copies: the parser zeroes its key buffers right after this call, the manager zeroes these.
      return this.#sessions.createTemporary(
        paramsFromStateless(req, { key: key.slice(), authKey: authKey.slice() }),
      );
    } catch (e) {
      if (e instanceof SessionParamsError) return e.status;
      throw e;
    }
  }
}

const STATELESS_BIT: Record<number, number> = {
  [Service.CIPHER]: CryptoFeature.CIPHER_STATELESS_MODE,
  [Service.HASH]: CryptoFeature.HASH_STATELESS_MODE,
  [Service.MAC]: CryptoFeature.MAC_STATELESS_MODE,
  [Service.AEAD]: CryptoFeature.AEAD_STATELESS_MODE,
  [Service.AKCIPHER]: CryptoFeature.AKCIPHER_STATELESS_MODE,
};

function offeredFeatures(revision1: boolean, engine: CryptoEngine): bigint {
  let f = (1n << BigInt(VIRTIO_F_VERSION_1)) | (1n << BigInt(VIRTIO_RING_F_INDIRECT_DESC)) |
    (1n << BigInt(VIRTIO_RING_F_EVENT_IDX));
  if (!revision1) return f;
  f |= 1n << BigInt(CryptoFeature.REVISION_1);
  const caps = engine.capabilities();
  const services: [number, boolean][] = [
    [Service.CIPHER, caps.cipher.size > 0],
    [Service.HASH, caps.hash.size > 0],
    [Service.MAC, caps.mac.size > 0],
    [Service.AEAD, caps.aead.size > 0],
    [Service.AKCIPHER, caps.akcipher.size > 0],
  ];
  for (const [service, offered] of services) if (offered) f |= 1n << BigInt(STATELESS_BIT[service]!);
  return f;
}

function checkCount(what: string, v: number, min: number, max: number): number {
  if (!Number.isSafeInteger(v) || v < min || v > max) {
    throw new RangeError(`Cannot create device: ${what} must be in ${min}..${max}: current value is ${v}`);
  }
  return v;
}
