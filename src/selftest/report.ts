/**
 * What the self-test reports: per algorithm, the known-answer result on the accelerator and its speed against
 * software; for the whole run, whether it passed. `cryptobridge selftest --json` prints this object as it is, so
 * its field names are the machine-readable contract (docs/qat.md, README "Commands").
 *
 * @module
 */

/**
 * One algorithm's known-answer result:
 * - `pass`: every vector gave the published answer on the accelerator;
 * - `mismatch`: the accelerator answered, with other bytes (or accepted a forged tag, or refused a good one);
 * - `error`: the accelerator failed a request (an error status, a device failure, no answer in time);
 * - `refused`: it advertises the algorithm but refused every session (serve runs such sessions in software);
 * - `skipped`: not advertised, or nothing to run (no vector at its key lengths, asymmetric keys).
 */
export type SelftestResult = "pass" | "mismatch" | "error" | "refused" | "skipped";

/** The results that fail the run (exit code 1). */
export const FAILING_RESULTS: readonly SelftestResult[] = ["mismatch", "error"];

/** Operations per second at one request size, on the accelerator and in software. */
export interface SpeedSample {
  /** Source bytes per request. */
  readonly size: number;
  /** The accelerator's operations per second, or null when it was not measured. */
  readonly deviceOpsPerSec: number | null;
  /** The software engine's, or null when software does not serve the session. */
  readonly softwareOpsPerSec: number | null;
  /** device / software, or null when either is missing. */
  readonly ratio: number | null;
}

/** One algorithm (or the chained pair) as the self-test found it. */
export interface AlgorithmReport {
  /** Its readable name (`AES-CBC`, `AES-CBC + HMAC-SHA256`). */
  readonly name: string;
  /** `cipher`, `hash`, `mac`, `aead`, `chain` or `akcipher`. */
  readonly service: string;
  /** The specification's algorithm id (null for the chain). */
  readonly algo: number | null;
  /** Whether the accelerator advertises it. */
  readonly advertised: boolean;
  readonly result: SelftestResult;
  /** Known-answer cases run on the accelerator, and how many gave the published answer. */
  readonly vectors: { readonly run: number; readonly passed: number };
  /** The first mismatch or error (vector id, expected and actual bytes), or why it was skipped; null on pass. */
  readonly detail: string | null;
  /** Which case's session and lengths the speed runs used (null when not measured). */
  readonly measuredWith: string | null;
  /** One sample per measured size (empty when not measured). */
  readonly speed: readonly SpeedSample[];
}

/** A whole self-test run. */
export interface SelftestReport {
  /** cryptobridge's version. */
  readonly version: string;
  /** The PCI function. */
  readonly device: string;
  /** `virtio-crypto` or `qat-gen4-vf`. */
  readonly kind: string;
  /** The accelerator engine's name. */
  readonly engine: string;
  /** Where the software engine's implementation comes from (OpenSSL's version). */
  readonly software: string;
  /** Each speed measurement's length in ms (0: none). */
  readonly durationMs: number;
  /** Requests in flight at once on the accelerator during speed runs. */
  readonly depth: number;
  /** Claims the accelerator advertised and refused when its driver probed them at open (virtio-crypto). */
  readonly refusedAtOpen: readonly string[];
  readonly algorithms: readonly AlgorithmReport[];
  /** The accelerator's state after the run, and its last failure. */
  readonly accelerator: {
    readonly state: string;
    readonly failures: number;
    readonly lastFailure: string | null;
  };
  /** How many algorithms got each result. */
  readonly counts: Readonly<Record<SelftestResult, number>>;
  /** True when no algorithm got `mismatch` or `error`. */
  readonly passed: boolean;
}

/**
 * How many algorithms got each result.
 *
 * @param algorithms The per-algorithm reports.
 * @returns A count per result.
 */
export function countResults(algorithms: readonly AlgorithmReport[]): Record<SelftestResult, number> {
  const counts: Record<SelftestResult, number> = { pass: 0, mismatch: 0, error: 0, refused: 0, skipped: 0 };
  for (const a of algorithms) counts[a.result]++;
  return counts;
}
