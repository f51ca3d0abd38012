/**
 * The engine contract: what the device asks of anything that does cryptography (the OpenSSL software engine, an
 * accelerator, the fallback router).
 *
 * Sessions mirror the specification's session parameters; operations name byte ranges of caller memory
 * (`SgList`), so an engine reads and writes guest memory in place. `submit` returns the virtio status byte for a
 * synchronous engine, or `PENDING` and later calls `op.complete`, so a synchronous engine needs no Promise.
 *
 * @module
 */

import type { Direction } from "../spec/virtio_crypto.ts";
import { SgList } from "./sg_list.ts";

/** Per-service algorithm tables, keyed by the specification's algorithm ids (`src/crypto/constants.ts`). */
export interface Capabilities {
  /** `VIRTIO_CRYPTO_CIPHER_*` ids the engine serves. */
  readonly cipher: ReadonlyMap<number, AlgorithmInfo>;
  /** `VIRTIO_CRYPTO_HASH_*` ids. */
  readonly hash: ReadonlyMap<number, AlgorithmInfo>;
  /** `VIRTIO_CRYPTO_MAC_*` ids. */
  readonly mac: ReadonlyMap<number, AlgorithmInfo>;
  /** `VIRTIO_CRYPTO_AEAD_*` ids. */
  readonly aead: ReadonlyMap<number, AlgorithmInfo>;
  /** `VIRTIO_CRYPTO_AKCIPHER_*` ids. */
  readonly akcipher: ReadonlyMap<number, AlgorithmInfo>;
  /** Whether algorithm chaining (cipher + hash/MAC in one session) is served. */
  readonly chaining: boolean;
  /** Largest cipher key in bytes (`max_cipher_key_len`). */
  readonly maxCipherKeyLen: number;
  /** Largest MAC key in bytes (`max_auth_key_len`). */
  readonly maxAuthKeyLen: number;
}

/** What an engine says about one algorithm. */
export interface AlgorithmInfo {
  /** A readable name, such as `AES-CBC` or `HMAC-SHA256`. */
  readonly name: string;
  /** Accepted key lengths in bytes; empty for keyless algorithms (hashes). */
  readonly keyLengths: readonly number[];
  /** Where the engine's implementation comes from, such as `OpenSSL 3.0.19 (default provider)`. */
  readonly source: string;
}

/** Parameters of a cipher-only session. */
export interface CipherSessionParams {
  readonly service: "cipher";
  /** `VIRTIO_CRYPTO_CIPHER_*`. */
  readonly algo: number;
  /** The key; the engine copies what it needs, the caller zeroes its copy. */
  readonly key: Uint8Array;
  /** ENCRYPT (1) or DECRYPT (2). */
  readonly direction: Direction;
}

/** Parameters of a hash session. */
export interface HashSessionParams {
  readonly service: "hash";
  /** `VIRTIO_CRYPTO_HASH_*`. */
  readonly algo: number;
  /** Bytes of digest to produce (SHAKE: any length; others: at most the digest size). */
  readonly resultLen: number;
}

/** Parameters of a MAC session. */
export interface MacSessionParams {
  readonly service: "mac";
  /** `VIRTIO_CRYPTO_MAC_*`. */
  readonly algo: number;
  /** Bytes of MAC to produce (a truncated MAC when shorter than the full one). */
  readonly resultLen: number;
  /** The authentication key. */
  readonly key: Uint8Array;
}

/** Parameters of an AEAD session. */
export interface AeadSessionParams {
  readonly service: "aead";
  /** `VIRTIO_CRYPTO_AEAD_*`. */
  readonly algo: number;
  readonly key: Uint8Array;
  /** Tag length in bytes. */
  readonly tagLen: number;
  /** AAD length announced at session creation (requests carry their own). */
  readonly aadLen: number;
  readonly direction: Direction;
}

