/**
 * Session creation: checks a session's parameters against the engine's `Catalog` and builds the `OpRunner`
 * that will serve it. Every refusal is an `EngineError`: `notsupp` for what the engine does not do, `invalid`
 * for parameters that are wrong whatever the engine.
 *
 * @module
 */

import { AlgChainOrder, CryptoOpDirection, SymHashMode } from "../../spec/virtio_crypto.ts";
import {
  type AeadSessionParams,
  type ChainSessionParams,
  type CipherSessionParams,
  EngineError,
  type HashSessionParams,
  type MacSessionParams,
  type SessionParams,
} from "../engine.ts";
import { CcmRunner } from "./aead_ccm.ts";
import { StreamAeadRunner } from "./aead_stream.ts";
import type { AuthCore } from "./auth_core.ts";
import type { Catalog } from "./catalog.ts";
import { type CipherCore, EvpCipherCore } from "./cipher_core.ts";
import { ChainRunner } from "./chain_session.ts";
import { Ctr64Core } from "./ctr64_core.ts";
import { DigestCore } from "./digest_core.ts";
import { GmacCore } from "./gmac_core.ts";
import { MacCore } from "./mac_core.ts";
import type { FetchedAlgorithms } from "./providers.ts";
import { AuthRunner, CipherRunner, type OpRunner } from "./session.ts";
import { MAX_GATHER, type Workspace } from "./workspace.ts";

/** What session creation works with: the engine's catalog, fetched objects and workspace. */
export interface FactoryContext {
  readonly catalog: Catalog;
  readonly fetched: FetchedAlgorithms;
  readonly ws: Workspace;
}

/**
 * Checks `params` and builds the runner for them.
 *
 * @param context The engine's catalog, fetched objects and workspace.
 * @param params The session parameters.
 * @returns The runner.
 * @throws EngineError `notsupp` or `invalid` (and `nospc` when OpenSSL is out of memory).
 */
export function createRunner(context: FactoryContext, params: SessionParams): OpRunner {
  switch (params.service) {
    case "cipher":
      return new CipherRunner(context.ws, cipherCore(context, params));
    case "hash":
      return new AuthRunner(context.ws, hashCore(context, params), params.resultLen);
    case "mac":
      return new AuthRunner(context.ws, macCore(context, params), params.resultLen);
    case "aead":
      return aeadRunner(context, params);
    case "chain":
      return chainRunner(context, params);
    case "akcipher":
      throw notSupported("akcipher", params.algo);
  }
}

function cipherCore(context: FactoryContext, params: Omit<CipherSessionParams, "service">): CipherCore {
  const entry = context.catalog.ciphers.get(params.algo);
  if (entry === undefined) throw notSupported("cipher", params.algo);
  checkOneOf("key length", params.key.length, entry.keyLengths);
  checkDirection(params.direction);
  const cipher = context.fetched.get("cipher", entry.evpName(params.key.length))!;
  const { ws } = context;
  if (entry.kind === "ctr64") return new Ctr64Core({ ws, cipher, key: params.key });
  return new EvpCipherCore({ ws, entry, cipher, key: params.key, encrypt: params.direction === 1 });
}

function hashCore(context: FactoryContext, params: Omit<HashSessionParams, "service">): AuthCore {
  const entry = context.catalog.hashes.get(params.algo);
  if (entry === undefined) throw notSupported("hash", params.algo);
  const md = context.fetched.get("md", entry.evpName)!;
  const core = new DigestCore({ ws: context.ws, md, xof: entry.xof });
  const max = entry.xof ? MAX_GATHER : core.size;
  try {
    checkRange("result length", params.resultLen, 1, max);
  } catch (e) {
    core.close();
    throw e;
  }
  return core;
}

