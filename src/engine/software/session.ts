/**
 * `SoftwareSession`: the engine's `EngineSession`, holding one `OpRunner` (what runs an operation for the
 * session's service) until it is closed. The simple runners live here: `CipherRunner` for cipher sessions and
 * `AuthRunner` for hash and MAC sessions.
 *
 * @module
 */

import { Status } from "../../spec/virtio_crypto.ts";
import type { CryptoEngine, CryptoOp, EngineSession, SessionParams } from "../engine.ts";
import type { AuthCore } from "./auth_core.ts";
import type { CipherCore } from "./cipher_core.ts";
import { fail } from "./fail.ts";
import { keyMaterial } from "./key_copy.ts";
import { feedSpan } from "./span.ts";
import type { Workspace } from "./workspace.ts";

/** What runs operations for one session. */
export interface OpRunner {
  /**
   * Runs one operation.
   *
   * @returns A `Status` byte.
   */
  run(op: CryptoOp): number;
  /** Engine-owned key copies (test hook). */
  readonly keyCopies: readonly Uint8Array[];
  /** Frees OpenSSL state and zeroes key copies. */
  close(): void;
}

/** A session of the software engine. */
export class SoftwareSession implements EngineSession {
  /** The parameters the session was created with (the caller's; the engine keeps its own key copies). */
  readonly params: SessionParams;
  /** The engine that created the session. */
  readonly engine: CryptoEngine;
  #runner: OpRunner | null;
  readonly #keyCopies: readonly Uint8Array[];

  /**
   * @param params The session parameters.
   * @param engine The owning engine.
   * @param runner What runs its operations.
   */
  constructor(params: SessionParams, engine: CryptoEngine, runner: OpRunner) {
    this.params = params;
    this.engine = engine;
    this.#runner = runner;
    this.#keyCopies = runner.keyCopies;
  }

  /** Whether the session was closed. */
  get closed(): boolean {
    return this.#runner === null;
  }

  /**
   * Runs one operation.
   *
   * @param op The operation.
   * @returns A `Status` byte; `INVSESS` once closed.
   */
  run(op: CryptoOp): number {
    const runner = this.#runner;
    return runner === null ? Status.INVSESS : runner.run(op);
  }

  /** Frees OpenSSL state and zeroes the engine's key copies. Idempotent. */
  close(): void {
    this.#runner?.close();
    this.#runner = null;
  }

  /** Test hook: the engine-owned memory that held this session's key material (zero after `close`). */
  [keyMaterial](): readonly Uint8Array[] {
    return this.#keyCopies;
  }
}

/** Runs cipher sessions: `src` → `dst` (`src.total` bytes) with the IV in `iv`. */
export class CipherRunner implements OpRunner {
  readonly #ws: Workspace;
  readonly #core: CipherCore;

  /**
   * @param ws The workspace.
   * @param core The cipher.
   */
  constructor(ws: Workspace, core: CipherCore) {
    this.#ws = ws;
    this.#core = core;
  }

  get keyCopies(): readonly Uint8Array[] {
    return this.#core.keyCopies;
  }

  run(op: CryptoOp): number {
    const len = op.src.total;
    if (op.dst.total < len) return Status.ERR;
    const ws = this.#ws;
    return this.#core.crypt(ws.srcSpan.set(op.src, 0, len), ws.dstSpan.set(op.dst, 0, len), op.iv);
  }

  close(): void {
    this.#core.close();
  }
}

/** Runs hash and MAC sessions: the digest of `src` into `digest` (`resultLen` bytes). */
export class AuthRunner implements OpRunner {
  readonly #ws: Workspace;
  readonly #core: AuthCore;
  readonly #resultLen: number;

  /**
   * @param ws The workspace.
   * @param core The hash or MAC.
   * @param resultLen Bytes of result to write.
   */
  constructor(ws: Workspace, core: AuthCore, resultLen: number) {
    this.#ws = ws;
    this.#core = core;
    this.#resultLen = resultLen;
  }

  get keyCopies(): readonly Uint8Array[] {
    return this.#core.keyCopies;
  }

  run(op: CryptoOp): number {
    if (op.digest.total < this.#resultLen) return Status.ERR;
    const ws = this.#ws;
    const core = this.#core;
    const ok = core.begin(op.iv) && feedSpan(ws.srcSpan.set(op.src, 0, op.src.total), core) &&
      core.finish(ws.auxSpan.set(op.digest, 0, this.#resultLen));
    return ok ? Status.OK : fail();
  }

  close(): void {
    this.#core.close();
  }
}
