/**
 * Checks the module map of design.md: every import in `mod.ts`, `ffi/` and `src/` must go in an allowed direction.
 * Run by `deno task lint`. Exits 1 and names each offending import.
 *
 * Usage: deno run --allow-read scripts/check_layers.ts
 *
 * @module
 */

/** A layer: a path prefix, and the prefixes it may import at run time and as types only. */
interface Layer {
  readonly prefix: string;
  readonly imports: readonly string[];
  readonly typeImports?: readonly string[];
}

// Order matters: the first matching prefix names a file's layer (sub-folders before their parents).
// `src/spec/` is the specifications' vocabulary (feature bits, virtio-crypto numbers): a leaf every layer may use.
const SPEC = "src/spec/";
// `src/log/` is rate-limited logging (issue 14): a leaf every layer that logs what a guest causes may use.
const LOG = "src/log/";
const LAYERS: readonly Layer[] = [
  { prefix: SPEC, imports: [SPEC] },
  { prefix: LOG, imports: [LOG] },
  { prefix: "ffi/libcrypto.ts", imports: ["ffi/errno.ts"] },
  { prefix: "ffi/", imports: ["ffi/errno.ts", "ffi/constants.ts", "ffi/structs.ts", "ffi/vfio_structs.ts"] },
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
      SPEC,
    ],
  },
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
  { prefix: "src/daemon/", imports: ["src/", "ffi/errno.ts"] },
  { prefix: "src/cli/", imports: ["src/", "ffi/errno.ts"] },
  { prefix: "mod.ts", imports: ["src/", "ffi/errno.ts"] },
];

const IMPORT_RE = /^\s*(import|export)\s+(type\s+)?[^;]*?\sfrom\s+"([^"]+)"|^\s*import\s+"([^"]+)"/gm;

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of Deno.readDirSync(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* sourceFiles(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

function normalize(from: string, spec: string): string | null {
  if (!spec.startsWith(".")) return null; // npm:, node:, jsr: packages are not layers
  const parts = from.split("/").slice(0, -1);
  for (const p of spec.split("/")) {
    if (p === "..") parts.pop();
    else if (p !== ".") parts.push(p);
  }
  return parts.join("/");
}

function layerOf(path: string): Layer | undefined {
  return LAYERS.find((l) => path === l.prefix || path.startsWith(l.prefix));
}

function violations(file: string): string[] {
  const layer = layerOf(file);
  if (layer === undefined) return [];
  const out: string[] = [];
  for (const m of Deno.readTextFileSync(file).matchAll(IMPORT_RE)) {
    const target = normalize(file, m[3] ?? m[4]!);
    if (target === null) continue;
    const typeOnly = m[2] !== undefined;
    const allowed = [...layer.imports, ...(typeOnly ? layer.typeImports ?? [] : [])];
    if (!allowed.some((a) => target === a || target.startsWith(a))) {
      out.push(
        `${file}: imports ${target}${typeOnly ? " (type)" : ""}, not allowed for layer ${layer.prefix}`,
      );
    }
  }
  return out;
}

if (import.meta.main) {
  const files = ["mod.ts", ...sourceFiles("ffi"), ...sourceFiles("src")];
  const problems = files.flatMap(violations);
  for (const p of problems) console.error(p);
  console.log(`check_layers: ${files.length} files, ${problems.length} import(s) against the module map`);
  if (problems.length > 0) Deno.exit(1);
}