function macCore(context: FactoryContext, params: Omit<MacSessionParams, "service">): AuthCore {
  const entry = context.catalog.macs.get(params.algo);
  if (entry === undefined) throw notSupported("MAC", params.algo);
  checkOneOf("key length", params.key.length, entry.keyLengths);
  const name = entry.evpName(params.key.length);
  const { ws, fetched } = context;
  let core: AuthCore & { readonly size: number };
  if (entry.kind === "gmac") {
    core = new GmacCore({ ws, cipher: fetched.get("cipher", name)!, key: params.key });
  } else {
    const mac = fetched.get("mac", entry.kind === "hmac" ? "HMAC" : "CMAC")!;
    const param = { key: entry.kind === "hmac" ? "digest" : "cipher", value: name } as const;
    core = new MacCore({ ws, mac, param, key: params.key });
  }
  try {
    checkRange("result length", params.resultLen, 1, core.size);
  } catch (e) {
    core.close();
    throw e;
  }
  return core;
}

function aeadRunner(context: FactoryContext, params: AeadSessionParams): OpRunner {
  const entry = context.catalog.aeads.get(params.algo);
  if (entry === undefined) throw notSupported("AEAD", params.algo);
  checkOneOf("key length", params.key.length, entry.keyLengths);
  checkOneOf("tag length", params.tagLen, entry.tagLengths);
  checkDirection(params.direction);
  const cipher = context.fetched.get("cipher", entry.evpName(params.key.length))!;
  const common = {
    ws: context.ws,
    cipher,
    key: params.key,
    encrypt: params.direction === 1,
    tagLen: params.tagLen,
  };
  if (entry.kind === "whole") return new CcmRunner(common);
  return new StreamAeadRunner({ ...common, nonceMin: entry.nonceMin, nonceMax: entry.nonceMax });
}

function chainRunner(context: FactoryContext, params: ChainSessionParams): OpRunner {
  if (params.order !== AlgChainOrder.HASH_THEN_CIPHER && params.order !== AlgChainOrder.CIPHER_THEN_HASH) {
    throw invalid(
      `chain order must be 1 (hash then cipher) or 2 (cipher then hash): current value is ${params.order}`,
    );
  }
  const { auth } = params;
  if (auth.hashMode === SymHashMode.NESTED) {
    throw new EngineError("notsupp", "Cannot create session: nested hash mode is not supported");
  }
  if (auth.hashMode !== SymHashMode.PLAIN && auth.hashMode !== SymHashMode.AUTH) {
    throw invalid(`hash mode must be 1 (plain), 2 (auth) or 3 (nested): current value is ${auth.hashMode}`);
  }
  if (auth.hashMode === SymHashMode.AUTH && context.catalog.macs.get(auth.algo)?.kind === "gmac") {
    throw new EngineError(
      "notsupp",
      "Cannot create session: GMAC is not supported in a chain (its IV would be the cipher's)",
    );
  }
  const cipher = cipherCore(context, params.cipher);
  try {
    const authCore = auth.hashMode === SymHashMode.PLAIN ? hashCore(context, auth) : macCore(context, auth);
    return new ChainRunner({
      ws: context.ws,
      order: params.order,
      cipher,
      auth: authCore,
      resultLen: auth.resultLen,
    });
  } catch (e) {
    cipher.close();
    throw e;
  }
}

function notSupported(service: string, algo: number): EngineError {
  return new EngineError(
    "notsupp",
    `Cannot create session: ${service} algorithm ${algo} is not supported by this engine`,
  );
}

function invalid(what: string): EngineError {
  return new EngineError("invalid", `Cannot create session: ${what}`);
}

function checkDirection(direction: number): void {
  if (direction !== CryptoOpDirection.ENCRYPT && direction !== CryptoOpDirection.DECRYPT) {
    throw invalid(`direction must be 1 (encrypt) or 2 (decrypt): current value is ${direction}`);
  }
}

function checkRange(what: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalid(`${what} must be ${min === max ? min : `${min} to ${max}`}: current value is ${value}`);
  }
}

function checkOneOf(what: string, value: number, allowed: readonly number[]): void {
  if (allowed.includes(value)) return;
  const contiguous = allowed.length > 3 && allowed.every((v, i) => i === 0 || v === allowed[i - 1]! + 1);
  const text = contiguous
    ? `${allowed[0]} to ${allowed.at(-1)}`
    : allowed.length === 1
    ? `${allowed[0]}`
    : `${allowed.slice(0, -1).join(", ")} or ${allowed.at(-1)}`;
  throw invalid(`${what} must be ${text}: current value is ${value}`);
}
