/**
 * The module-map check catches what it exists for: an import against the map, two folders importing each other
 * (also around a longer circle), and two files importing each other, naming the import that closes the circle.
 */

import assert from "node:assert/strict";
import { checkSources, importsOf, type Layer, LAYERS } from "../../scripts/check_layers.ts";

const MAP: readonly Layer[] = [
  { prefix: "src/a/", imports: ["src/a/", "src/b/"] },
  { prefix: "src/b/", imports: ["src/b/", "src/c/"] },
  { prefix: "src/c/", imports: ["src/c/", "src/a/"] },
];

Deno.test("checkSources() passes a map that holds", () => {
  const sources = new Map([
    ["src/a/x.ts", `import { y } from "../b/y.ts";`],
    ["src/b/y.ts", `export const y = 1;`],
  ]);
  assert.deepEqual(checkSources(sources, MAP), []);
});

Deno.test("checkSources() names an import the map does not allow", () => {
  const sources = new Map([["src/b/y.ts", `import type { X } from "../a/x.ts";`], ["src/a/x.ts", ""]]);
  assert.deepEqual(checkSources(sources, MAP), [
    "src/b/y.ts: imports src/a/x.ts (type), not allowed for layer src/b/",
  ]);
});

Deno.test("checkSources() finds a folder circle and the import that closes it", () => {
  // Each import is allowed by the map, but a -> b -> c -> a goes round.
  const sources = new Map([
    ["src/a/x.ts", `import { y } from "../b/y.ts";`],
    ["src/b/y.ts", `import { z } from "../c/z.ts";`],
    ["src/c/z.ts", `export { x } from "../a/x.ts";`],
  ]);
  const problems = checkSources(sources, MAP);
  assert.deepEqual(problems.filter((p) => p.startsWith("folder")), [
    "folder cycle src/a -> src/b -> src/c -> src/a: closed by src/c/z.ts importing src/a/x.ts",
  ]);
  assert.deepEqual(problems.filter((p) => p.startsWith("file")), [
    "file cycle src/a/x.ts -> src/b/y.ts -> src/c/z.ts -> src/a/x.ts: closed by src/c/z.ts importing src/a/x.ts",
  ]);
});

Deno.test("checkSources() finds two files of one folder that import each other, also by a dynamic import", () => {
  const sources = new Map([
    ["src/a/main.ts", `import { run } from "./bench.ts";`],
    ["src/a/bench.ts", `export async function run() { const { V } = await import("./main.ts"); }`],
  ]);
  assert.deepEqual(checkSources(sources, MAP), [
    "file cycle src/a/bench.ts -> src/a/main.ts -> src/a/bench.ts: closed by src/a/main.ts importing src/a/bench.ts",
  ]);
});

Deno.test("importsOf() resolves relative specifiers and skips packages", () => {
  const edges = importsOf(
    "src/x/y.ts",
    `import a from "npm:fast-check";\nimport type { B } from "../z/b.ts";\nexport * from "./c.ts";`,
  );
  assert.deepEqual(edges, [
    { from: "src/x/y.ts", to: "src/z/b.ts", typeOnly: true },
    { from: "src/x/y.ts", to: "src/x/c.ts", typeOnly: false },
  ]);
});

Deno.test("the project's map puts src/spec/ at the bottom: it may import nothing else", () => {
  const spec = LAYERS.find((l) => l.prefix === "src/spec/")!;
  assert.deepEqual(spec.imports, ["src/spec/"]);
  assert.equal(spec.typeImports, undefined);
});
