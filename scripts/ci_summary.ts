/**
 * Reads the JUnit reports `deno test --junit-path` wrote and prints the line CI reads:
 * `N passed, N failed` (plus `, N skipped` when tests were ignored).
 *
 * Test steps appear in Deno's JUnit output as test cases named `parent > step`; they are not counted, so the
 * numbers match Deno's own "N passed" summary. When a step failed without any test failing (a file that did not
 * type-check or load, a lint error), each such step counts as one failed test, so a broken tree never reads green.
 *
 * Usage: deno run --allow-read scripts/ci_summary.ts [results-dir] [failed-step...]
 *
 * @module
 */

/** Totals over all reports. */
export interface Summary {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  /** The CI line. */
  readonly line: string;
}

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

function countReport(xml: string): Counts {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  const cases = xml.matchAll(/<testcase name="([^"]*)"[^>]*>([\s\S]*?)<\/testcase>/g);
  for (const [, name, body] of cases) {
    if (name!.includes(" &gt; ")) continue;
    if (/<failure|<error/.test(body!)) counts.failed++;
    else if (/<skipped/.test(body!)) counts.skipped++;
    else counts.passed++;
  }
  return counts;
}

/**
 * Sums JUnit reports.
 *
 * @param reports Paths of the reports (missing files are skipped: a tier that crashed before writing one is in
 *   `crashed`).
 * @param crashed Steps (test tiers, lint, type check) that exited non-zero.
 * @returns The totals and the CI line.
 */
export function summarize(reports: readonly string[], crashed: readonly string[] = []): Summary {
  const total: Counts = { passed: 0, failed: 0, skipped: 0 };
  for (const path of reports) {
    const xml = readOrEmpty(path);
    const c = countReport(xml);
    total.passed += c.passed;
    total.failed += c.failed;
    total.skipped += c.skipped;
  }
  if (total.failed === 0) total.failed = crashed.length;
  const skipped = total.skipped > 0 ? `, ${total.skipped} skipped` : "";
  return { ...total, line: `${total.passed} passed, ${total.failed} failed${skipped}` };
}

function readOrEmpty(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

/**
 * Every `*.xml` report in a folder.
 *
 * @param dir The folder.
 * @returns Their paths.
 */
export function reportsIn(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".xml")).map((e) => `${dir}/${e.name}`);
  } catch {
    return [];
  }
}

if (import.meta.main) {
  const [dir = ".test-results", ...crashed] = Deno.args;
  console.log(summarize(reportsIn(dir), crashed).line);
}
