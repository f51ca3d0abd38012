/**
 * The Prometheus text exposition format, version 0.0.4 (prometheus.io/docs/instrumenting/exposition_formats):
 * `# HELP` and `# TYPE` lines, then one line per sample, `name{label="value",…} value`; histograms as cumulative
 * `_bucket{le="…"}` samples ending with `le="+Inf"`, then `_sum` and `_count`. Pure.
 *
 * @module
 */

/** The content type of a scrape. */
export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Metric types of the format. */
export type MetricType = "counter" | "gauge" | "histogram" | "untyped";

/** Label names to values. */
export type Labels = Readonly<Record<string, string>>;

/** One sample of a counter, gauge or untyped metric. */
export interface Sample {
  readonly labels: Labels;
  readonly value: number;
}

/** One histogram: cumulative counts at each upper bound (`le`), ascending, without `+Inf`. */
export interface HistogramSample {
  readonly labels: Labels;
  /** `[upperBound, cumulativeCount]`, bounds ascending and finite. */
  readonly buckets: readonly (readonly [number, number])[];
  /** Sum of the observed values. */
  readonly sum: number;
  /** Observations in all (the `+Inf` bucket). */
  readonly count: number;
}

/** A metric family: every sample of one name. */
export type MetricFamily =
  | {
    readonly name: string;
    readonly help: string;
    readonly type: "counter" | "gauge" | "untyped";
    readonly samples: readonly Sample[];
  }
  | {
    readonly name: string;
    readonly help: string;
    readonly type: "histogram";
    readonly samples: readonly HistogramSample[];
  };

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * A label value, escaped: backslash, double quote and line feed (`\\`, `\"`, `\n`).
 *
 * @param value The value.
 * @returns The escaped text.
 */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/**
 * HELP text, escaped: backslash and line feed.
 *
 * @param text The text.
 * @returns The escaped text.
 */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/**
 * A sample value as the format writes it: `+Inf`, `-Inf`, `NaN`, or the number (Go's float parsing reads
 * JavaScript's shortest round-trip form, exponent included).
 *
 * @param value The value.
 * @returns Its text.
 */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function labelText(labels: Labels, extra?: readonly [string, string]): string {
  const pairs = Object.entries(labels);
  if (extra !== undefined) pairs.push([extra[0], extra[1]]);
  if (pairs.length === 0) return "";
  return `{${pairs.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(",")}}`;
}

function checkLabels(family: string, labels: Labels, reserved: readonly string[]): string {
  for (const name of Object.keys(labels)) {
    if (!LABEL_NAME.test(name) || name.startsWith("__") || reserved.includes(name)) {
      throw new RangeError(`Cannot write metric ${family}: label name "${name}" is not allowed`);
    }
  }
  return JSON.stringify(Object.entries(labels).sort());
}

function histogramLines(name: string, s: HistogramSample): string[] {
  const lines: string[] = [];
  let previous = -Infinity;
  let last = 0;
  for (const [le, count] of s.buckets) {
    if (!(le > previous) || !Number.isFinite(le) || count < last) {
      throw new RangeError(`Cannot write histogram ${name}: buckets must ascend and counts be cumulative`);
    }
    previous = le;
    last = count;
    lines.push(`${name}_bucket${labelText(s.labels, ["le", formatValue(le)])} ${formatValue(count)}`);
  }
  if (s.count < last) throw new RangeError(`Cannot write histogram ${name}: count is below its last bucket`);
  lines.push(`${name}_bucket${labelText(s.labels, ["le", "+Inf"])} ${formatValue(s.count)}`);
  lines.push(`${name}_sum${labelText(s.labels)} ${formatValue(s.sum)}`);
  lines.push(`${name}_count${labelText(s.labels)} ${formatValue(s.count)}`);
  return lines;
}

/**
 * Writes families in the text format. A family without samples still gets its HELP and TYPE lines.
 *
 * @param families The families (names unique).
 * @returns The exposition, ending with a line feed.
 * @throws RangeError for a bad metric or label name, a repeated name or label set, or histogram buckets that
 *   do not ascend.
 */
export function writeExposition(families: readonly MetricFamily[]): string {
  const out: string[] = [];
  const names = new Set<string>();
  for (const f of families) {
    if (!METRIC_NAME.test(f.name) || names.has(f.name)) {
      throw new RangeError(`Cannot write metric "${f.name}": its name is invalid or used twice`);
    }
    names.add(f.name);
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    const seen = new Set<string>();
    for (const s of f.samples) {
      const key = checkLabels(f.name, s.labels, f.type === "histogram" ? ["le"] : []);
      if (seen.has(key)) {
        throw new RangeError(`Cannot write metric ${f.name}: label set ${key} appears twice`);
      }
      seen.add(key);
      if (f.type === "histogram") out.push(...histogramLines(f.name, s as HistogramSample));
      else out.push(`${f.name}${labelText(s.labels)} ${formatValue((s as Sample).value)}`);
    }
  }
  return out.length === 0 ? "" : `${out.join("\n")}\n`;
}
