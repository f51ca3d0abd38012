/**
 * The QAT engine's options with their defaults, its counters, and what it claims.
 *
 * @module
 */

import type { AlgorithmInfo, Capabilities } from "../../engine/mod.ts";
import { MAX_AUTH_KEY_LEN } from "../../engine/software/algorithms.ts";
import type { Reactor } from "../../os/mod.ts";
import { AeadAlgo, CipherAlgo, HashAlgo, MacAlgo } from "../../spec/virtio_crypto.ts";
import type { CompletionMode } from "../virtio_pci/mod.ts";
import type { RingPairShape } from "./ticket.ts";

/** Options of `QatEngine.open`. */
export interface QatEngineOptions {
  /** The reactor the interrupt eventfd joins (required for "interrupt"). */
  readonly reactor?: Reactor;
  /** Default "interrupt" with a reactor, else "poll" (as the virtio-pci engine). */
  readonly completions?: CompletionMode;
  /** Messages per ring. Default 128 (16 KiB of requests). */
  readonly entries?: number;
  /** Requests on the device at once (more wait in a backlog). Default 64. */
  readonly slots?: number;
  /** Most ranges per source or destination list. Default 16 (DPDK's `QAT_SYM_SGL_MAX_NUMBER`). */
  readonly maxSegments?: number;
  /** Bounce bytes per slot. Default 16 KiB. */
  readonly bounceBytes?: number;
  /** Sessions (content descriptors) the ring pair holds. Default 1024. */
  readonly maxSessions?: number;
  /** A request older than this means the ring stopped answering. Default 2000 ms. */
  readonly requestTimeoutMs?: number;
  /** Watchdog period while requests are in flight. Default 50 ms. */
  readonly watchdogMs?: number;
  /** Least time between restart attempts. Default 1000 ms. */
  readonly retryMs?: number;
  /** Close the port with the engine. Default true. */
  readonly ownsPort?: boolean;
}

/** The options with every default filled in (the reactor apart). */
export type ResolvedQatOptions = Required<Omit<QatEngineOptions, "reactor">>;

const DEFAULTS = {
  entries: 128,
  slots: 64,
  maxSegments: 16,
  bounceBytes: 16 * 1024,
  maxSessions: 1024,
  requestTimeoutMs: 2000,
  watchdogMs: 50,
  retryMs: 1000,
  ownsPort: true,
} as const;

/**
 * Fills in the defaults and checks the options.
 *
 * @param options The caller's options.
 * @returns Every option.
 * @throws RangeError for "interrupt" without a reactor, or slots the ring cannot hold.
 */
export function resolveQatOptions(options: QatEngineOptions): ResolvedQatOptions {
  const completions = options.completions ?? (options.reactor === undefined ? "poll" : "interrupt");
  if (completions === "interrupt" && options.reactor === undefined) {
    throw new RangeError("Cannot open the QAT in interrupt mode: no reactor was given");
  }
  const given = Object.fromEntries(
    Object.entries(options).filter(([k, v]) => v !== undefined && k !== "reactor"),
  ) as Partial<ResolvedQatOptions>;
  const resolved: ResolvedQatOptions = { ...DEFAULTS, ...given, completions };
  if (resolved.slots < 1 || resolved.slots > resolved.entries - 1) {
    throw new RangeError(
      `Cannot open the QAT: slots must be in 1..${
        resolved.entries - 1
      } for ${resolved.entries} ring entries: ` +
        `current value is ${resolved.slots}`,
    );
  }
  return resolved;
}

/**
 * The ring pair shape of the options.
 *
 * @param o Resolved options.
 * @returns The shape.
 */
export function shapeOf(o: ResolvedQatOptions): RingPairShape {
  return {
    entries: o.entries,
    slots: o.slots,
    maxSegments: o.maxSegments,
    bounceBytes: o.bounceBytes,
    maxSessions: o.maxSessions,
  };
}

/** The engine's state. */
export type QatState = "ready" | "failed" | "closed";

/** Counters of the engine (the daemon prints `state`, `failures`, `lastFailure`, `refused`). */
export interface QatStats {
  readonly state: QatState;
  /** Device incarnations (1 + restarts). */
  readonly epoch: number;
  /** Sessions open on the QAT. */
  readonly sessions: number;
  /** Requests on the device or waiting for a slot. */
  readonly inflight: number;
  /** Requests the device answered (OK or BADMSG). */
  readonly completed: number;
  /** Requests given back with ENGINE_FAILED after submission (error bit, failure, timeout). */
  readonly failed: number;
  /** Requests answered ENGINE_FAILED at once (outside what the hardware path covers). */
  readonly declined: number;
  /** Requests whose buffers went through bounce memory. */
  readonly bounced: number;
  /** TX tail writes. */
  readonly doorbells: number;
  /** Interrupts taken. */
  readonly interrupts: number;
  /** Device failures seen. */
  readonly failures: number;
  readonly lastFailure: string | null;
  /** Claims refused when probed (none: the QAT path has no probe; kept for the daemon's report). */
  readonly refused: readonly string[];
  /** The services of the VF's bundles, as the PF said. */
  readonly services: readonly string[];
  /** Ring pairs the engine drives now: 1 while ready, 0 while the device is down (one thread, one pair). */
  readonly ringPairs: number;
}

const AES_KEYS = [16, 24, 32];

/**
 * What the QAT path claims (issue 11): AES-CBC/CTR, SHA-256, HMAC-SHA-256 (any key: longer ones are hashed
 * first), AES-GCM, and chaining.
 *
 * @param source Where the claims come from, for the capability table.
 * @returns The capabilities.
 */
export function qatCapabilities(source: string): Capabilities {
  const info = (name: string, keyLengths: readonly number[]): AlgorithmInfo => ({ name, keyLengths, source });
  const hmacKeys = Array.from({ length: MAX_AUTH_KEY_LEN + 1 }, (_, i) => i);
  return {
    cipher: new Map([[CipherAlgo.AES_CBC, info("AES-CBC", AES_KEYS)], [
      CipherAlgo.AES_CTR,
      info("AES-CTR", AES_KEYS),
    ]]),
    hash: new Map([[HashAlgo.SHA_256, info("SHA256", [])]]),
    mac: new Map([[MacAlgo.HMAC_SHA_256, info("HMAC-SHA256", hmacKeys)]]),
    aead: new Map([[AeadAlgo.GCM, info("AES-GCM", AES_KEYS)]]),
    akcipher: new Map(),
    chaining: true,
    maxCipherKeyLen: 32,
    maxAuthKeyLen: MAX_AUTH_KEY_LEN,
  };
}
