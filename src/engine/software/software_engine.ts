/**
 * `SoftwareEngine`: the `CryptoEngine` that runs everything OpenSSL's libcrypto (EVP, through Deno FFI) can do,
 * on the caller's memory in place (design.md, decision 1).
 *
 * Hot path (AES-CBC/CTR/ECB, AES-GCM, HMAC, hashes): `submit` runs synchronously, allocates no Promise and no
 * typed array, reuses the session's OpenSSL context (`EVP_CipherInit_ex` with only the new IV; `EVP_MAC_init`
 * without a key), and hands OpenSSL guest addresses as `bigint` (`hostAddress`: `memory.address + BigInt(offset >>> 0)`, no heap BigInt).
 *
 * @module
 */

import { libcrypto as C } from "../../../ffi/libcrypto.ts";
import { Status } from "../../spec/virtio_crypto.ts";
import {
  type Capabilities,
  type CryptoEngine,
  type CryptoOp,
  EngineError,
  type EngineSession,
  type SessionParams,
} from "../engine.ts";
import { Catalog } from "./catalog.ts";
import { keyMaterial } from "./key_copy.ts";
import { FetchedAlgorithms, loadProviders } from "./providers.ts";
import { createRunner } from "./session_factory.ts";
import { SoftwareSession } from "./session.ts";
import { Workspace } from "./workspace.ts";

/** Options of a `SoftwareEngine`. */
export interface SoftwareEngineOptions {
  /** Claim the `legacy` provider's algorithms (DES, ARC4) when it loads. Default: true. */
  readonly legacy?: boolean;
  /** Most open sessions; beyond it `createSession` fails with `nospc`. Default: 65536. */
  readonly maxSessions?: number;
}

/**
 * The OpenSSL software engine.
 *
 * @example
 * ```ts
 * import { SoftwareEngine } from "./mod.ts";
 * const engine = new SoftwareEngine();
 * const caps = engine.capabilities();
 * if (!caps.cipher.has(3)) throw new Error("AES-CBC missing");
 * engine.close();
 * ```
 */
export class SoftwareEngine implements CryptoEngine {
  /** The engine's name in logs and metrics. */
  readonly name = "software";
  readonly #fetched = new FetchedAlgorithms();
  readonly #catalog: Catalog;
  readonly #ws = new Workspace();
  readonly #sessions = new Set<SoftwareSession>();
  readonly #maxSessions: number;
  #closed = false;

  /**
   * Loads the providers (once per process) and probes which algorithms the host's OpenSSL serves.
   *
   * @param options Legacy algorithms, session limit.
   * @throws Error when libcrypto.so.3 or its default provider cannot be loaded.
   */
  constructor(options: SoftwareEngineOptions = {}) {
    this.#catalog = new Catalog(this.#fetched, loadProviders(), options.legacy ?? true);
    this.#maxSessions = options.maxSessions ?? 65536;
  }

  /** What the engine serves (the same object on every call). */
  capabilities(): Capabilities {
    return this.#catalog.capabilities;
  }

  /**
   * Creates a session: checks the parameters and keys an OpenSSL context.
   *
   * @param params The session parameters; the engine keeps no reference to `key` contents.
   * @returns The session.
   * @throws EngineError `notsupp`, `invalid`, `nospc` (limit reached) or `unavailable` (engine closed).
   */
  createSession(params: SessionParams): EngineSession {
    if (this.#closed) throw new EngineError("unavailable", "Cannot create session: the engine is closed");
    if (this.#sessions.size >= this.#maxSessions) {
      throw new EngineError(
        "nospc",
        `Cannot create session: session limit reached: limit is ${this.#maxSessions}`,
      );
    }
    const runner = createRunner({ catalog: this.#catalog, fetched: this.#fetched, ws: this.#ws }, params);
    const session = new SoftwareSession(params, this, runner);
    this.#sessions.add(session);
    return session;
  }

  /**
   * Closes a session: frees its OpenSSL contexts (which cleanse their key copies) and zeroes the engine's own
   * key copies. Closing twice, or a session of another engine, is harmless.
   *
   * @param session The session.
   */
  closeSession(session: EngineSession): void {
    if (!(session instanceof SoftwareSession) || !this.#sessions.delete(session)) return;
    session.close();
  }

  /**
   * Runs one operation synchronously.
   *
   * @param op The operation (its session must be one of this engine's open sessions).
   * @returns A `Status` byte: OK, ERR, BADMSG, or INVSESS for a missing, closed or foreign session.
   */
  submit(op: CryptoOp): number {
    const session = op.session;
    if (!(session instanceof SoftwareSession) || session.engine !== this) return Status.INVSESS;
    try {
      return session.run(op);
    } catch {
      // A list inconsistent with its total (a caller bug) must not take the daemon down.
      C.ERR_clear_error();
      return Status.ERR;
    } finally {
      this.#ws.release();
    }
  }

  /** Closes every session, frees the fetched algorithms and zeroes the scratch memory. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const session of this.#sessions) session.close();
    this.#sessions.clear();
    this.#fetched.close();
    this.#ws.wipe();
  }

  /** Test hook: the engine's key staging memory (zero between session creations). */
  [keyMaterial](): readonly Uint8Array[] {
    return [this.#ws.stagedKeyBytes];
  }
}
