/**
 * `MetricsSnapshot`: what the daemon hands the metrics registry at each scrape (plain JSON, so a VM's Worker can
 * post its part), and `LatencyHistogram`, the allocation-free recorder a VM's data path fills.
 *
 * @module
 */

/** Which engine served a request. */
export type ServedPath = "accelerator" | "software";

/** Completed requests of one kind: counters since the VM was added. */
export interface RequestCount {
  /** `cipher`, `hash`, `mac`, `aead`, `chain`, `akcipher` (SessionParams' `service`). */
  readonly service: string;
  /** The algorithm's name as the engines give it (`AES-CBC`, `HMAC-SHA256`, `AES-GCM`). */
  readonly algorithm: string;
  /** Which engine served them. */
  readonly path: ServedPath;
  /** Their virtio-crypto status: `ok`, `err`, `badmsg`, `notsupp`, `invsess`, `nospc`, `key_rejected`. */
  readonly status: string;
  /** How many. */
  readonly requests: number;
  /** Output bytes written for them. */
  readonly bytes: number;
}

/** A histogram as recorded: per-bucket (not cumulative) counts. */
export interface HistogramSnapshot {
  /** Upper bounds in seconds, ascending, finite. */
  readonly bounds: readonly number[];
  /** Observations per bucket: `counts[i]` in `(bounds[i-1], bounds[i]]`, the last one above every bound. */
  readonly counts: readonly number[];
  /** Sum of the observed values, in seconds. */
  readonly sum: number;
}

/** One VM. */
export interface VmMetrics {
  /** Its name (the `vm` label). */
  readonly name: string;
  /** Whether a front-end is connected. */
  readonly connected: boolean;
  /** Sessions open now, by the engine holding them. */
  readonly sessions: { readonly accelerator: number; readonly software: number };
  /** Requests taken from its rings and not completed yet. */
  readonly inflight: number;
  /** Completed requests by service, algorithm, path and status (rows with zero requests may be left out). */
  readonly requests: readonly RequestCount[];
  /** Sessions (and re-run requests: `failed`) sent to software, by reason. */
  readonly fallbacks: Readonly<Record<string, number>>;
  /** Time from taking a request off the ring to writing its used entry. */
  readonly latency: HistogramSnapshot;
}

/** The accelerator. */
export interface AcceleratorMetrics {
  /** Its PCI address (the `device` label). */
  readonly device: string;
  /** `ready`, `failed`, `closed`. */
  readonly state: string;
  /** Device failures seen. */
  readonly failures: number;
  /** Resets done (after failures and on request). */
  readonly resets: number;
  /** Device incarnations started. */
  readonly epoch: number;
  /** Sessions open on it. */
  readonly sessions: number;
  /** Requests on it now. */
  readonly inflight: number;
}

/** Everything one scrape shows. */
export interface MetricsSnapshot {
  /** cryptobridge's version (`cryptobridge_build_info`). */
  readonly version: string;
  /** When the daemon started, in seconds since the epoch. */
  readonly startTimeSeconds: number;
  /** Every VM. */
  readonly vms: readonly VmMetrics[];
  /** The accelerator, or null. */
  readonly accelerator: AcceleratorMetrics | null;
}

/** Latency bounds in seconds: 5 µs to 1 s, about three per decade (a software request takes 1-50 µs). */
export const DEFAULT_LATENCY_BOUNDS: readonly number[] = [
  0.000005,
  0.00001,
  0.000025,
  0.00005,
  0.0001,
  0.00025,
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  1,
];

/** A histogram recorder: `observe()` allocates nothing (a data path can call it per request). */
export class LatencyHistogram {
  readonly #bounds: Float64Array;
  readonly #counts: Float64Array;
  #sum = 0;

  /**
   * @param bounds Upper bounds in seconds, ascending and finite (default `DEFAULT_LATENCY_BOUNDS`).
   * @throws RangeError for bounds that do not ascend.
   */
  constructor(bounds: readonly number[] = DEFAULT_LATENCY_BOUNDS) {
    for (let i = 0; i < bounds.length; i++) {
      if (!Number.isFinite(bounds[i]!) || (i > 0 && bounds[i]! <= bounds[i - 1]!)) {
        throw new RangeError(`Cannot create histogram: bounds must be finite and ascending: got ${bounds}`);
      }
    }
    this.#bounds = Float64Array.from(bounds);
    this.#counts = new Float64Array(bounds.length + 1);
  }

  /**
   * Counts one observation.
   *
   * @param seconds The value.
   */
  observe(seconds: number): void {
    const b = this.#bounds;
    let lo = 0;
    let hi = b.length;
    while (lo < hi) { // the first bound >= seconds (le is inclusive)
      const mid = (lo + hi) >>> 1;
      if (b[mid]! < seconds) lo = mid + 1;
      else hi = mid;
    }
    this.#counts[lo]!++;
    this.#sum += seconds;
  }

  /** What it holds, as JSON. */
  snapshot(): HistogramSnapshot {
    return { bounds: [...this.#bounds], counts: [...this.#counts], sum: this.#sum };
  }
}
