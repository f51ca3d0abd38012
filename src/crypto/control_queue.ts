/**
 * The control queue (virtio 1.3 §5.9.7.2): session create and destroy requests. Behind QEMU the back-end never
 * sees this queue (QEMU handles it and sends messages 26/27, interop.md §1.1); a transport that hands it over (a
 * test front-end, vfio-user) gets the specification's full session vocabulary: hash, MAC and AEAD sessions too.
 *
 * @module
 */

import type { GuestMemory } from "../memory/mod.ts";
import { ChainReader, ChainWriter, type DescriptorChain } from "../virtio/mod.ts";
import { Layout, Opcode, Status } from "../spec/virtio_crypto.ts";
import {
  type CtrlLimits,
  ctrlOutcomeLength,
  type CtrlRequest,
  ctrlRequestLength,
  ctrlVlfPlan,
  decodeCtrlHeader,
  decodeCtrlRequest,
} from "./ctrl_codec.ts";
import { encodeCreateSessionInput } from "./ctrl_session.ts";
import { paramsFromCtrl, SessionParamsError } from "./session_params.ts";
import type { SessionManager } from "./sessions.ts";
import { CryptoWireError, wireErrorStatus, type WireLayout } from "./wire.ts";

/** Largest control request read: header, padded flf, a 1024-byte key and a 512-byte auth key. */
const MAX_CTRL_REQUEST = Layout.CTRL_HEADER + Layout.CTRLQ_OP_SPEC_HDR_LEGACY + 1024 + 512;

/** Serves control-queue chains. */
export class ControlQueue {
  readonly #sessions: SessionManager;
  readonly #limits: CtrlLimits;
  readonly #reader = new ChainReader();
  readonly #writer = new ChainWriter();
  readonly #request = new Uint8Array(MAX_CTRL_REQUEST);
  readonly #outcome = new Uint8Array(Layout.CREATE_SESSION_INPUT);

  /**
   * @param sessions The device's sessions.
   * @param limits Key limits (the config space's).
   */
  constructor(sessions: SessionManager, limits: CtrlLimits) {
    this.#sessions = sessions;
    this.#limits = limits;
  }

  /**
   * Serves one chain.
   *
   * @returns The used length (bytes of outcome written; 0 when the chain had no room for an answer).
   */
  serve(mem: GuestMemory, chain: DescriptorChain, layout: WireLayout): number {
    if (chain.error !== null || chain.writableBytes < 1) return 0;
    const n = this.#reader.readInto(mem, chain, 0, this.#request);
    const bytes = this.#request.subarray(0, n);
    try {
      const req = decodeCtrlRequest(bytes, layout, this.#limits);
      return this.#answer(mem, chain, req, this.#execute(req, bytes, layout));
    } catch (e) {
      if (!(e instanceof CryptoWireError) && !(e instanceof SessionParamsError)) throw e;
      const status = e instanceof CryptoWireError ? wireErrorStatus(e.kind) : e.status;
      return this.#answerHeaderOnly(mem, chain, bytes, status);
    } finally {
      this.#request.fill(0, 0, n); // the request held keys
    }
  }

  #execute(req: CtrlRequest, bytes: Uint8Array, layout: WireLayout): { id: number; status: number } {
    if (req.kind === "destroy-session") {
      const ok = this.#sessions.close(safeId(req.flf.sessionId));
      return { id: 0, status: ok ? Status.OK : Status.ERR };
    }
    let at = ctrlRequestLength(req.header.opcode, layout);
    const keys = { key: new Uint8Array(0), authKey: new Uint8Array(0) };
    for (const part of ctrlVlfPlan(req)) {
      if (at + part.length > bytes.length) return { id: -1, status: Status.ERR };
      const copy = bytes.slice(at, at + part.length);
      if (part.role === "auth_key") keys.authKey = copy;
      else keys.key = copy;
      at += part.length;
    }
    return this.#sessions.create(paramsFromCtrl(req, keys));
  }

  #answer(
    mem: GuestMemory,
    chain: DescriptorChain,
    req: CtrlRequest,
    r: { id: number; status: number },
  ): number {
    const len = ctrlOutcomeLength(req);
    if (chain.writableBytes < len) return 0;
    if (len === Layout.INHDR) {
      return this.#writer.writeByte(mem, chain, 0, r.status) ? 1 : 0;
    }
    encodeCreateSessionInput({ sessionId: BigInt(Math.max(r.id, 0)), status: r.status }, this.#outcome);
    return this.#writer.writeFrom(mem, chain, 0, this.#outcome);
  }

  // A request that did not decode: answer in the shape its opcode implies, if the header was readable.
  #answerHeaderOnly(mem: GuestMemory, chain: DescriptorChain, bytes: Uint8Array, status: number): number {
    let destroy = false;
    try {
      const opcode = decodeCtrlHeader(bytes).opcode;
      destroy = (opcode & 0xff) === 0x03 || opcode === Opcode.AKCIPHER_DESTROY_SESSION;
    } catch {
      // no header: answer as a create if there is room for it
    }
    if (!destroy && chain.writableBytes >= Layout.CREATE_SESSION_INPUT) {
      encodeCreateSessionInput({ sessionId: 0n, status }, this.#outcome);
      return this.#writer.writeFrom(mem, chain, 0, this.#outcome);
    }
    return this.#writer.writeByte(mem, chain, 0, status) ? 1 : 0;
  }
}

function safeId(id: bigint): number {
  return id > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(id);
}
