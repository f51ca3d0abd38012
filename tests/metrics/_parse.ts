/**
 * Test fixture: a strict parser of the Prometheus text format 0.0.4, written from the format's description, not
 * from the writer: HELP and TYPE before a family's samples, every sample of a declared family (histograms through
 * `_bucket`, `_sum`, `_count`), label values unescaped, values parsed as the format spells them, histogram
 * buckets cumulative and ending with `+Inf` equal to `_count`. `promtool check metrics` is the other check.
 *
 * @module
 */

/** One sample line. */
export interface ParsedSample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** One family. */
export interface ParsedFamily {
  readonly name: string;
  help: string | null;
  type: string | null;
  readonly samples: ParsedSample[];
}

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const SAMPLE_RE = new RegExp(`^(${NAME})(\\{(.*)\\})? (\\S+)( -?\\d+)?$`);
const LABEL_RE = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\[\\"n])*)"(,|$)/;

function parseValue(text: string, line: string): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  const v = Number(text);
  if (text.trim() === "" || Number.isNaN(v)) throw new Error(`Bad value in: ${line}`);
  return v;
}

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  while (rest.length > 0) {
    const m = LABEL_RE.exec(rest);
    if (m === null) throw new Error(`Bad labels in: ${line}`);
    if (m[1]! in labels) throw new Error(`Label ${m[1]} twice in: ${line}`);
    labels[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => c === "n" ? "\n" : c);
    rest = rest.slice(m[0].length);
  }
  return labels;
}

function familyOf(families: Map<string, ParsedFamily>, sample: string): ParsedFamily | undefined {
  const exact = families.get(sample);
  if (exact !== undefined) return exact;
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (!sample.endsWith(suffix)) continue;
    const f = families.get(sample.slice(0, -suffix.length));
    if (f?.type === "histogram") return f;
  }
  return undefined;
}

function comment(families: Map<string, ParsedFamily>, line: string): void {
  const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
  if (m === null) return; // other comments are allowed
  const [, kind, name, rest] = m as unknown as [string, string, string, string];
  let f = families.get(name);
  if (f === undefined) families.set(name, f = { name, help: null, type: null, samples: [] });
  if (f.samples.length > 0) throw new Error(`${kind} after samples of ${name}`);
  if (kind === "HELP") f.help = rest.replace(/\\(.)/g, (_, c: string) => c === "n" ? "\n" : c);
  else if (!["counter", "gauge", "histogram", "summary", "untyped"].includes(rest)) {
    throw new Error(`Bad TYPE: ${line}`);
  } else f.type = rest;
}

/**
 * Parses a scrape.
 *
 * @param text The exposition.
 * @returns The families by name.
 * @throws Error naming the first line that breaks the format.
 */
export function parseExposition(text: string): Map<string, ParsedFamily> {
  if (text.length > 0 && !text.endsWith("\n")) throw new Error("The exposition must end with a line feed");
  const families = new Map<string, ParsedFamily>();
  for (const line of text.split("\n").slice(0, -1)) {
    if (line.startsWith("#")) {
      comment(families, line);
      continue;
    }
    if (line.trim() === "") continue;
    const m = SAMPLE_RE.exec(line);
    if (m === null) throw new Error(`Bad sample line: ${line}`);
    const f = familyOf(families, m[1]!);
    if (f === undefined || f.type === null) throw new Error(`Sample of an undeclared family: ${line}`);
    f.samples.push({ name: m[1]!, labels: parseLabels(m[3] ?? "", line), value: parseValue(m[4]!, line) });
  }
  for (const f of families.values()) if (f.type === "histogram") checkHistogram(f);
  return families;
}

function checkHistogram(f: ParsedFamily): void {
  const series = new Map<string, ParsedSample[]>();
  for (const s of f.samples.filter((s) => s.name === `${f.name}_bucket`)) {
    const { le: _, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    series.set(key, [...series.get(key) ?? [], s]);
  }
  for (const [key, buckets] of series) {
    const les = buckets.map((b) => parseValue(b.labels["le"]!, key));
    if (les.at(-1) !== Infinity) throw new Error(`${f.name}${key}: the last bucket must be le="+Inf"`);
    for (let i = 1; i < buckets.length; i++) {
      if (!(les[i]! > les[i - 1]!) || buckets[i]!.value < buckets[i - 1]!.value) {
        throw new Error(`${f.name}${key}: buckets must ascend with cumulative counts`);
      }
    }
    const count = f.samples.find((s) =>
      s.name === `${f.name}_count` && JSON.stringify(Object.entries(s.labels).sort()) === key
    );
    if (count?.value !== buckets.at(-1)!.value) {
      throw new Error(`${f.name}${key}: _count must equal the +Inf bucket`);
    }
  }
}

/** The value of one sample, by name and labels (all of them). */
export function valueOf(
  families: Map<string, ParsedFamily>,
  family: string,
  sample: string,
  labels: Record<string, string>,
): number | undefined {
  const want = JSON.stringify(Object.entries(labels).sort());
  return families.get(family)?.samples.find((s) =>
    s.name === sample && JSON.stringify(Object.entries(s.labels).sort()) === want
  )?.value;
}

/** Runs `promtool check metrics` on a scrape: null when promtool is absent, else its findings ("" when none). */
export async function promtoolCheck(text: string): Promise<string | null> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("promtool", {
      args: ["check", "metrics"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    })
      .spawn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await child.output();
  const findings = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return out.success ? findings.trim() : `exit ${out.code}: ${findings.trim()}`;
}

/** Whether promtool is on PATH (Debian package `prometheus`). */
export function hasPromtool(): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "/usr/bin").split(":")) {
    try {
      if (Deno.statSync(`${dir}/promtool`).isFile) return true;
    } catch {
      // not there
    }
  }
  return false;
}
