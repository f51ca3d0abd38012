/**
 * Checks the module map (docs/architecture.md): every import in `mod.ts`, `ffi/` and `src/` goes in an allowed
 * direction, no two folders import each other (directly or around a longer circle), and no two files do. Run by
 * `deno task lint`; exits 1 and names each offending import, and for a circle the import that closes it.
 *
 * Usage: deno run --allow-read scripts/check_layers.ts
 *
 * @module
 */

import { findCycles, type ImportEdge } from "./_import_graph.ts";

/** A layer: a path prefix, and the prefixes it may import at run time and as types only. */
export interface Layer {
  readonly prefix: string;
  readonly imports: readonly string[];
  readonly typeImports?: readonly string[];
}

// `src/spec/` is the specifications' vocabulary (feature bits, virtio-crypto numbers): a leaf every layer may use.
const SPEC = "src/spec/";
// `src/log/` is rate-limited logging (issue 14): a leaf every layer that logs what a guest causes may use.
const LOG = "src/log/";

/**
 * The module map, bottom up. Order matters: the first matching prefix names a file's layer (sub-folders before
 * their parents).
 */
export const LAYERS: readonly Layer[] = [
  { prefix: SPEC, imports: [SPEC] },
  { prefix: LOG, imports: [LOG] },
  { prefix: "ffi/libcrypto.ts", imports: ["ffi/errno.ts"] },
  {
    prefix: "ffi/",
    imports: [
      "ffi/errno.ts",
      "ffi/constants.ts",
      "ffi/structs.ts",
      "ffi/vfio_structs.ts",
      "ffi/libc_symbols.ts",
    ],
  },
  {
    prefix: "src/os/",
    imports: ["src/os/", "ffi/libc.ts", "ffi/errno.ts", "ffi/constants.ts", "ffi/structs.ts"],
  },
  { prefix: "src/memory/", imports: ["src/memory/"] },
  { prefix: "src/virtio/", imports: ["src/virtio/", "src/memory/", SPEC] },
  {
    prefix: "src/vhost_user/",
    imports: ["src/vhost_user/", "src/virtio/", "src/memory/", "src/os/", SPEC, LOG],
  },
  {
    prefix: "src/crypto/",
    imports: [
      "src/crypto/",
      "src/virtio/",
      "src/memory/",
      "src/engine/engine.ts",
      "src/engine/sg_list.ts",
      SPEC,
      LOG,
    ],
    typeImports: ["src/engine/", "src/vhost_user/"],
  },
  {
    prefix: "src/engine/software/",
    imports: ["src/engine/", SPEC, "ffi/libcrypto.ts", "ffi/errno.ts"],
  },
  { prefix: "src/engine/", imports: ["src/engine/", SPEC], typeImports: [] },
  { prefix: "src/logging/", imports: ["src/logging/"] },
  { prefix: "src/threads/", imports: ["src/threads/", "src/os/"] },
  {
    prefix: "src/accel/",
    // src/crypto/mod.ts exports only the pure wire codecs (no device, no FFI): a virtio-crypto driver speaks the
    // wire format the device layer parses (README "Layers").
    imports: [
      "src/accel/",
      "src/engine/",
      "src/virtio/",
      "src/vfio/",
      "src/pci/",
      "src/os/",
      "src/memory/",
      "src/crypto/mod.ts",
      "src/threads/",
      SPEC,
    ],
  },
  // The accelerator self-test (issue 11 item 6): known-answer vectors and speed, on an accelerator's own engine.
  { prefix: "src/selftest/", imports: ["src/selftest/", "src/accel/", "src/engine/", "src/os/", SPEC] },
  { prefix: "src/vfio/", imports: ["src/vfio/", "src/os/", "ffi/vfio_structs.ts", "ffi/constants.ts"] },
  { prefix: "src/pci/", imports: ["src/pci/", "src/os/"] },
  {
    prefix: "src/frontend/",
    imports: [
      "src/frontend/",
      "src/vhost_user/",
      "src/virtio/",
      "src/crypto/",
      "src/memory/",
      "src/os/",
      SPEC,
    ],
  },
  {
    prefix: "src/vm/",
    imports: [
      "src/vm/",
      "src/threads/",
      "src/metrics/snapshot.ts",
      "src/logging/",
      "src/vhost_user/",
      "src/crypto/",
      "src/engine/",
      "src/accel/",
      "src/os/",
      "src/memory/",
      SPEC,
    ],
  },
  // The control socket: JSON-RPC over the project's own sockets; it knows the daemon only by its DaemonControl.
  { prefix: "src/control/", imports: ["src/control/", "src/os/"] },
  // Metrics: the exposition format, a registry fed by a snapshot callback, Deno's HTTP server; no FFI.
  { prefix: "src/metrics/", imports: ["src/metrics/"] },
  // sd_notify over the project's datagram sockets.
  { prefix: "src/systemd/", imports: ["src/systemd/", "src/os/"] },
  { prefix: "src/daemon/", imports: ["src/", "ffi/errno.ts"] },
  { prefix: "src/cli/", imports: ["src/", "ffi/errno.ts"] },
  { prefix: "mod.ts", imports: ["src/", "ffi/errno.ts"] },
];

