/**
 * Plain-text tables for the command line: columns padded to their widest cell, two spaces apart.
 *
 * @module
 */

/**
 * Lays rows out under a header.
 *
 * @param header Column titles.
 * @param rows Cells, row by row.
 * @returns One line per row, the header first.
 */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(header), ...rows.map(line)];
}
