/**
 * The chart of `scripts/bench_report.ts`: throughput by request size, one panel per algorithm, as a hand-written
 * SVG. The x axis is the request size on a log scale; the y axis is throughput in MB/s on a log scale (64-byte
 * and 16 KiB figures differ by two orders of magnitude; on a log axis the gap between a bridge line and the
 * OpenSSL line is the ratio, the same height wherever it is). The OpenSSL line is the ceiling: software cannot do
 * better on one core; each bridge mode is a line under it.
 *
 * @module
 */

/** One line of a panel. */
export interface ChartSeries {
  /** Legend text. */
  readonly label: string;
  /** `openssl` is drawn as the ceiling (thick, grey); others as bridge lines. */
  readonly kind: "openssl" | "bridge";
  /** Points: request size in bytes, throughput in bytes/s (missing sizes are skipped). */
  readonly points: readonly { readonly size: number; readonly bytesPerSec: number }[];
}

/** One panel: an algorithm. */
export interface ChartPanel {
  readonly title: string;
  readonly series: readonly ChartSeries[];
}

/** What to draw. */
export interface ChartInput {
  readonly title: string;
  /** A line under the title (host, date, settings). */
  readonly subtitle: string;
  readonly panels: readonly ChartPanel[];
}

const PANEL_W = 460;
const PANEL_H = 300;
const MARGIN = { left: 64, right: 16, top: 34, bottom: 58 };
const COLUMNS = 2;
const HEADER = 56;
const BRIDGE_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];
const BRIDGE_DASHES = ["", "6 4", "2 3", "8 3 2 3"];

/**
 * Escapes text for SVG.
 *
 * @param s Any text.
 * @returns The text with `&`, `<`, `>` and quotes escaped.
 */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Powers of ten (and 2·, 5· steps) that cover a range, for log-axis ticks.
 *
 * @param min Lowest value (> 0).
 * @param max Highest value (≥ min).
 * @returns Tick values within [min, max] widened to whole decades.
 */
export function logTicks(min: number, max: number): number[] {
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  const ticks: number[] = [];
  for (let e = lo; e <= hi; e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= 10 ** lo && v <= 10 ** hi) ticks.push(v);
    }
  }
  return ticks;
}

/** A size as the axis shows it: 64, 256, 1K, 4K, 16K. */
function sizeLabel(size: number): string {
  return size >= 1024 && size % 1024 === 0 ? `${size / 1024}K` : String(size);
}

/** A throughput in MB/s as the axis shows it. */
function mbLabel(mb: number): string {
  return mb >= 1 ? String(Number(mb.toPrecision(3))) : mb.toPrecision(1);
}

/**
 * Renders the chart.
 *
 * @param input Title, subtitle and panels.
 * @returns An SVG document.
 */
