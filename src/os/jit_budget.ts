/**
 * The V8 flags `serve` runs with: a larger TurboFan inlining budget. TurboFan inlines a callee only while the
 * function it optimizes stays under a bytecode budget (`--max-inlined-bytecode-size` 460 and
 * `--max-inlined-bytecode-size-cumulative` 920 by default). A request's path is many short functions (style.md:
 * one concept each), and the queue's loop ran out of budget. With it raised, `serve --poll` served 1.40-1.50M
 * requests/s at 64 B against 1.23-1.29M without (AES-128-CBC, depth 32, alternating runs; docs/dpdk.md).
 *
 * V8 takes these flags only at start (`node:v8`'s `setFlagsFromString` at run time changed nothing here), so every
 * way of starting `serve` passes them: `deno task serve` and `deno task compile` (deno.json), `bench`'s own daemon
 * (`selfCommand`), and the service's wrapper (scripts/install_service.ts). `tests/os/jit_budget_test.ts` keeps
 * those in step with this constant.
 *
 * @module
 */

/** The `deno run` / `deno compile` flag. */
export const SERVE_V8_FLAGS =
  "--v8-flags=--max-inlined-bytecode-size=1000,--max-inlined-bytecode-size-cumulative=3000";

/**
 * `deno run` flags with `SERVE_V8_FLAGS` added: merged into a `--v8-flags=` the caller already gives.
 *
 * @param denoFlags The caller's flags.
 * @returns The flags to run `serve` with.
 */
export function withServeV8Flags(denoFlags: readonly string[]): string[] {
  const ours = SERVE_V8_FLAGS.slice("--v8-flags=".length);
  const at = denoFlags.findIndex((f) => f.startsWith("--v8-flags="));
  if (at < 0) return [SERVE_V8_FLAGS, ...denoFlags];
  return denoFlags.map((f, i) => (i === at ? `${f},${ours}` : f));
}
