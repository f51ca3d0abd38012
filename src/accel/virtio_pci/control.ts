/**
 * The accelerator's control queue (virtio 1.3 §5.9.7.2): session create and destroy requests, one at a time, in
 * bridge-owned DMA memory, in the legacy layout (QEMU offers no REVISION_1).
 *
 * `CryptoEngine.createSession` is synchronous, so a request is answered by polling the used ring right after the
 * notification, with a deadline (DPDK's virtio crypto PMD waits the same way). Devices answer in microseconds;
 * QEMU's device even answers inside the notifying register write. Keys are copied into the DMA buffer only for
 * the request and zeroed as soon as the device has answered.
 *
 * @module
 */

import { EngineError, type SessionParams } from "../../engine/mod.ts";
import { AlgChainOrder, Layout, Opcode, Status, SymHashMode } from "../../spec/virtio_crypto.ts";
import { type CtrlRequest, decodeCreateSessionInput, encodeCtrlRequest } from "../../crypto/mod.ts";
import { RegionGuestMemory } from "../../memory/mod.ts";
import { DriverBufferList, DriverQueue, splitRingLayout, UsedBuffer } from "../../virtio/mod.ts";
import { VIRTIO_MSI_NO_VECTOR } from "./common_cfg.ts";
import { VirtioPciError } from "./errors.ts";
import type { DmaArea, VirtioTransportPort } from "./port.ts";

/** The control request for a session, and its keys in `op_vlf` order. */
export interface CtrlCreate {
  readonly request: CtrlRequest;
  readonly keys: readonly Uint8Array[];
}

const ZERO = { flag: 0, reserved: 0 } as const;

/**
 * The control request that creates a session with these parameters (the inverse of the device's
 * `session_params.ts`). Pure.
 *
 * @param params The session (akcipher is not driven: the engine refuses it before).
 * @returns Request and keys.
 * @throws EngineError `notsupp` for akcipher.
 */
export function ctrlCreateFor(params: SessionParams): CtrlCreate {
  switch (params.service) {
    case "cipher":
      return {
        request: {
          kind: "cipher-session",
          header: { ...ZERO, opcode: Opcode.CIPHER_CREATE_SESSION, algo: params.algo },
          flf: { algo: params.algo, keyLen: params.key.length, op: params.direction },
        },
        keys: [params.key],
      };
    case "hash":
      return {
        request: {
          kind: "hash-session",
          header: { ...ZERO, opcode: Opcode.HASH_CREATE_SESSION, algo: params.algo },
          flf: { algo: params.algo, hashResultLen: params.resultLen },
        },
        keys: [],
      };
    case "mac":
      return {
        request: {
          kind: "mac-session",
          header: { ...ZERO, opcode: Opcode.MAC_CREATE_SESSION, algo: params.algo },
          flf: { algo: params.algo, hashResultLen: params.resultLen, authKeyLen: params.key.length },
        },
        keys: [params.key],
      };
    case "aead":
      return {
        request: {
          kind: "aead-session",
          header: { ...ZERO, opcode: Opcode.AEAD_CREATE_SESSION, algo: params.algo },
          flf: {
            algo: params.algo,
            keyLen: params.key.length,
            tagLen: params.tagLen,
            aadLen: params.aadLen,
            op: params.direction,
          },
        },
        keys: [params.key],
      };
    case "chain":
      return chainCreate(params);
    case "akcipher":
      throw new EngineError("notsupp", "Cannot create session: akcipher is not driven on this accelerator");
  }
}

function chainCreate(params: Extract<SessionParams, { service: "chain" }>): CtrlCreate {
  const { cipher, auth } = params;
  const header = { ...ZERO, opcode: Opcode.CIPHER_CREATE_SESSION, algo: cipher.algo };
  const common = {
    algChainOrder: params.order === AlgChainOrder.HASH_THEN_CIPHER
      ? AlgChainOrder.HASH_THEN_CIPHER
      : AlgChainOrder.CIPHER_THEN_HASH,
    cipherHdr: { algo: cipher.algo, keyLen: cipher.key.length, op: cipher.direction },
    aadLen: params.aadLen,
  };
  if (auth.hashMode === SymHashMode.AUTH) {
    const algoFlf = { algo: auth.algo, hashResultLen: auth.resultLen, authKeyLen: auth.key.length };
    return {
      request: { kind: "alg-chain-session", header, flf: { ...common, hashMode: SymHashMode.AUTH, algoFlf } },
      keys: [cipher.key, auth.key],
    };
  }
  const algoFlf = { algo: auth.algo, hashResultLen: auth.resultLen };
  return {
    request: { kind: "alg-chain-session", header, flf: { ...common, hashMode: SymHashMode.PLAIN, algoFlf } },
    keys: [cipher.key],
  };
}

/** The destroy opcode of a service. */
function destroyOpcode(service: SessionParams["service"]): number {
  switch (service) {
    case "hash":
      return Opcode.HASH_DESTROY_SESSION;
    case "mac":
      return Opcode.MAC_DESTROY_SESSION;
    case "aead":
      return Opcode.AEAD_DESTROY_SESSION;
    case "akcipher":
      return Opcode.AKCIPHER_DESTROY_SESSION;
    default:
      return Opcode.CIPHER_DESTROY_SESSION;
  }
}

/**
 * What a refused create means for the router: NOSPC is `nospc`, NOTSUPP `notsupp`, anything else `invalid` (the
 * engine may still call it `nospc`: see `VirtioPciEngine`).
 *
 * @param status The device's status.
 * @param what The session, for the message.
 * @returns The error to throw.
 */
