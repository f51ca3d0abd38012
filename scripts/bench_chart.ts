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
  /** `openssl` is drawn as the ceiling (thick, grey); `dpdk` (DPDK's vhost_crypto) in red; others as bridge lines. */
  readonly kind: "openssl" | "bridge" | "dpdk";
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
/** DPDK's lines: one colour, solid for the first mode and dashed for the second. */
const DPDK_COLOR = "#ff7f0e";
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

/** A panel's plot area, in SVG coordinates. */
interface Plot {
  readonly l: number;
  readonly r: number;
  readonly t: number;
  readonly b: number;
}

/** The log scales of a panel: the sizes and throughput ticks it shows, and where a point goes. */
interface Scale {
  readonly sizes: readonly number[];
  readonly yTicks: readonly number[];
  readonly sx: (size: number) => number;
  readonly sy: (mb: number) => number;
}

type Point = ChartSeries["points"][number];

function drawn(points: readonly Point[]): Point[] {
  return points.filter((p) => p.bytesPerSec > 0 && p.size > 0);
}

function renderPanel(panel: ChartPanel, x0: number, y0: number): string {
  const points = panel.series.flatMap((s) => drawn(s.points));
  const plot: Plot = {
    l: x0 + MARGIN.left,
    r: x0 + PANEL_W - MARGIN.right,
    t: y0 + MARGIN.top,
    b: y0 + PANEL_H - MARGIN.bottom,
  };
  const out: string[] = [`<g class="panel">`];
  out.push(
    `<text x="${(plot.l + plot.r) / 2}" y="${
      y0 + 20
    }" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(panel.title)}</text>`,
    `<rect x="${plot.l}" y="${plot.t}" width="${plot.r - plot.l}" height="${
      plot.b - plot.t
    }" fill="none" stroke="#999999"/>`,
  );
  if (points.length === 0) {
    out.push(
      `<text x="${(plot.l + plot.r) / 2}" y="${(plot.t + plot.b) / 2}" text-anchor="middle">no data</text>`,
    );
    out.push("</g>");
    return out.join("\n");
  }
  const scale = scaleOf(points, plot);
  out.push(...renderAxes(scale, plot, x0), ...renderSeries(panel.series, scale, plot), "</g>");
  return out.join("\n");
}

function scaleOf(points: readonly Point[], plot: Plot): Scale {
  const sizes = [...new Set(points.map((p) => p.size))].sort((a, b) => a - b);
  const mbs = points.map((p) => p.bytesPerSec / 1e6);
  const yTicks = logTicks(Math.min(...mbs), Math.max(...mbs));
  const yMin = Math.log10(yTicks[0]!);
  const yMax = Math.log10(yTicks[yTicks.length - 1]!);
  const xMin = Math.log2(sizes[0]!);
  const xMax = Math.log2(sizes[sizes.length - 1]!);
  const sx = (size: number): number =>
    xMax === xMin
      ? (plot.l + plot.r) / 2
      : plot.l + ((Math.log2(size) - xMin) / (xMax - xMin)) * (plot.r - plot.l);
  const sy = (mb: number): number =>
    yMax === yMin
      ? (plot.t + plot.b) / 2
      : plot.b - ((Math.log10(mb) - yMin) / (yMax - yMin)) * (plot.b - plot.t);
  return { sizes, yTicks, sx, sy };
}

