/**
 * `LatencyHistogram`: request latencies in a fixed, log-linear histogram (the HdrHistogram idea, small): recording
 * is O(1) and allocation-free, so the load generator records every request without GC pauses showing up in its own
 * p99, and memory does not grow with the run's length.
 *
 * Values are nanoseconds. Below 128 ns every nanosecond has its bucket; above, each power of two is split into 64
 * buckets, so a percentile is within 1/64 (1.6 %) of the true value. Values from 2^31 ns (2.1 s) up share the last
 * bucket; `max` stays exact.
 *
 * @module
 */

/** Sub-buckets per power of two: 2^6 = 64, a relative error of at most 1/64. */
const SUB_BITS = 6;
const SUB_COUNT = 1 << SUB_BITS;
/** Largest value with its own bucket. */
const MAX_TRACKED = 0x7fff_ffff;
/** Buckets: exact up to 127, then 64 per power of two up to 2^31. */
const BUCKETS = bucketOf(MAX_TRACKED) + 1;

/**
 * The bucket of a value.
 *
 * @param ns A non-negative integer below 2^31.
 * @returns Its bucket index.
 */
function bucketOf(ns: number): number {
  if (ns < 2 * SUB_COUNT) return ns;
  const shift = 31 - Math.clz32(ns) - SUB_BITS;
  return shift * SUB_COUNT + (ns >>> shift);
}

/** The lowest value and the width of a bucket. */
function bucketRange(index: number): { low: number; width: number } {
  if (index < 2 * SUB_COUNT) return { low: index, width: 1 };
  const shift = Math.floor(index / SUB_COUNT) - 1;
  const sub = index - shift * SUB_COUNT;
  return { low: sub * 2 ** shift, width: 2 ** shift };
}

/** Latency percentiles and extremes, in microseconds (what `cryptobridge bench` reports). */
export interface LatencySummary {
  /** Requests recorded. */
  readonly count: number;
  readonly minUs: number;
  readonly meanUs: number;
  readonly p50Us: number;
  readonly p90Us: number;
  readonly p99Us: number;
  readonly p999Us: number;
  readonly maxUs: number;
}

/**
 * A latency histogram in nanoseconds.
 *
 * @example
 * ```ts
 * import { LatencyHistogram } from "./latency.ts";
 * const h = new LatencyHistogram();
 * for (let us = 1; us <= 100; us++) h.record(us * 1000);
 * if (Math.abs(h.percentile(50) - 50_000) > 50_000 / 64) throw new Error("p50 off");
 * ```
 */
export class LatencyHistogram {
  /** Count per bucket. */
  readonly counts: Float64Array = new Float64Array(BUCKETS);
  /** Values recorded. */
  count = 0;
  /** Sum of the values (for the mean). */
  sum = 0;
  /** Smallest value (Infinity when empty). */
  min = Infinity;
  /** Largest value (0 when empty). */
  max = 0;

  /**
   * Records one value. Negative values count as 0 (a clock that went backwards); fractions are rounded.
   *
   * @param ns The latency in nanoseconds.
   */
  record(ns: number): void {
    const v = ns > 0 ? Math.round(ns) : 0;
    const i = v < MAX_TRACKED ? bucketOf(v) : BUCKETS - 1;
    this.counts[i]!++;
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  /**
   * The value below which `p` percent of the recorded values lie: the middle of the bucket holding the value of
   * rank ⌈p/100 · count⌉, clamped to the exact minimum and maximum.
   *
   * @param p The percentile, 0 to 100.
   * @returns Nanoseconds; NaN when nothing was recorded.
   * @throws RangeError for `p` outside 0..100.
   */
  percentile(p: number): number {
    if (!(p >= 0 && p <= 100)) {
      throw new RangeError(`Cannot compute percentile: p must be in 0..100: current value is ${p}`);
    }
    if (this.count === 0) return NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) {
        if (i === BUCKETS - 1) return this.max; // the overflow bucket has no upper bound
        const { low, width } = bucketRange(i);
        const mid = low + (width - 1) / 2;
        return Math.min(this.max, Math.max(this.min, mid));
      }
    }
    return this.max;
  }

  /** Adds another histogram's values to this one. */
  merge(other: LatencyHistogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i]!;
    this.count += other.count;
    this.sum += other.sum;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
  }

  /** Forgets every value. */
  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sum = 0;
    this.min = Infinity;
    this.max = 0;
  }

  /** Percentiles and extremes in microseconds (NaN fields when empty). */
  summary(): LatencySummary {
    const us = (ns: number): number => ns / 1000;
    const empty = this.count === 0;
    return {
      count: this.count,
      minUs: empty ? NaN : us(this.min),
      meanUs: empty ? NaN : us(this.sum / this.count),
      p50Us: us(this.percentile(50)),
      p90Us: us(this.percentile(90)),
      p99Us: us(this.percentile(99)),
      p999Us: us(this.percentile(99.9)),
      maxUs: empty ? NaN : us(this.max),
    };
  }
}