export function createRefusal(status: number, what: string): EngineError {
  const kind = status === Status.NOSPC ? "nospc" : status === Status.NOTSUPP ? "notsupp" : "invalid";
  return new EngineError(kind, `Cannot create ${what} session: the device answered status ${status}`);
}

/** Size of the control area for keys of at most `keyBytes` bytes together. */
export function controlAreaSize(keyBytes: number): number {
  return 4096 + Math.ceil((keyBytes + 1024) / 4096) * 4096;
}

/** The control queue of one started device. */
export class ControlQueue {
  readonly #transport: VirtioTransportPort;
  readonly #index: number;
  readonly #queue: DriverQueue<number>;
  readonly #area: DmaArea;
  readonly #timeoutMs: number;
  readonly #requestAt: number;
  readonly #keysAt: number;
  readonly #inputAt: number;
  readonly #list = new DriverBufferList(4);
  readonly #used = new UsedBuffer<number>();

  /**
   * Lays the queue out in `area` and sets it up on the device (no MSI-X vector: it is polled).
   *
   * @param transport The device (between FEATURES_OK and DRIVER_OK).
   * @param area Its DMA area (`controlAreaSize` bytes).
   * @param queue Queue index (`max_dataqueues`) and size.
   * @param timeoutMs How long a request may take.
   */
  constructor(
    transport: VirtioTransportPort,
    area: DmaArea,
    queue: { readonly index: number; readonly size: number },
    timeoutMs: number,
  ) {
    this.#transport = transport;
    this.#index = queue.index;
    this.#area = area;
    this.#timeoutMs = timeoutMs;
    area.bytes.fill(0);
    const layout = splitRingLayout(area.iova, queue.size);
    this.#requestAt = Math.ceil(layout.end / 64) * 64 - area.iova;
    this.#keysAt = this.#requestAt + 128;
    this.#inputAt = area.size - 64;
    const mem = new RegionGuestMemory([
      { gpa: area.iova, size: area.size, frontendVa: 0, bytes: area.bytes, address: area.address },
    ]);
    this.#queue = new DriverQueue<number>(mem, { size: queue.size, ...layout });
    transport.setupQueue(queue.index, { size: queue.size, ...layout, vector: VIRTIO_MSI_NO_VECTOR });
  }

  /**
   * Creates a session on the device.
   *
   * @param params The session (already checked against the claimed table).
   * @param what A label for messages.
   * @returns The device's session id.
   * @throws EngineError when the device refused it; VirtioPciError `timeout` when it did not answer.
   */
  create(params: SessionParams, what: string): bigint {
    const { request, keys } = ctrlCreateFor(params);
    const b = this.#area.bytes;
    const head = encodeCtrlRequest(request, "legacy", b.subarray(this.#requestAt, this.#requestAt + 72));
    let at = this.#keysAt;
    for (const k of keys) {
      b.set(k, at);
      at += k.length;
    }
    const keyLen = at - this.#keysAt;
    try {
      b.fill(0, this.#inputAt, this.#inputAt + Layout.CREATE_SESSION_INPUT);
      this.#list.clear();
      this.#list.push(this.#iova(this.#requestAt), head.length, false);
      if (keyLen > 0) this.#list.push(this.#iova(this.#keysAt), keyLen, false);
      this.#list.push(this.#iova(this.#inputAt), Layout.CREATE_SESSION_INPUT, true);
      this.#exchange(what);
    } finally {
      b.fill(0, this.#keysAt, this.#keysAt + keyLen); // the device has its copy (or never will)
    }
    const input = decodeCreateSessionInput(b.subarray(this.#inputAt, this.#inputAt + 16));
    if (input.status !== Status.OK) throw createRefusal(input.status, what);
    return input.sessionId;
  }

  /**
   * Destroys a session on the device.
   *
   * @param service The session's service (it picks the opcode).
   * @param id The device's session id.
   * @returns The device's status.
   * @throws VirtioPciError `timeout`.
   */
  destroy(service: SessionParams["service"], id: bigint): number {
    const request: CtrlRequest = {
      kind: "destroy-session",
      header: { ...ZERO, opcode: destroyOpcode(service), algo: 0 },
      flf: { sessionId: id },
    };
    const b = this.#area.bytes;
    const head = encodeCtrlRequest(request, "legacy", b.subarray(this.#requestAt, this.#requestAt + 72));
    b[this.#inputAt] = 0xff;
    this.#list.clear();
    this.#list.push(this.#iova(this.#requestAt), head.length, false);
    this.#list.push(this.#iova(this.#inputAt), 1, true);
    this.#exchange(`destroy session ${id}`);
    return b[this.#inputAt]!;
  }

  #iova(offset: number): number {
    return this.#area.iova + offset;
  }

  // Queues the list, notifies, and polls the used ring until the device answers or the deadline passes.
  #exchange(what: string): void {
    if (this.#queue.addList(this.#list, false, 0) < 0) {
      throw new VirtioPciError("timeout", `Cannot send ${what}: the control queue is full`);
    }
    this.#queue.publish();
    this.#transport.notify(this.#index);
    const deadline = performance.now() + this.#timeoutMs;
    for (let spins = 1; !this.#queue.popUsed(this.#used); spins++) {
      if ((spins & 0xff) === 0 && performance.now() > deadline) {
        throw new VirtioPciError(
          "timeout",
          `The device did not answer ${what} on its control queue within ${this.#timeoutMs} ms`,
        );
      }
    }
  }
}
