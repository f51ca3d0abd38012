import assert from "node:assert/strict";
import {
  escapeLabelValue,
  formatValue,
  LatencyHistogram,
  metricFamilies,
  MetricsRegistry,
  writeExposition,
} from "../../src/metrics/mod.ts";
import { hasPromtool, parseExposition, promtoolCheck, valueOf } from "./_parse.ts";
import { SNAPSHOT } from "./_snapshot.ts";

Deno.test("writeExposition() writes HELP, TYPE and samples; the parser reads back escaped values", () => {
  const text = writeExposition([
    {
      name: "x_total",
      help: 'a \\ help\nline with "quotes"',
      type: "counter",
      samples: [
        { labels: { v: 'q"b\\n\nz' }, value: 3 },
        { labels: {}, value: 1.5e-7 },
      ],
    },
    { name: "empty", help: "none", type: "gauge", samples: [] },
  ]);
  assert.equal(
    text,
    '# HELP x_total a \\\\ help\\nline with "quotes"\n# TYPE x_total counter\nx_total{v="q\\"b\\\\n\\nz"} 3\n' +
      "x_total 1.5e-7\n# HELP empty none\n# TYPE empty gauge\n",
  );
  const parsed = parseExposition(text);
  assert.equal(parsed.get("x_total")!.help, 'a \\ help\nline with "quotes"');
  assert.equal(valueOf(parsed, "x_total", "x_total", { v: 'q"b\\n\nz' }), 3);
  assert.equal(valueOf(parsed, "x_total", "x_total", {}), 1.5e-7);
  assert.equal(escapeLabelValue("a\\b"), "a\\\\b");
  assert.deepEqual([Infinity, -Infinity, NaN, 0, 1e21].map(formatValue), [
    "+Inf",
    "-Inf",
    "NaN",
    "0",
    "1e+21",
  ]);
});

Deno.test("writeExposition() refuses bad names, repeated series, a user le label and buckets out of order", () => {
  const one = (name: string, labels: Record<string, string>): string =>
    writeExposition([{ name, help: "h", type: "gauge", samples: [{ labels, value: 1 }] }]);
  assert.throws(() => one("9bad", {}), RangeError);
  assert.throws(() => one("ok", { "bad-label": "x" }), RangeError);
  assert.throws(() => one("ok", { __reserved: "x" }), RangeError);
  assert.throws(
    () =>
      writeExposition([{
        name: "g",
        help: "h",
        type: "gauge",
        samples: [{ labels: { a: "1" }, value: 1 }, {
          labels: { a: "1" },
          value: 2,
        }],
      }]),
    /appears twice/,
  );
  const h = (buckets: [number, number][], count: number): string =>
    writeExposition([{
      name: "h",
      help: "h",
      type: "histogram",
      samples: [{ labels: {}, buckets, sum: 1, count }],
    }]);
  assert.throws(() => h([[1, 1], [0.5, 2]], 2), /ascend/);
  assert.throws(() => h([[1, 3], [2, 2]], 3), /cumulative/);
  assert.throws(() => h([[1, 3]], 2), /count/);
  assert.throws(
    () =>
      writeExposition([{
        name: "h",
        help: "h",
        type: "histogram",
        samples: [{ labels: { le: "1" }, buckets: [], sum: 0, count: 0 }],
      }]),
    /label name "le"/,
  );
});

Deno.test("LatencyHistogram.observe() puts a value on a bound into that bucket (le is inclusive)", () => {
  const h = new LatencyHistogram([0.001, 0.01]);
  for (const s of [0.0005, 0.001, 0.002, 0.01, 5]) h.observe(s);
  assert.deepEqual(h.snapshot(), { bounds: [0.001, 0.01], counts: [2, 2, 1], sum: 5.0135 });
  assert.throws(() => new LatencyHistogram([0.1, 0.1]), RangeError);
});

Deno.test("metricFamilies() of a snapshot: every family, cumulative buckets, accelerator state as 0/1 gauges", async () => {
  const text = await new MetricsRegistry(() => SNAPSHOT).render();
  const p = parseExposition(text);
  const vm = { vm: "vm1" };
  assert.equal(
    valueOf(p, "cryptobridge_requests_total", "cryptobridge_requests_total", {
      ...vm,
      service: "cipher",
      algorithm: "AES-CBC",
      path: "accelerator",
      status: "ok",
    }),
    90,
  );
  assert.equal(
    valueOf(p, "cryptobridge_fallbacks_total", "cryptobridge_fallbacks_total", { ...vm, reason: "nospc" }),
    2,
  );
  assert.equal(
    valueOf(p, "cryptobridge_sessions_open", "cryptobridge_sessions_open", { ...vm, path: "software" }),
    1,
  );
  const bucket = (le: string): number | undefined =>
    valueOf(p, "cryptobridge_request_duration_seconds", "cryptobridge_request_duration_seconds_bucket", {
      ...vm,
      le,
    });
  assert.deepEqual([bucket("0.000025"), bucket("0.0005"), bucket("1"), bucket("+Inf")], [1, 2, 2, 3]);
  const dev = { device: "0000:00:04.0" };
  assert.equal(valueOf(p, "cryptobridge_accelerator_up", "cryptobridge_accelerator_up", dev), 0);
  assert.equal(
    valueOf(p, "cryptobridge_accelerator_state", "cryptobridge_accelerator_state", {
      ...dev,
      state: "failed",
    }),
    1,
  );
  assert.equal(
    valueOf(p, "cryptobridge_accelerator_state", "cryptobridge_accelerator_state", {
      ...dev,
      state: "ready",
    }),
    0,
  );
  assert.equal(
    valueOf(p, "cryptobridge_accelerator_resets_total", "cryptobridge_accelerator_resets_total", dev),
    2,
  );
  assert.ok(
    p.get("cryptobridge_requests_total")!.samples.some((s) => s.labels["vm"] === 'odd"name\\with\nnewline'),
  );
  // Without an accelerator its families stay declared, with no samples.
  const none = parseExposition(writeExposition(metricFamilies({ ...SNAPSHOT, accelerator: null })));
  assert.equal(none.get("cryptobridge_accelerator_up")!.samples.length, 0);
});

Deno.test({
  name:
    "promtool check metrics accepts a scrape (skipped only when promtool, Debian package prometheus, is absent)",
  ignore: !hasPromtool(),
  async fn(): Promise<void> {
    const text = await new MetricsRegistry(() => SNAPSHOT).render();
    assert.equal(await promtoolCheck(text), "");
  },
});
