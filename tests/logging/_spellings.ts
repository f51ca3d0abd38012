/**
 * Test fixture: the ways a key could be written into a log line or an answer, for leak searches.
 *
 * @module
 */

/** Every spelling of a key (or of its first 8 bytes) a log line could hold. */
export function spellings(key: Uint8Array): string[] {
  const hex = [...key].map((b) => b.toString(16).padStart(2, "0")).join("");
  const b64 = btoa(String.fromCharCode(...key));
  const head = key.subarray(0, 8);
  return [
    hex,
    hex.toUpperCase(),
    [...head].map((b) => b.toString(16).padStart(2, "0")).join(""),
    b64,
    b64.replace(/=+$/, ""),
    b64.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""),
    btoa(String.fromCharCode(...head)).slice(0, 10),
    String.fromCharCode(...key), // raw bytes as latin1
    [...head].join(","),
    [...head].join(", "),
    [...head].map((b, i) => `"${i}":${b}`).join(","), // JSON of a typed array
  ];
}
