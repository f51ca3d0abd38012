/**
 * Session descriptions for the front-end, and their two encodings: a control-queue request with its keys (what
 * a guest driver sends) and a vhost-user CREATE_CRYPTO_SESSION payload (what QEMU sends).
 *
 * @module
 */

import { AlgChainOrder, Opcode, SymHashMode } from "../spec/virtio_crypto.ts";
import type { CtrlRequest, VhostSessionRequest } from "../crypto/mod.ts";

/** A session the front-end asks for. */
export type SessionSpec =
  | { readonly service: "cipher"; readonly algo: number; readonly key: Uint8Array; readonly op: 1 | 2 }
  | { readonly service: "hash"; readonly algo: number; readonly resultLen: number }
  | { readonly service: "mac"; readonly algo: number; readonly resultLen: number; readonly key: Uint8Array }
  | {
    readonly service: "aead";
    readonly algo: number;
    readonly key: Uint8Array;
    readonly tagLen: number;
    readonly aadLen: number;
    readonly op: 1 | 2;
  }
  | {
    readonly service: "chain";
    readonly order: number;
    readonly cipherAlgo: number;
    readonly key: Uint8Array;
    readonly op: 1 | 2;
    readonly hashMode: number;
    readonly authAlgo: number;
    readonly resultLen: number;
    readonly authKey: Uint8Array;
    readonly aadLen: number;
  };

const ZERO_HEADER = { algo: 0, flag: 0, reserved: 0 } as const;

/**
 * The control-queue request for a session, and its vlf (keys in order).
 *
 * @param spec The session.
 * @returns Request and key parts.
 */
export function ctrlCreateRequest(spec: SessionSpec): { request: CtrlRequest; keys: Uint8Array[] } {
  switch (spec.service) {
    case "cipher":
      return {
        request: {
          kind: "cipher-session",
          header: { ...ZERO_HEADER, opcode: Opcode.CIPHER_CREATE_SESSION, algo: spec.algo },
          flf: { algo: spec.algo, keyLen: spec.key.length, op: spec.op },
        },
        keys: [spec.key],
      };
    case "hash":
      return {
        request: {
          kind: "hash-session",
          header: { ...ZERO_HEADER, opcode: Opcode.HASH_CREATE_SESSION, algo: spec.algo },
          flf: { algo: spec.algo, hashResultLen: spec.resultLen },
        },
        keys: [],
      };
    case "mac":
      return {
        request: {
          kind: "mac-session",
          header: { ...ZERO_HEADER, opcode: Opcode.MAC_CREATE_SESSION, algo: spec.algo },
          flf: { algo: spec.algo, hashResultLen: spec.resultLen, authKeyLen: spec.key.length },
        },
        keys: [spec.key],
      };
    case "aead":
      return {
        request: {
          kind: "aead-session",
          header: { ...ZERO_HEADER, opcode: Opcode.AEAD_CREATE_SESSION, algo: spec.algo },
          flf: {
            algo: spec.algo,
            keyLen: spec.key.length,
            tagLen: spec.tagLen,
            aadLen: spec.aadLen,
            op: spec.op,
          },
        },
        keys: [spec.key],
      };
    case "chain":
      return chainCtrlRequest(spec);
  }
}

function chainCtrlRequest(
  spec: Extract<SessionSpec, { service: "chain" }>,
): { request: CtrlRequest; keys: Uint8Array[] } {
  const header = { ...ZERO_HEADER, opcode: Opcode.CIPHER_CREATE_SESSION, algo: spec.cipherAlgo };
  const common = {
    algChainOrder: spec.order,
    cipherHdr: { algo: spec.cipherAlgo, keyLen: spec.key.length, op: spec.op },
    aadLen: spec.aadLen,
  };
  if (spec.hashMode === SymHashMode.AUTH) {
    return {
      request: {
        kind: "alg-chain-session",
        header,
        flf: {
          ...common,
          hashMode: SymHashMode.AUTH,
          algoFlf: { algo: spec.authAlgo, hashResultLen: spec.resultLen, authKeyLen: spec.authKey.length },
        },
      },
      keys: [spec.key, spec.authKey],
    };
  }
  return {
    request: {
      kind: "alg-chain-session",
      header,
      flf: {
        ...common,
        hashMode: SymHashMode.PLAIN,
        algoFlf: { algo: spec.authAlgo, hashResultLen: spec.resultLen },
      },
    },
    keys: [spec.key],
  };
}

/**
 * The vhost-user message 26 form of a session, when QEMU's struct can express it (cipher and chaining only).
 *
 * @param spec The session.
 * @returns The request, or null for hash, MAC and AEAD sessions (QEMU never forwards those, interop.md §1.5).
 */
export function vhostCreateRequest(spec: SessionSpec): VhostSessionRequest | null {
  switch (spec.service) {
    case "cipher":
      return { kind: "cipher", cipherAlg: spec.algo, direction: spec.op, key: spec.key };
    case "chain":
      return {
        kind: "chain",
        cipherAlg: spec.cipherAlgo,
        direction: spec.op,
        key: spec.key,
        hashAlg: spec.authAlgo,
        hashResultLen: spec.resultLen,
        authKey: spec.hashMode === SymHashMode.AUTH ? spec.authKey : new Uint8Array(0),
        addLen: spec.aadLen,
        hashMode: spec.hashMode,
        algChainOrder: spec.order,
      };
    default:
      return null;
  }
}

/** The control-queue destroy request for a session of a service. */
export function ctrlDestroyRequest(service: SessionSpec["service"], sessionId: bigint): CtrlRequest {
  const opcode = {
    cipher: Opcode.CIPHER_DESTROY_SESSION,
    chain: Opcode.CIPHER_DESTROY_SESSION,
    hash: Opcode.HASH_DESTROY_SESSION,
    mac: Opcode.MAC_DESTROY_SESSION,
    aead: Opcode.AEAD_DESTROY_SESSION,
  }[service];
  return { kind: "destroy-session", header: { ...ZERO_HEADER, opcode }, flf: { sessionId } };
}

/** The default chain order for a direction: encrypt then MAC, or MAC then decrypt (IPsec ESP). */
export function defaultChainOrder(op: 1 | 2): number {
  return op === 1 ? AlgChainOrder.CIPHER_THEN_HASH : AlgChainOrder.HASH_THEN_CIPHER;
}