export function renderChart(input: ChartInput): string {
  const rows = Math.max(1, Math.ceil(input.panels.length / COLUMNS));
  const width = COLUMNS * PANEL_W;
  const height = HEADER + rows * PANEL_H;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="16" font-weight="bold">${
      escapeXml(input.title)
    }</text>`,
    `<text x="${width / 2}" y="42" text-anchor="middle" fill="#555555">${escapeXml(input.subtitle)}</text>`,
  ];
  input.panels.forEach((panel, i) => {
    const x0 = (i % COLUMNS) * PANEL_W;
    const y0 = HEADER + Math.floor(i / COLUMNS) * PANEL_H;
    out.push(renderPanel(panel, x0, y0));
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}

function renderPanel(panel: ChartPanel, x0: number, y0: number): string {
  const points = panel.series.flatMap((s) => s.points.filter((p) => p.bytesPerSec > 0 && p.size > 0));
  const out: string[] = [`<g class="panel">`];
  const plotL = x0 + MARGIN.left;
  const plotR = x0 + PANEL_W - MARGIN.right;
  const plotT = y0 + MARGIN.top;
  const plotB = y0 + PANEL_H - MARGIN.bottom;
  out.push(
    `<text x="${(plotL + plotR) / 2}" y="${y0 + 20}" text-anchor="middle" font-size="13" font-weight="bold">${
      escapeXml(panel.title)
    }</text>`,
    `<rect x="${plotL}" y="${plotT}" width="${plotR - plotL}" height="${
      plotB - plotT
    }" fill="none" stroke="#999999"/>`,
  );
  if (points.length === 0) {
    out.push(
      `<text x="${(plotL + plotR) / 2}" y="${(plotT + plotB) / 2}" text-anchor="middle">no data</text>`,
    );
    out.push("</g>");
    return out.join("\n");
  }
  const sizes = [...new Set(points.map((p) => p.size))].sort((a, b) => a - b);
  const mbs = points.map((p) => p.bytesPerSec / 1e6);
  const yTicks = logTicks(Math.min(...mbs), Math.max(...mbs));
  const yMin = Math.log10(yTicks[0]!);
  const yMax = Math.log10(yTicks[yTicks.length - 1]!);
  const xMin = Math.log2(sizes[0]!);
  const xMax = Math.log2(sizes[sizes.length - 1]!);
  const sx = (size: number): number =>
    xMax === xMin
      ? (plotL + plotR) / 2
      : plotL + ((Math.log2(size) - xMin) / (xMax - xMin)) * (plotR - plotL);
  const sy = (mb: number): number =>
    yMax === yMin ? (plotT + plotB) / 2 : plotB - ((Math.log10(mb) - yMin) / (yMax - yMin)) * (plotB - plotT);
  for (const t of yTicks) {
    const y = sy(t).toFixed(1);
    out.push(
      `<line x1="${plotL}" x2="${plotR}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`,
      `<text x="${plotL - 4}" y="${y}" text-anchor="end" dominant-baseline="middle">${mbLabel(t)}</text>`,
    );
  }
  for (const s of sizes) {
    const x = sx(s).toFixed(1);
    out.push(
      `<line x1="${x}" x2="${x}" y1="${plotT}" y2="${plotB}" stroke="#f0f0f0"/>`,
      `<text x="${x}" y="${plotB + 14}" text-anchor="middle">${sizeLabel(s)}</text>`,
    );
  }
  out.push(
    `<text x="${(plotL + plotR) / 2}" y="${
      plotB + 30
    }" text-anchor="middle">request size (bytes, log scale)</text>`,
    `<text x="${x0 + 14}" y="${(plotT + plotB) / 2}" text-anchor="middle" transform="rotate(-90 ${x0 + 14} ${
      (plotT + plotB) / 2
    })">MB/s (log scale)</text>`,
  );
  let bridgeIndex = 0;
  const legend: string[] = [];
  let legendX = plotL;
  panel.series.forEach((series) => {
    const ceiling = series.kind === "openssl";
    const color = ceiling ? "#7f7f7f" : BRIDGE_COLORS[bridgeIndex % BRIDGE_COLORS.length]!;
    const dash = ceiling ? "" : BRIDGE_DASHES[bridgeIndex % BRIDGE_DASHES.length]!;
    if (!ceiling) bridgeIndex++;
    const pts = series.points.filter((p) => p.bytesPerSec > 0 && p.size > 0).sort((a, b) => a.size - b.size);
    if (pts.length === 0) return;
    const path = pts.map((p) => `${sx(p.size).toFixed(1)},${sy(p.bytesPerSec / 1e6).toFixed(1)}`).join(" ");
    const dashAttr = dash === "" ? "" : ` stroke-dasharray="${dash}"`;
    out.push(
      `<polyline class="${series.kind}" points="${path}" fill="none" stroke="${color}" stroke-width="${
        ceiling ? 4 : 2
      }"${dashAttr}><title>${escapeXml(series.label)}</title></polyline>`,
    );
    for (const p of pts) {
      out.push(
        `<circle cx="${sx(p.size).toFixed(1)}" cy="${sy(p.bytesPerSec / 1e6).toFixed(1)}" r="${
          ceiling ? 3.5 : 2.5
        }" fill="${color}"><title>${escapeXml(series.label)} ${p.size} B: ${
          (p.bytesPerSec / 1e6).toFixed(1)
        } MB/s</title></circle>`,
      );
    }
    const ly = plotB + 44;
    const lx = legendX;
    legendX += 44 + series.label.length * 6.5; // ~6.5 px per character at 11 px
    legend.push(
      `<line x1="${lx}" x2="${lx + 22}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="${
        ceiling ? 4 : 2
      }"${dashAttr}/><text x="${lx + 26}" y="${ly}" dominant-baseline="middle">${
        escapeXml(series.label)
      }</text>`,
    );
  });
  out.push(...legend, "</g>");
  return out.join("\n");
}