/** Parameters of an algorithm-chaining session (cipher plus hash or MAC). */
export interface ChainSessionParams {
  readonly service: "chain";
  /** `VIRTIO_CRYPTO_SYM_ALG_CHAIN_ORDER_*`: HASH_THEN_CIPHER (1) or CIPHER_THEN_HASH (2). */
  readonly order: number;
  readonly cipher: { readonly algo: number; readonly key: Uint8Array; readonly direction: Direction };
  /** `hashMode` PLAIN (1) takes a `VIRTIO_CRYPTO_HASH_*` id, AUTH (2) a `VIRTIO_CRYPTO_MAC_*` id and a key. */
  readonly auth: {
    readonly hashMode: number;
    readonly algo: number;
    readonly resultLen: number;
    readonly key: Uint8Array;
  };
  /** AAD length announced at session creation. */
  readonly aadLen: number;
}

/** Parameters of an asymmetric session (RSA, ECDSA). */
export interface AkcipherSessionParams {
  readonly service: "akcipher";
  /** `VIRTIO_CRYPTO_AKCIPHER_*`. */
  readonly algo: number;
  /** PUBLIC (1) or PRIVATE (2). */
  readonly keyType: number;
  /** DER key (PKCS#1 RSAPublicKey/RSAPrivateKey, RFC 5915 ECPrivateKey, SEC1 point). */
  readonly key: Uint8Array;
  /** RSA: padding (RAW 0, PKCS1 1) and hash; ECDSA: curve id in `padding`. */
  readonly padding: number;
  readonly hash: number;
}

/** Any session's parameters. */
export type SessionParams =
  | CipherSessionParams
  | HashSessionParams
  | MacSessionParams
  | AeadSessionParams
  | ChainSessionParams
  | AkcipherSessionParams;

/** An engine's session: opaque to the device, which only hands it back to the engine that made it. */
export interface EngineSession {
  /** The parameters the session was created with (keys already zeroed by the caller may read as zeros). */
  readonly params: SessionParams;
  /** The engine that owns this session. */
  readonly engine: CryptoEngine;
}

/** Why an engine refused to create a session. */
export type EngineErrorKind =
  /** The engine does not do this algorithm or mode: NOTSUPP, or try another engine. */
  | "notsupp"
  /** The parameters are wrong (key length, tag length...): ERR. */
  | "invalid"
  /** The engine is out of sessions: NOSPC, or try another engine. */
  | "nospc"
  /** The engine (a device) failed or vanished: try another engine. */
  | "unavailable"
  /** This VM's share of the engine's sessions is used up (a shared accelerator): try another engine. */
  | "quota";

/** A session could not be created. The `kind` tells the router and the device what to do. */
export class EngineError extends Error {
  override name = "EngineError";
  /** What went wrong, in the router's terms. */
  readonly kind: EngineErrorKind;

  /**
   * @param kind What went wrong.
   * @param message A std-style message: "Cannot create session: key length must be 16, 24 or 32: current value is 15".
   * @param options The cause, if any.
   */
  constructor(kind: EngineErrorKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.kind = kind;
  }
}

/** `submit` returns this when the engine completes later through `op.complete`. */
export const PENDING = -1;

/**
 * An accelerator returns (or completes with) this when the device itself failed, not the request: the router
 * re-runs the request in software and the guest never sees it. Never a virtio status byte.
 */
export const ENGINE_FAILED = -2;

/**
 * One operation, preallocated by its owner (a queue) and refilled per request; nothing here is allocated per
 * request. Which lists are used depends on the session's service:
 *
 * | service | iv | src | dst | aad | digest |
 * |---|---|---|---|---|---|
 * | cipher | IV / counter / tweak | input | output (`src.total` bytes) | - | - |
 * | hash, mac | - (GMAC: its IV) | input | - | - | result (`resultLen` bytes) |
 * | aead | nonce | input (without tag) | output | AAD | tag: written on encrypt, read on decrypt |
 * | chain | IV | whole source | whole destination | AAD | hash result |
 * | akcipher | - | input | output | - | - |
 *
 * For chains, `cipherOffset/cipherLen` and `hashOffset/hashLen` select the regions of source (and, for
 * CIPHER_THEN_HASH, destination) the specification's offsets name.
 *
 * Two conventions the specification leaves open:
 * - GMAC: the MAC request has no IV field, so `iv` carries GMAC's IV (12 bytes recommended); the device takes
 *   it from the leading bytes of the request's source and puts the rest in `src`.
 * - CCM: `iv` holds exactly the nonce (7 to 13 bytes). On the wire the device takes the request's `iv_len`
 *   bytes of IV as the nonce; the v22 draft's "reserved first byte, nonce at iv[1]" note (inherited from DPDK's
 *   in-memory op layout) does not fit a byte stream whose IV part is `iv_len` long, so it is not used.
 */
