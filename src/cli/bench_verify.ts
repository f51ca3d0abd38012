/**
 * The reference answers of `cryptobridge bench`: each slot's expected output, computed in the bench process by the
 * software engine (OpenSSL) from the same session and input bytes the back-end gets, with the operation built the
 * way the device's parser builds it (`src/crypto/request.ts`). The CLI may import engines; `src/frontend/` may not,
 * so the load generator receives these bytes as a callback's result.
 *
 * @module
 */

import { Status } from "../spec/virtio_crypto.ts";
import { allocHostMemory, type CryptoEngine, CryptoOp, type SessionParams } from "../engine/mod.ts";
import type { SessionSpec, WorkloadRequest } from "../frontend/mod.ts";

/**
 * The engine's session parameters for a front-end session.
 *
 * @param spec The session as the front-end asks for it.
 * @returns The same session for `CryptoEngine.createSession`.
 */
export function sessionParamsOf(spec: SessionSpec): SessionParams {
  switch (spec.service) {
    case "cipher":
      return { service: "cipher", algo: spec.algo, key: spec.key, direction: spec.op };
    case "hash":
      return { service: "hash", algo: spec.algo, resultLen: spec.resultLen };
    case "mac":
      return { service: "mac", algo: spec.algo, resultLen: spec.resultLen, key: spec.key };
    case "aead":
      return {
        service: "aead",
        algo: spec.algo,
        key: spec.key,
        tagLen: spec.tagLen,
        aadLen: spec.aadLen,
        direction: spec.op,
      };
    case "chain":
      return {
        service: "chain",
        order: spec.order,
        cipher: { algo: spec.cipherAlgo, key: spec.key, direction: spec.op },
        auth: { hashMode: spec.hashMode, algo: spec.authAlgo, resultLen: spec.resultLen, key: spec.authKey },
        aadLen: spec.aadLen,
      };
  }
}

/** Computes expected outputs for one session. Close it when done (the engine session holds keys). */
export class ReferenceSession implements Disposable {
  readonly #engine: CryptoEngine;
  readonly #spec: SessionSpec;
  readonly #session: ReturnType<CryptoEngine["createSession"]>;

  /**
   * @param engine The reference engine (the software engine).
   * @param spec The session.
   */
  constructor(engine: CryptoEngine, spec: SessionSpec) {
    this.#engine = engine;
    this.#spec = spec;
    this.#session = engine.createSession(sessionParamsOf(spec));
  }

  /**
   * The bytes the device must write for a request (its written roles concatenated in chain order, without the
   * status byte).
   *
   * @param req The slot's request, with its input bytes.
   * @returns The expected output.
   * @throws Error when the reference engine refuses the operation.
   */
  expected(req: WorkloadRequest): Uint8Array {
    const iv = req.input.iv ?? new Uint8Array(0);
    const src = req.input.src_data ?? new Uint8Array(0);
    const aad = req.input.aad ?? new Uint8Array(0);
    const outLen = req.output.reduce((n, o) => n + o.length, 0);
    // [iv][aad][src][output roles, in chain order]
    const mem = allocHostMemory(iv.length + aad.length + src.length + outLen + 1);
    let at = 0;
    const put = (b: Uint8Array): number => {
      mem.bytes.set(b, at);
      at += b.length;
      return at - b.length;
    };
    const ivAt = put(iv);
    const aadAt = put(aad);
    const srcAt = put(src);
    const outAt = at;
    const roleAt = new Map<string, { at: number; length: number }>();
    for (const o of req.output) {
      roleAt.set(o.role, { at, length: o.length });
      at += o.length;
    }
    const op = new CryptoOp(4);
    op.session = this.#session;
    this.#compose(op, mem, { ivAt, iv, aadAt, aad, srcAt, src }, roleAt);
    const status = this.#engine.submit(op);
    if (status !== Status.OK) {
      throw new Error(`Cannot compute the reference output: the software engine answered status ${status}`);
    }
    return mem.bytes.slice(outAt, outAt + outLen);
  }

  // The same lists src/crypto/request.ts gives the engine for each service.
  #compose(
    op: CryptoOp,
    mem: ReturnType<typeof allocHostMemory>,
    i: { ivAt: number; iv: Uint8Array; aadAt: number; aad: Uint8Array; srcAt: number; src: Uint8Array },
    roles: Map<string, { at: number; length: number }>,
  ): void {
    const dst = roles.get("dst_data");
    const hash = roles.get("hash_result");
    op.iv.push(mem, i.ivAt, i.iv.length);
    op.aad.push(mem, i.aadAt, i.aad.length);
    op.src.push(mem, i.srcAt, i.src.length);
    switch (this.#spec.service) {
      case "cipher":
        op.dst.push(mem, dst!.at, i.src.length);
        return;
      case "hash":
      case "mac":
        op.digest.push(mem, hash!.at, hash!.length);
        return;
      case "aead": {
        const tag = this.#spec.tagLen;
        op.dst.push(mem, dst!.at, i.src.length);
        op.digest.push(mem, dst!.at + i.src.length, tag);
        return;
      }
      case "chain":
        op.dst.push(mem, dst!.at, i.src.length);
        op.digest.push(mem, hash!.at, hash!.length);
        op.cipherOffset = 0;
        op.cipherLen = i.src.length;
        op.hashOffset = 0;
        op.hashLen = i.src.length;
        return;
    }
  }

  /** Closes the reference session (the engine zeroes its key copies). */
  close(): void {
    this.#engine.closeSession(this.#session);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
