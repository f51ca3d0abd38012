/**
 * PCI addresses (domain:bus:device.function, "BDF"), as sysfs names them: `0000:00:04.0`.
 *
 * @module
 */

import { PciError } from "./errors.ts";

const FULL_RE = /^([0-9a-f]{4}):([0-9a-f]{2}):([0-1][0-9a-f])\.([0-7])$/;
const SHORT_RE = /^([0-9a-f]{2}):([0-1][0-9a-f])\.([0-7])$/;

/**
 * The canonical sysfs form of a PCI address; the domain may be left out (`00:04.0` means `0000:00:04.0`, as
 * lspci and dpdk-devbind accept). Case is ignored.
 *
 * @param text What the user typed.
 * @returns `dddd:bb:dd.f` in lower case, or `null` when `text` is not a PCI address.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalizeBdf } from "./address.ts";
 * assert.equal(normalizeBdf("00:04.0"), "0000:00:04.0");
 * assert.equal(normalizeBdf("vfio-pci"), null);
 * ```
 */
export function normalizeBdf(text: string): string | null {
  const t = text.trim().toLowerCase();
  if (FULL_RE.test(t)) return t;
  return SHORT_RE.test(t) ? `0000:${t}` : null;
}

/**
 * `normalizeBdf` that throws.
 *
 * @param text What the user typed.
 * @returns The canonical address.
 * @throws PciError `bad-address`.
 */
export function parseBdf(text: string): string {
  const bdf = normalizeBdf(text);
  if (bdf === null) {
    throw new PciError(
      "bad-address",
      `"${text}" is not a PCI address: expected the form 0000:00:04.0 (domain:bus:device.function)`,
    );
  }
  return bdf;
}
