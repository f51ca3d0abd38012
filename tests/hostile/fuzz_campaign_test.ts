// CI's short fuzz campaign (issue 14, item 6): `deno task fuzz` against a live serve in each mode, a few thousand
// seeded inputs each; it fails on a crash, a hang, a stray write into guest RAM, or growth in fds or memory.

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const FUZZ = fileURLToPath(new URL("../../scripts/fuzz.ts", import.meta.url));

for (const mode of ["event", "busy", "poll"]) {
  Deno.test(`fuzz campaign: 2000 seeded inputs against a two-VM serve in ${mode} mode: 0 crashes, hangs, stray writes`, async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        FUZZ,
        "--seed",
        "14",
        "--inputs",
        "2000",
        "--mode",
        mode,
        "--queues",
        "2",
        "--sockets",
        "2",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.ok(out.success, text);
    assert.match(text, /: 0 crashes, 0 hangs, 0 stray writes/);
    assert.match(text, /fuzz: \d{4,} inputs in/);
  });
}
