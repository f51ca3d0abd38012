/**
 * `SERVE_V8_FLAGS`: every way of starting `serve` passes the same V8 flags (V8 takes them only at start), and a
 * caller's own `--v8-flags` is merged, not replaced.
 *
 * @module
 */

import assert from "node:assert/strict";
import { SERVE_V8_FLAGS, withServeV8Flags } from "../../src/os/mod.ts";
import { selfCommand } from "../../src/cli/bench_serve.ts";
import { renderWrapper } from "../../scripts/install_service.ts";

const denoJson = JSON.parse(Deno.readTextFileSync(new URL("../../deno.json", import.meta.url))) as {
  tasks: Record<string, { command: string }>;
};

Deno.test("deno task serve and deno task compile pass SERVE_V8_FLAGS", () => {
  for (const task of ["serve", "compile"]) {
    assert.ok(denoJson.tasks[task]!.command.split(" ").includes(SERVE_V8_FLAGS), `task ${task}`);
  }
});

Deno.test("bench's own serve and the service wrapper pass SERVE_V8_FLAGS; other commands do not", () => {
  assert.ok(selfCommand(["serve", "--socket", "/tmp/x"]).includes(SERVE_V8_FLAGS));
  assert.ok(!selfCommand(["bench"]).includes(SERVE_V8_FLAGS));
  const wrapper = renderWrapper(
    { prefix: "/opt/cryptobridge", configDir: "/etc/cryptobridge" },
    "/usr/bin/deno",
  );
  const serveLine = wrapper.split("\n").find((l) => l.trim().startsWith("serve)"))!;
  assert.ok(serveLine.includes(SERVE_V8_FLAGS), serveLine);
});

Deno.test("withServeV8Flags merges into a --v8-flags the caller gives", () => {
  assert.deepEqual(withServeV8Flags(["--cpu-prof"]), [SERVE_V8_FLAGS, "--cpu-prof"]);
  const merged = withServeV8Flags(["--v8-flags=--perf-basic-prof"]);
  assert.equal(merged.length, 1);
  assert.equal(merged[0], `--v8-flags=--perf-basic-prof,${SERVE_V8_FLAGS.slice("--v8-flags=".length)}`);
});
