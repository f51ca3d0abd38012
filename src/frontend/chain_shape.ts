/**
 * What a request is made of on the driver side, before it is laid out in guest RAM: device-readable parts,
 * device-writable parts and the shape of the chain they become. `VirtioCryptoDriver.submit` takes them,
 * `layOutRequest` lays them out and the request builders produce them; they live apart from all three so none of
 * those files imports another for its types.
 *
 * @module
 */

/** One device-readable part of a request. */
export interface OutPart {
  readonly bytes: Uint8Array;
}

/** One device-writable part; `aliasOut` makes it the same guest buffer as that out part (in place). */
export interface InPart {
  readonly length: number;
  readonly aliasOut?: number;
}

/** How a request's chain is built. */
export interface ChainShape {
  /** One indirect descriptor instead of a direct chain. */
  readonly indirect?: boolean;
  /** Split every part into descriptors of at most this many bytes (exercises multi-descriptor chains). */
  readonly maxDescriptor?: number;
  /** Append a 1-byte status descriptor (data requests). Default true. */
  readonly status?: boolean;
}
