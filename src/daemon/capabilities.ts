/**
 * A readable table of an engine's capabilities (printed by `serve` and `info`).
 *
 * @module
 */

import type { AlgorithmInfo, Capabilities } from "../engine/engine.ts";

/**
 * Formats capabilities as a table: service, spec id, algorithm, key lengths, implementation.
 *
 * @param caps The capabilities.
 * @returns The table.
 */
export function describeCapabilities(caps: Capabilities): string {
  const rows: string[][] = [["service", "id", "algorithm", "keys (bytes)", "implementation"]];
  const add = (service: string, table: ReadonlyMap<number, AlgorithmInfo>): void => {
    for (const [id, info] of [...table].sort((a, b) => a[0] - b[0])) {
      rows.push([service, String(id), info.name, keyLengths(info.keyLengths), info.source]);
    }
  };
  add("cipher", caps.cipher);
  add("hash", caps.hash);
  add("mac", caps.mac);
  add("aead", caps.aead);
  add("akcipher", caps.akcipher);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const lines = rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join("  ").trimEnd());
  lines.splice(1, 0, widths.map((w) => "-".repeat(w)).join("  "));
  lines.push(
    `algorithm chaining: ${
      caps.chaining ? "yes" : "no"
    }; largest keys: cipher ${caps.maxCipherKeyLen}, auth ${caps.maxAuthKeyLen}`,
  );
  return lines.join("\n");
}

// "16/24/32", or "1-256" for a run of consecutive lengths.
function keyLengths(lengths: readonly number[]): string {
  if (lengths.length === 0) return "-";
  const first = lengths[0]!;
  const last = lengths[lengths.length - 1]!;
  const run = lengths.length > 2 && lengths.every((n, i) => n === first + i);
  return run ? `${first}-${last}` : lengths.join("/");
}
