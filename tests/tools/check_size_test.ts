/** The size check counts what it says: file lines, and function bodies other than test bodies. */

import assert from "node:assert/strict";
import { MAX_FILE_LINES, MAX_FUNCTION_LINES, sizeProblems } from "../../scripts/check_size.ts";

function body(lines: number): string {
  return Array.from({ length: lines - 2 }, (_, i) => `  const v${i} = ${i};`).join("\n");
}

Deno.test("sizeProblems() names a function whose body is over the limit, with its line", () => {
  const text = `export function long(): void {\n${body(MAX_FUNCTION_LINES + 1)}\n}\n`;
  assert.deepEqual(sizeProblems("src/x.ts", text), [
    `src/x.ts:1: function long is ${MAX_FUNCTION_LINES + 1} lines (at most ${MAX_FUNCTION_LINES})`,
  ]);
});

Deno.test("sizeProblems() passes a function at the limit and a long test body", () => {
  const text = `function ok(): void {\n${body(MAX_FUNCTION_LINES)}\n}\n` +
    `Deno.test("long scenario", () => {\n${body(MAX_FUNCTION_LINES * 2)}\n});\n`;
  assert.deepEqual(sizeProblems("tests/x_test.ts", text), []);
});

Deno.test("sizeProblems() names a file over the line limit and a long method by its name", () => {
  const method = `class C {\n  run(): void {\n${body(MAX_FUNCTION_LINES + 5)}\n  }\n}\n`;
  const filler = "\n".repeat(MAX_FILE_LINES);
  const problems = sizeProblems("src/y.ts", method + filler);
  assert.equal(problems.length, 2);
  assert.match(problems[0]!, /^src\/y\.ts: \d+ lines \(at most 400\)$/);
  assert.match(problems[1]!, /^src\/y\.ts:2: function run is 55 lines/);
});
