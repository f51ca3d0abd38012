/**
 * The accelerator engine's options, counters, and the pure decisions made from them: the data queue's shape from
 * what the device offers, and the "same parameters" key a refused session is compared by.
 *
 * @module
 */

import type { SessionParams } from "../../engine/mod.ts";
import type { Reactor } from "../../os/mod.ts";
import { hasFeature, VIRTIO_RING_F_INDIRECT_DESC } from "../../virtio/mod.ts";
import type { DataPathOptions } from "./data_path.ts";
import type { Handshake } from "./start.ts";

/** How completions are noticed. */
export type CompletionMode =
  /** MSI-X: the data queue's vector is an eventfd in the reactor (the daemon's default). */
  | "interrupt"
  /** The engine polls the used ring (`setImmediate`) while requests are in flight: one busy core, less latency. */
  | "poll"
  /** The caller polls (`poll()`), and every `submit` notifies at once (tests that wait synchronously). */
  | "caller";

/** Options of `VirtioPciEngine.open`. */
export interface VirtioPciEngineOptions {
  /** The reactor MSI-X eventfds join (required for "interrupt"). */
  readonly reactor?: Reactor;
  /** Default "interrupt" with a reactor, else "poll". */
  readonly completions?: CompletionMode;
  /** Data queues to use (one per VM while there are enough); the device's `max_dataqueues` bounds it. Default all. */
  readonly queues?: number;
  /** Data queue size (a power of 2; the device's maximum bounds it). Default 256. */
  readonly queueSize?: number;
  /** Requests on the device at once (more wait in a backlog). Default 64. */
  readonly slots?: number;
  /** Bounce bytes per request, for memory the device cannot reach. Default 16 KiB. */
  readonly bounceBytes?: number;
  /** Most descriptors per request. Default 64. */
  readonly maxSegments?: number;
  /** A request older than this means a hung device. Default 2000 ms. */
  readonly requestTimeoutMs?: number;
  /** A control request older than this means a hung device. Default 1000 ms. */
  readonly controlTimeoutMs?: number;
  /** Watchdog period while requests are in flight. Default 50 ms. */
  readonly watchdogMs?: number;
  /** Least time between restart attempts after a failure. Default 1000 ms. */
  readonly retryMs?: number;
  /** Create and destroy one session per advertised claim at start, and drop what the device refuses. Default true. */
  readonly probe?: boolean;
  /** Close the port with the engine. Default true. */
  readonly ownsPort?: boolean;
}

/** The options with every default filled in (the reactor apart). */
export type ResolvedOptions = Required<Omit<VirtioPciEngineOptions, "reactor">>;

/** The engine's state. */
export type EngineState = "ready" | "failed" | "closed";

/** Counters of the engine. */
export interface VirtioPciStats {
  /** Where the engine is. */
  readonly state: EngineState;
  /** Device incarnations started (1 + restarts). */
  readonly epoch: number;
  /** Sessions open on the device. */
  readonly sessions: number;
  /** Requests on the device or waiting for a slot now. */
  readonly inflight: number;
  /** Requests the device completed (OK or BADMSG). */
  readonly completed: number;
  /** Requests given back with ENGINE_FAILED after submission (device failure, or the device could not do them). */
  readonly failed: number;
  /** Requests answered ENGINE_FAILED at once (they did not fit a slot or the device's `max_size`). */
  readonly declined: number;
  /** Requests that went through bounce buffers (memory the device cannot reach) instead of zero copy. */
  readonly bounced: number;
  /** Device failures seen. */
  readonly failures: number;
  /** The last failure's reason. */
  readonly lastFailure: string | null;
  /** Claims the device advertised and refused when probed (`AES-CBC/16`, `SHA1`). */
  readonly refused: readonly string[];
}

const DEFAULTS = {
  queues: 64,
  queueSize: 256,
  slots: 64,
  bounceBytes: 16 * 1024,
  maxSegments: 64,
  requestTimeoutMs: 2000,
  controlTimeoutMs: 1000,
  watchdogMs: 50,
  retryMs: 1000,
  probe: true,
  ownsPort: true,
} as const;

/**
 * Fills in the defaults and checks the options.
 *
 * @param options The caller's options.
 * @returns Every option.
 * @throws RangeError for "interrupt" without a reactor, or a queue size that is not a power of 2.
 */
export function resolveOptions(options: VirtioPciEngineOptions): ResolvedOptions {
  const completions = options.completions ?? (options.reactor === undefined ? "poll" : "interrupt");
  const given = Object.fromEntries(
    Object.entries(options).filter(([k, v]) => v !== undefined && k !== "reactor"),
  ) as Partial<ResolvedOptions>;
  const resolved: ResolvedOptions = { ...DEFAULTS, ...given, completions };
  const q = resolved.queueSize;
  if (!Number.isInteger(Math.log2(q)) || q < 2 || q > 32768) {
    throw new RangeError(
      `Cannot open the accelerator: queue size must be a power of 2: current value is ${q}`,
    );
  }
  return resolved;
}

/** The data queue's shape and the control queue's size for a device. */
export interface QueueShape {
  /** Data queue 0's shape; queue i has the same with `index` i. */
  readonly data: Omit<DataPathOptions, "vector">;
  /** Data queues in use. */
  readonly dataQueues: number;
  readonly controlSize: number;
}

/**
 * The queue shapes: the smaller of the wanted and offered sizes, indirect tables when offered, one slot per ring
 * head at most, and the device's `max_size`.
 *
 * @param h What the handshake found.
 * @param o The options.
 * @returns The shapes.
 */
export function queueShape(h: Handshake, o: ResolvedOptions): QueueShape {
  const size = Math.min(o.queueSize, h.dataMax);
  const indirect = hasFeature(h.features, VIRTIO_RING_F_INDIRECT_DESC);
  return {
    data: {
      index: 0,
      size,
      indirect,
      slots: Math.min(o.slots, size),
      bounceBytes: o.bounceBytes,
      maxSegments: indirect ? o.maxSegments : Math.min(o.maxSegments, size),
      maxSize: Math.min(Number(h.config.maxSize), Number.MAX_SAFE_INTEGER),
    },
    dataQueues: Math.max(1, Math.min(o.queues, h.config.maxDataqueues, 64)),
    controlSize: Math.min(16, h.controlMax),
  };
}

/**
 * What makes two sessions "the same parameters" for a device's session table: service, algorithm, key length.
 *
 * @param params A session.
 * @returns A key such as `cipher/3/16`.
 */
export function sessionSignature(params: SessionParams): string {
  switch (params.service) {
    case "cipher":
    case "mac":
    case "aead":
      return `${params.service}/${params.algo}/${params.key.length}`;
    case "hash":
    case "akcipher":
      return `${params.service}/${params.algo}`;
    case "chain":
      return `chain/${params.cipher.algo}/${params.cipher.key.length}/${params.auth.hashMode}/${params.auth.algo}`;
  }
}
