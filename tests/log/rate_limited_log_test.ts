import assert from "node:assert/strict";
import type { Logger } from "@logtape/logtape";
import { RateLimitedLog } from "../../src/log/mod.ts";

/** A logger that records `level: message` with the properties filled in. */
function recorder(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (message: string, props: Record<string, unknown> = {}) =>
    lines.push(`${level}: ${message.replace(/\{(\w+)\}/g, (_, k) => String(props[k]))}`);
  const logger = { info: at("info"), warn: at("warning"), warning: at("warning"), error: at("error") };
  return { logger: logger as unknown as Logger, lines };
}

Deno.test("RateLimitedLog shows a burst per kind and window, counts the rest, and reports them once per window", () => {
  let now = 0;
  const limited = new RateLimitedLog({ burst: 3, windowMs: 1000, now: () => now, label: "/run/vm1.sock" });
  const { logger, lines } = recorder();
  for (let i = 0; i < 100; i++) limited.warn(logger, "malformed-chain", "malformed chain {i}", { i });
  limited.info(logger, "session-refused", "refused");
  assert.deepEqual(lines, [
    "warning: malformed chain 0",
    "warning: malformed chain 1",
    "warning: malformed chain 2",
    "info: refused",
  ], "another kind has its own burst");
  assert.deepEqual(limited.suppressed, { "malformed-chain": 97 });
  now = 1500;
  assert.equal(
    limited.warn(logger, "malformed-chain", "malformed chain {i}", { i: 100 }),
    true,
    "a new window",
  );
  assert.equal(
    lines[4],
    "warning: suppressed 97 more malformed-chain lines in the last 2 s on /run/vm1.sock (97 since start)",
  );
  assert.equal(lines[5], "warning: malformed chain 100");
  assert.equal(limited.suppressedTotal, 97, "totals are kept for the stats");
  limited.close();
});

Deno.test("RateLimitedLog reports a flood that stopped at the end of its window, from a timer", async () => {
  const limited = new RateLimitedLog({ burst: 1, windowMs: 30 });
  const { logger, lines } = recorder();
  for (let i = 0; i < 10; i++) limited.warn(logger, "vring-stopped", "stopped");
  assert.equal(lines.length, 1);
  await new Promise((r) => setTimeout(r, 80));
  assert.match(
    lines[1] ?? "",
    /^warning: suppressed 9 more vring-stopped lines in the last \d+ s \(9 since start\)$/,
  );
  limited.close();
  assert.equal(lines.length, 2, "nothing more to report at close");
});

Deno.test("RateLimitedLog's summary reads as a sentence through the daemon's text format (no quoted fragment)", async () => {
  const { configure, getLogger, reset } = await import("@logtape/logtape");
  const { logFormatter } = await import("../../src/logging/format.ts");
  const printed: string[] = [];
  const text = logFormatter("text");
  await configure({
    reset: true,
    sinks: { mem: (record) => printed.push(text(record)) },
    loggers: [{ category: ["rl-test"], sinks: ["mem"], lowestLevel: "debug" }, {
      category: ["logtape", "meta"],
      sinks: [],
    }],
  });
  try {
    let now = 0;
    const limited = new RateLimitedLog({
      burst: 1,
      windowMs: 1000,
      now: () => now,
      label: "VM vm0 (/run/vm0.sock)",
    });
    const logger = getLogger(["rl-test"]);
    limited.warn(logger, "malformed-chain", "malformed chain");
    limited.warn(logger, "malformed-chain", "malformed chain");
    now = 2000;
    limited.flush();
    limited.close();
    const summary = printed.find((l) => l.includes("suppressed"));
    assert.ok(summary !== undefined, printed.join(""));
    assert.match(
      summary,
      /suppressed 1 more "malformed-chain" lines in the last 2 s on "VM vm0 \(\/run\/vm0\.sock\)" \(1 since start\)/,
    );
  } finally {
    await reset();
  }
});
