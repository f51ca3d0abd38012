/**
 * Session parameters as they cross threads for a synchronous call (`src/threads/sync_call.ts`): everything but
 * the keys as JSON, the keys as binary blobs, which the call zeroes in shared memory once read (a key must never
 * ride in a structured clone or a JSON string, which nobody zeroes).
 *
 * @module
 */

import type { SessionParams } from "../../engine/mod.ts";

/** The JSON part: the parameters with each key replaced by its blob's index. */
export type ParamsWire = Record<string, unknown>;

/**
 * Splits parameters into JSON and key blobs.
 *
 * @param params The session parameters.
 * @returns The JSON part and the keys (views of the caller's buffers: not copies).
 */
export function paramsToWire(params: SessionParams): { wire: ParamsWire; blobs: Uint8Array[] } {
  const blobs: Uint8Array[] = [];
  const key = (k: Uint8Array): number => blobs.push(k) - 1;
  switch (params.service) {
    case "cipher":
    case "mac":
    case "aead":
    case "akcipher":
      return { wire: { ...params, key: key(params.key) }, blobs };
    case "hash":
      return { wire: { ...params }, blobs };
    case "chain":
      return {
        wire: {
          ...params,
          cipher: { ...params.cipher, key: key(params.cipher.key) },
          auth: { ...params.auth, key: key(params.auth.key) },
        },
        blobs,
      };
  }
}

/**
 * Puts parameters back together.
 *
 * @param wire The JSON part.
 * @param blobs The keys, in order.
 * @returns The parameters (their keys are the blobs themselves: the caller zeroes them).
 * @throws TypeError for a malformed wire form.
 */
export function paramsFromWire(wire: ParamsWire, blobs: readonly Uint8Array[]): SessionParams {
  const blob = (i: unknown): Uint8Array => {
    const b = typeof i === "number" ? blobs[i] : undefined;
    if (b === undefined) throw new TypeError(`Cannot read session parameters: no key blob ${String(i)}`);
    return b;
  };
  switch (wire["service"]) {
    case "cipher":
    case "mac":
    case "aead":
    case "akcipher":
      return { ...wire, key: blob(wire["key"]) } as unknown as SessionParams;
    case "hash":
      return wire as unknown as SessionParams;
    case "chain": {
      const cipher = wire["cipher"] as Record<string, unknown>;
      const auth = wire["auth"] as Record<string, unknown>;
      return {
        ...wire,
        cipher: { ...cipher, key: blob(cipher["key"]) },
        auth: { ...auth, key: blob(auth["key"]) },
      } as unknown as SessionParams;
    }
    default:
      throw new TypeError(`Cannot read session parameters: unknown service ${String(wire["service"])}`);
  }
}