// Static imports and re-exports, bare side-effect imports, and dynamic `import("…")` with a literal specifier.
const IMPORT_RE =
  /^\s*(import|export)\s+(type\s+)?[^;]*?\sfrom\s+"([^"]+)"|^\s*import\s+"([^"]+)"|\bimport\(\s*"([^"]+)"\s*\)/gm;

/**
 * The relative imports of one file, resolved to paths from the repository root.
 *
 * @param file The importing file's path.
 * @param text Its source.
 * @returns One edge per import of a project file.
 */
export function importsOf(file: string, text: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const m of text.matchAll(IMPORT_RE)) {
    const target = resolve(file, m[3] ?? m[4] ?? m[5]!);
    if (target !== null) edges.push({ from: file, to: target, typeOnly: m[2] !== undefined });
  }
  return edges;
}

function resolve(from: string, spec: string): string | null {
  if (!spec.startsWith(".")) return null; // npm:, node:, jsr: packages are not layers
  const parts = from.split("/").slice(0, -1);
  for (const p of spec.split("/")) {
    if (p === "..") parts.pop();
    else if (p !== ".") parts.push(p);
  }
  return parts.join("/");
}

function layerOf(layers: readonly Layer[], path: string): Layer | undefined {
  return layers.find((l) => path === l.prefix || path.startsWith(l.prefix));
}

function mapViolation(layers: readonly Layer[], edge: ImportEdge): string | null {
  const layer = layerOf(layers, edge.from);
  if (layer === undefined) return null;
  const allowed = [...layer.imports, ...(edge.typeOnly ? layer.typeImports ?? [] : [])];
  if (allowed.some((a) => edge.to === a || edge.to.startsWith(a))) return null;
  const kind = edge.typeOnly ? " (type)" : "";
  return `${edge.from}: imports ${edge.to}${kind}, not allowed for layer ${layer.prefix}`;
}

function folderOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "." : path.slice(0, i);
}

/**
 * Every problem of a set of sources: imports against the map, folder circles, file circles.
 *
 * @param sources Path (from the repository root) to source text.
 * @param layers The module map (default: the project's).
 * @returns One line per problem; empty when the map holds.
 */
export function checkSources(
  sources: ReadonlyMap<string, string>,
  layers: readonly Layer[] = LAYERS,
): string[] {
  const edges = [...sources].flatMap(([file, text]) => importsOf(file, text));
  const problems = edges.map((e) => mapViolation(layers, e)).filter((p): p is string => p !== null);
  const folderEdges = edges
    .map((e) => ({ ...e, from: folderOf(e.from), to: folderOf(e.to), via: e }))
    .filter((e) => e.from !== e.to);
  for (const c of findCycles(folderEdges)) {
    const via = (c.closing as typeof folderEdges[number]).via;
    problems.push(
      `folder cycle ${c.path.join(" -> ")}: closed by ${via.from} importing ${via.to}`,
    );
  }
  for (const c of findCycles(edges)) {
    problems.push(`file cycle ${c.path.join(" -> ")}: closed by ${c.closing.from} importing ${c.closing.to}`);
  }
  return problems;
}

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of Deno.readDirSync(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* sourceFiles(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

if (import.meta.main) {
  const files = ["mod.ts", ...sourceFiles("ffi"), ...sourceFiles("src")];
  const sources = new Map(files.map((f) => [f, Deno.readTextFileSync(f)]));
  const problems = checkSources(sources);
  for (const p of problems) console.error(p);
  console.log(`check_layers: ${files.length} files, ${problems.length} problem(s) against the module map`);
  if (problems.length > 0) Deno.exit(1);
}
