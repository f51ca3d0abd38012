/**
 * Test helpers for engines: hex conversion, placing bytes in host memory as whole or split scatter-gather
 * lists, and running one operation. Shared by the conformance suite and engine-specific tests.
 *
 * @module
 */

import {
  allocHostMemory,
  type CryptoEngine,
  CryptoOp,
  type EngineSession,
  type SgList,
} from "../../src/engine/mod.ts";

/**
 * Bytes of a hex string.
 *
 * @param s Hex, even length.
 * @returns The bytes.
 */
export function hex(s: string): Uint8Array {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * Hex of bytes.
 *
 * @param b The bytes.
 * @returns Lower-case hex.
 */
export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Cut positions used to split lists at odd places (filtered to the data length). */
export const SRC_CUTS: readonly number[] = [1, 3, 17, 18, 41, 100, 333];
/** Cut positions for destinations, deliberately unlike `SRC_CUTS`. */
export const DST_CUTS: readonly number[] = [5, 16, 29, 30, 64, 250];
/** Cut positions for IVs, AAD, tags and digests. */
export const SMALL_CUTS: readonly number[] = [3, 7, 11];

/**
 * Appends `data` to `list`, split at `cuts`; every piece lives in its own host memory block at an odd offset,
 * so pieces never merge and addresses are unaligned.
 *
 * @param list The list to fill.
 * @param data The bytes.
 * @param cuts Split positions (those outside `(0, data.length)` are ignored); empty for one range.
 */
export function place(list: SgList, data: Uint8Array, cuts: readonly number[] = []): void {
  const points = [0, ...cuts.filter((c) => c > 0 && c < data.length), data.length];
  for (let i = 0; i + 1 < points.length; i++) {
    const piece = data.subarray(points[i]!, points[i + 1]!);
    if (piece.length === 0) continue;
    const memory = allocHostMemory(piece.length + 6);
    memory.bytes.set(piece, 3);
    list.push(memory, 3, piece.length);
  }
}

/**
 * Appends `length` zero bytes to `list`, split at `cuts`.
 *
 * @param list The list.
 * @param length Bytes.
 * @param cuts Split positions.
 */
export function reserve(list: SgList, length: number, cuts: readonly number[] = []): void {
  place(list, new Uint8Array(length), cuts);
}

/**
 * The bytes a list holds.
 *
 * @param list The list.
 * @returns A copy of its bytes.
 */
export function read(list: SgList): Uint8Array {
  const out = new Uint8Array(list.total);
  list.copyOut(0, out);
  return out;
}

/** Lists of one operation, as byte strings; a missing entry is an empty list. */
export interface OpData {
  readonly iv?: Uint8Array;
  readonly src?: Uint8Array;
  /** Destination length (zero bytes), unless `inPlace`. */
  readonly dstLen?: number;
  readonly aad?: Uint8Array;
  /** Digest or tag: bytes to place (AEAD decryption), or a length to reserve. */
  readonly digest?: Uint8Array | number;
  /** Split every list at odd positions. */
  readonly split?: boolean;
  /** Use the source ranges as the destination. */
  readonly inPlace?: boolean;
}

/**
 * Builds an operation for `session` from byte strings.
 *
 * @param session The session.
 * @param data The lists' contents.
 * @returns The operation.
 */
export function buildOp(session: EngineSession | null, data: OpData): CryptoOp {
  const op = new CryptoOp(64);
  op.session = session;
  const split = data.split === true;
  if (data.iv !== undefined) place(op.iv, data.iv, split ? SMALL_CUTS : []);
  if (data.src !== undefined) place(op.src, data.src, split ? SRC_CUTS : []);
  if (data.inPlace === true) op.dst.pushRange(op.src, 0, op.src.total);
  else if (data.dstLen !== undefined) reserve(op.dst, data.dstLen, split ? DST_CUTS : []);
  if (data.aad !== undefined) place(op.aad, data.aad, split ? SMALL_CUTS : []);
  if (typeof data.digest === "number") reserve(op.digest, data.digest, split ? SMALL_CUTS : []);
  else if (data.digest !== undefined) place(op.digest, data.digest, split ? SMALL_CUTS : []);
  return op;
}

/**
 * Runs `fn` with a fresh engine and closes it afterwards (tests share no state).
 *
 * @param makeEngine The engine factory.
 * @param fn The test body.
 */
export function withEngine(makeEngine: () => CryptoEngine, fn: (engine: CryptoEngine) => void): void {
  const engine = makeEngine();
  try {
    fn(engine);
  } finally {
    engine.close();
  }
}