/** Grid lines, tick labels and the two axis titles. */
function renderAxes(scale: Scale, plot: Plot, x0: number): string[] {
  const out: string[] = [];
  for (const t of scale.yTicks) {
    const y = scale.sy(t).toFixed(1);
    out.push(
      `<line x1="${plot.l}" x2="${plot.r}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`,
      `<text x="${plot.l - 4}" y="${y}" text-anchor="end" dominant-baseline="middle">${mbLabel(t)}</text>`,
    );
  }
  for (const s of scale.sizes) {
    const x = scale.sx(s).toFixed(1);
    out.push(
      `<line x1="${x}" x2="${x}" y1="${plot.t}" y2="${plot.b}" stroke="#f0f0f0"/>`,
      `<text x="${x}" y="${plot.b + 14}" text-anchor="middle">${sizeLabel(s)}</text>`,
    );
  }
  out.push(
    `<text x="${(plot.l + plot.r) / 2}" y="${
      plot.b + 30
    }" text-anchor="middle">request size (bytes, log scale)</text>`,
    `<text x="${x0 + 14}" y="${(plot.t + plot.b) / 2}" text-anchor="middle" transform="rotate(-90 ${
      x0 + 14
    } ${(plot.t + plot.b) / 2})">MB/s (log scale)</text>`,
  );
  return out;
}

/** Each series as a line with its points, then the legend under the plot (in the same order). */
function renderSeries(series: readonly ChartSeries[], scale: Scale, plot: Plot): string[] {
  const out: string[] = [];
  const legend: string[] = [];
  let bridgeIndex = 0;
  let dpdkIndex = 0;
  let legendX = plot.l;
  for (const line of series) {
    const ceiling = line.kind === "openssl";
    const dpdk = line.kind === "dpdk";
    const style = {
      color: ceiling ? "#7f7f7f" : dpdk ? DPDK_COLOR : BRIDGE_COLORS[bridgeIndex % BRIDGE_COLORS.length]!,
      dash: ceiling || (dpdk && dpdkIndex % 2 === 0)
        ? ""
        : dpdk
        ? "6,3"
        : BRIDGE_DASHES[bridgeIndex % BRIDGE_DASHES.length]!,
      width: ceiling ? 4 : 2,
      radius: ceiling ? 3.5 : 2.5,
    };
    if (dpdk) dpdkIndex++;
    else if (!ceiling) bridgeIndex++;
    const pts = drawn(line.points).sort((a, b) => a.size - b.size);
    if (pts.length === 0) continue;
    out.push(...renderLine(line, pts, { scale, style }));
    legend.push(renderLegendItem(line.label, style, { x: legendX, y: plot.b + 44 }));
    legendX += 44 + line.label.length * 6.5; // ~6.5 px per character at 11 px
  }
  return [...out, ...legend];
}

interface LineStyle {
  readonly color: string;
  readonly dash: string;
  readonly width: number;
  readonly radius: number;
}

function dashAttr(style: LineStyle): string {
  return style.dash === "" ? "" : ` stroke-dasharray="${style.dash}"`;
}

function renderLine(
  line: ChartSeries,
  pts: readonly Point[],
  how: { readonly scale: Scale; readonly style: LineStyle },
): string[] {
  const { scale: { sx, sy }, style } = how;
  const path = pts.map((p) => `${sx(p.size).toFixed(1)},${sy(p.bytesPerSec / 1e6).toFixed(1)}`).join(" ");
  const out = [
    `<polyline class="${line.kind}" points="${path}" fill="none" stroke="${style.color}" stroke-width="${style.width}"${
      dashAttr(style)
    }><title>${escapeXml(line.label)}</title></polyline>`,
  ];
  for (const p of pts) {
    out.push(
      `<circle cx="${sx(p.size).toFixed(1)}" cy="${
        sy(p.bytesPerSec / 1e6).toFixed(1)
      }" r="${style.radius}" fill="${style.color}"><title>${escapeXml(line.label)} ${p.size} B: ${
        (p.bytesPerSec / 1e6).toFixed(1)
      } MB/s</title></circle>`,
    );
  }
  return out;
}

function renderLegendItem(
  label: string,
  style: LineStyle,
  at: { readonly x: number; readonly y: number },
): string {
  const { x, y } = at;
  return `<line x1="${x}" x2="${
    x + 22
  }" y1="${y}" y2="${y}" stroke="${style.color}" stroke-width="${style.width}"${dashAttr(style)}/><text x="${
    x + 26
  }" y="${y}" dominant-baseline="middle">${escapeXml(label)}</text>`;
}
