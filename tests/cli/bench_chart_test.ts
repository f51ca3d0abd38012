import assert from "node:assert/strict";
import { escapeXml, logTicks, renderChart } from "../../scripts/bench_chart.ts";

const PANEL = {
  title: "aes-128-cbc",
  series: [
    {
      label: "openssl speed",
      kind: "openssl" as const,
      points: [{ size: 64, bytesPerSec: 600e6 }, { size: 16384, bytesPerSec: 1300e6 }],
    },
    {
      label: "bridge, poll",
      kind: "bridge" as const,
      points: [{ size: 64, bytesPerSec: 32e6 }, { size: 16384, bytesPerSec: 1100e6 }],
    },
  ],
};

Deno.test("renderChart() draws one panel per algorithm with the OpenSSL ceiling and the bridge lines", () => {
  const svg = renderChart({ title: "throughput <by size>", subtitle: "AMD & co", panels: [PANEL, PANEL] });
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(svg, /<\/svg>\n$/);
  assert.equal(svg.match(/<g class="panel">/g)?.length, 2);
  assert.equal(svg.match(/<polyline class="openssl"/g)?.length, 2);
  assert.equal(svg.match(/<polyline class="bridge"/g)?.length, 2);
  assert.ok(svg.includes("throughput &#60;by size&#62;"));
  assert.ok(svg.includes("AMD &#38; co"));
  assert.ok(svg.includes(">16K<"), "log-x axis labels sizes");
  assert.ok(svg.includes("bridge, poll 16384 B: 1100.0 MB/s"), "points carry their values");
  // Every tag opened is closed: a rough well-formedness check without an XML parser.
  const opened = (svg.match(/<(svg|g|text|polyline|circle|title)\b/g) ?? []).length;
  const closed = (svg.match(/<\/(svg|g|text|polyline|circle|title)>/g) ?? []).length;
  assert.equal(opened, closed);
});

Deno.test("renderChart() puts higher throughput higher on the page (log y axis)", () => {
  const svg = renderChart({ title: "t", subtitle: "s", panels: [PANEL] });
  const ys = [...svg.matchAll(/<circle cx="[\d.]+" cy="([\d.]+)"/g)].map((m) => Number(m[1]));
  // openssl 64 B (600 MB/s) above bridge 64 B (32 MB/s): smaller y
  assert.ok(ys[0]! < ys[2]!);
});

Deno.test("renderChart() marks a panel without data", () => {
  const svg = renderChart({ title: "t", subtitle: "s", panels: [{ title: "x", series: [] }] });
  assert.ok(svg.includes("no data"));
});

Deno.test("logTicks() covers the range in 1-2-5 steps over whole decades", () => {
  assert.deepEqual(logTicks(30, 1300), [10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000]);
  assert.deepEqual(logTicks(1, 1), [1]);
});

Deno.test("escapeXml() escapes markup characters", () => {
  assert.equal(escapeXml(`<a href="x">&'`), "&#60;a href=&#34;x&#34;&#62;&#38;&#39;");
});