export class CryptoOp {
  /** The session to run the operation in. */
  session: EngineSession | null = null;
  readonly iv: SgList;
  readonly src: SgList;
  readonly dst: SgList;
  readonly aad: SgList;
  readonly digest: SgList;
  /** Chains: start and length of the cipher region in src/dst. */
  cipherOffset = 0;
  cipherLen = 0;
  /** Chains: start and length of the hashed region. */
  hashOffset = 0;
  hashLen = 0;
  /** akcipher: bytes written to dst (the device reports `written + 1` as used length). */
  written = 0;
  /** The status an asynchronous engine completed with. */
  status = 0;
  /** Called by an asynchronous engine when it finishes (the owner sets it once). */
  complete: (op: CryptoOp, status: number) => void = () => {};
  /** Free for the owner: for example the descriptor head this operation answers. */
  tag = 0;

  /** @param maxSegments Most ranges any list may hold (the queue size bounds a chain). */
  constructor(maxSegments: number) {
    this.iv = new SgList(maxSegments);
    this.src = new SgList(maxSegments);
    this.dst = new SgList(maxSegments);
    this.aad = new SgList(maxSegments);
    this.digest = new SgList(maxSegments);
  }

  /** Empties every list and offset, ready for the next request. */
  reset(): void {
    this.session = null;
    this.iv.clear();
    this.src.clear();
    this.dst.clear();
    this.aad.clear();
    this.digest.clear();
    this.cipherOffset = 0;
    this.cipherLen = 0;
    this.hashOffset = 0;
    this.hashLen = 0;
    this.written = 0;
    this.status = 0;
  }
}

/** A block of guest RAM an engine may map for DMA (a vhost-user memory region; `GuestRegion` fits). */
export interface DmaRegion {
  /** Guest-physical address of the first byte: the address descriptors and `SgList.gpa` carry. */
  readonly gpa: number;
  /** Size in bytes. */
  readonly size: number;
  /** Host virtual address of the first byte (the daemon's mapping of the region). */
  readonly address: bigint;
}

/** Anything that does cryptography for the device. */
export interface CryptoEngine {
  /** A short name for logs and metrics: `software`, `virtio-pci 0000:00:04.0`, `fallback`. */
  readonly name: string;
  /** What the engine serves. */
  capabilities(): Capabilities;
  /**
   * Creates a session.
   *
   * @throws EngineError when it cannot; the kind says why.
   */
  createSession(params: SessionParams): EngineSession;
  /** Closes a session and zeroes its keys. Closing twice is harmless. */
  closeSession(session: EngineSession): void;
  /**
   * Runs one operation.
   *
   * @returns A virtio status byte (`Status.*`), or `PENDING` when `op.complete` will be called later.
   */
  submit(op: CryptoOp): number;
  /**
   * Optional: the caller has just taken the first request of a batch off its ring, after being idle. A meter
   * reads the clock here and then times each request from the previous one's completion, so a request costs at
   * most one clock read (`MeteredEngine`); other engines need not care.
   */
  beginBatch?(): void;
  /** Optional: the batch begun by `beginBatch()` is over and the caller goes idle (a meter closes its timing). */
  endBatch?(): void;
  /**
   * Optional, for engines that DMA: the guest memory table changed (SET_MEM_TABLE; an empty list when the
   * front-end went away). Called when none of the device's requests is in flight, and before the previous regions
   * are unmapped, so an engine can drop its mappings of them first. Must not throw: a region the engine cannot map
   * is simply not zero-copy for it.
   */
  setGuestMemory?(regions: readonly DmaRegion[]): void;
  /** Closes every session and frees the engine's resources. */
  close(): void;
}
