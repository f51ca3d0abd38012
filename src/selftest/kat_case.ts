/**
 * One known-answer case: a session, the bytes of one request, and the answer the standard publishes. The
 * self-test builds cases from the vectors (`vector_cases.ts`, `chain_case.ts`), runs them on the accelerator
 * (`kat.ts`) and times requests shaped like them (`speed_op.ts`).
 *
 * @module
 */

import {
  allocHostMemory,
  CryptoOp,
  type EngineSession,
  type SessionParams,
  type SgList,
} from "../engine/mod.ts";

/** What a case expects back. */
export interface KatExpectation {
  /** The status byte (`Status.OK`, or `Status.BADMSG` for a forged tag). */
  readonly status: number;
  /** The destination's bytes, when checked. */
  readonly dst?: Uint8Array;
  /** The digest, MAC or tag list's bytes, when checked. */
  readonly digest?: Uint8Array;
}

/** One request with its published answer. */
export interface KatCase {
  /** The source's name for it, and the direction: `SP 800-38A F.2.1 CBC-AES128 (encrypt)`. */
  readonly id: string;
  readonly params: SessionParams;
  readonly iv?: Uint8Array;
  readonly src: Uint8Array;
  /** Destination bytes to reserve (services with an output). */
  readonly dstLen?: number;
  readonly aad?: Uint8Array;
  /** Digest or tag: bytes to place (AEAD decryption reads the tag), or a length to reserve. */
  readonly digest?: Uint8Array | number;
  /** Chains: the cipher and hash regions of the source (and destination). */
  readonly regions?: {
    readonly cipherOffset: number;
    readonly cipherLen: number;
    readonly hashOffset: number;
    readonly hashLen: number;
  };
  readonly expect: KatExpectation;
}

/** The lists of one request, as bytes or lengths. */
export interface OpShape {
  readonly iv?: Uint8Array;
  readonly src: Uint8Array;
  readonly dstLen?: number;
  readonly aad?: Uint8Array;
  readonly digest?: Uint8Array | number;
  readonly regions?: KatCase["regions"];
}

/**
 * An operation holding a request's bytes, each list in its own host memory block (not guest memory: the
 * accelerators copy it through their bounce areas, as for the start-up calibration).
 *
 * @param session The session to run it in.
 * @param shape The lists' contents.
 * @returns The operation.
 */
export function opOf(session: EngineSession, shape: OpShape): CryptoOp {
  const op = new CryptoOp(1);
  op.session = session;
  place(op.iv, shape.iv);
  place(op.src, shape.src);
  if (shape.dstLen !== undefined) place(op.dst, new Uint8Array(shape.dstLen));
  place(op.aad, shape.aad);
  place(op.digest, typeof shape.digest === "number" ? new Uint8Array(shape.digest) : shape.digest);
  if (shape.regions !== undefined) Object.assign(op, shape.regions);
  return op;
}

function place(list: SgList, bytes: Uint8Array | undefined): void {
  if (bytes === undefined || bytes.length === 0) return;
  const memory = allocHostMemory(bytes.length);
  memory.bytes.set(bytes);
  list.push(memory, 0, bytes.length);
}

/**
 * The bytes a list holds.
 *
 * @param list The list.
 * @returns A copy.
 */
export function bytesOf(list: SgList): Uint8Array {
  const out = new Uint8Array(list.total);
  list.copyOut(0, out);
  return out;
}
