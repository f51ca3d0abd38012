/**
 * The program's version: printed by `--version`, reported by the control socket's `status` and written into
 * benchmark reports. It follows `version` in deno.json (a test keeps the two equal).
 *
 * @module
 */

/** cryptobridge's version. */
export const VERSION = "0.1.0";
