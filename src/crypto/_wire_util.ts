/**
 * Helpers private to the crypto codecs: length checks that throw {@linkcode CryptoWireError}, output buffer
 * handling for encoders, and value formatting for messages.
 *
 * @module
 */

import { CryptoWireError, type CryptoWireErrorKind } from "./wire.ts";

/**
 * Throws `short-buffer` unless `bytes` holds at least `length` bytes.
 *
 * @param bytes The input.
 * @param length Bytes the structure needs.
 * @param what The structure, for the message ("control request").
 */
export function requireBytes(bytes: Uint8Array, length: number, what: string): void {
  if (bytes.length < length) {
    throw new CryptoWireError(
      "short-buffer",
      `Cannot decode ${what}: need ${length} bytes: current length is ${bytes.length}`,
    );
  }
}

/**
 * Returns the first `size` bytes of `target`, zeroed, or a new zeroed array when `target` is not given. Encoders
 * write fields on top, so padding and reserved fields go out as zero.
 *
 * @param target The caller's buffer, if any.
 * @param size Bytes the structure takes.
 * @param what The structure, for the message.
 * @returns A zeroed `size`-byte view.
 */
export function outputBuffer(target: Uint8Array | undefined, size: number, what: string): Uint8Array {
  if (target === undefined) return new Uint8Array(size);
  if (target.length < size) {
    throw new CryptoWireError(
      "short-buffer",
      `Cannot encode ${what}: need ${size} bytes: current length is ${target.length}`,
    );
  }
  const view = target.subarray(0, size);
  view.fill(0);
  return view;
}

/**
 * Formats an opcode or flag for messages: `0x0102`.
 *
 * @param value A u32.
 * @returns Hex with at least four digits.
 */
export function hex(value: number): string {
  return `0x${value.toString(16).padStart(4, "0")}`;
}

/**
 * Throws `key-too-long` when `length` exceeds `max`.
 *
 * @param what The field, for the message ("key_len").
 * @param length The value on the wire.
 * @param max The limit.
 */
export function requireKeyLen(what: string, length: number, max: number): void {
  if (length > max) {
    throw new CryptoWireError(
      "key-too-long",
      `Cannot accept ${what}: must be <= ${max}: current value is ${length}`,
    );
  }
}

/**
 * Checks that a number fits a u32 field before an encoder writes it (a wrong value would be truncated silently).
 *
 * @param what The field, for the message.
 * @param value The value to write.
 */
export function requireU32(what: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw new RangeError(`Cannot encode ${what}: must be a u32: current value is ${value}`);
  }
}

/** Where a hot-path decoder records a failure instead of throwing: `DataRequest` and `VlfPlan`. */
export interface FailureRecord {
  /** The error kind, `null` when there is none. */
  error: CryptoWireErrorKind | null;
  /** The spec field concerned (a constant string). */
  errorField: string;
  /** The offending value. */
  errorValue: number;
  /** The bound. */
  errorLimit: number;
}

/**
 * Records a failure without allocating (every argument is a number or a constant string).
 *
 * @returns `false`, so a caller can `return fail(...)` from a boolean step.
 */
export function recordFailure(
  r: FailureRecord,
  kind: CryptoWireErrorKind,
  field: string,
  value: number,
  limit: number,
): false {
  r.error = kind;
  r.errorField = field;
  r.errorValue = value;
  r.errorLimit = limit;
  return false;
}

/**
 * Builds the std-style message for a recorded decode failure: "Cannot decode data request: ...: current value
 * is ...".
 *
 * @param what The structure ("data request").
 * @param f The recorded failure.
 * @returns The message.
 */
export function describeError(what: string, f: Readonly<FailureRecord>): string {
  const prefix = `Cannot decode ${what}`;
  const v = f.errorValue;
  switch (f.error) {
    case "short-buffer":
      return `${prefix}: need ${f.errorLimit} bytes for ${f.errorField}: current length is ${v}`;
    case "unknown-opcode":
    case "unknown-op-type":
    case "unknown-hash-mode":
    case "unknown-algo":
    case "unknown-flag":
      return `${prefix}: ${f.errorField} is not supported: current value is ${hex(v)}`;
    case "length-overflow":
      return `${prefix}: ${f.errorField} must be < 2^32: current value is ${v}`;
    default:
      return `${prefix}: ${f.errorField} must be <= ${f.errorLimit}: current value is ${v}`;
  }
}
