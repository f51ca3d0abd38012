/**
 * `VhostUserFrontend`: the front-end side of vhost-user, what QEMU does: connect, negotiate, hand over guest
 * memory and vrings, and send device messages. Replies are awaited without blocking the event loop, so a
 * back-end in the same process (integration tests) keeps running.
 *
 * @module
 */

import { EPOLLIN, type Fd, type Reactor, UnixConnection } from "../os/mod.ts";
import {
  closeFds,
  decodeU64,
  decodeVringState,
  Flags,
  memTablePayload,
  type Message,
  Request,
  requestName,
  u64Payload,
  VhostUserConnection,
  VhostUserError,
  vringAddrPayload,
  vringStatePayload,
} from "../vhost_user/mod.ts";
import type { GuestRam } from "./guest_ram.ts";

/** Options of `VhostUserFrontend.connect`. */
export interface FrontendOptions {
  /** The reactor used to wait for replies (the back-end's own, in-process, or a separate one). */
  readonly reactor: Reactor;
  /** How long to wait for a reply before failing. Default 5000 ms. */
  readonly timeoutMs?: number;
}

/** Requests that QEMU expects a reply to (vhost-user.rst "Communication", plus message 26). */
const HAS_REPLY = new Set<number>([
  Request.GET_FEATURES,
  Request.GET_PROTOCOL_FEATURES,
  Request.GET_VRING_BASE,
  Request.GET_QUEUE_NUM,
  Request.CREATE_CRYPTO_SESSION,
]);

/** A connected vhost-user front-end. */
export class VhostUserFrontend implements Disposable {
  readonly #connection: VhostUserConnection;
  readonly #reactor: Reactor;
  readonly #timeoutMs: number;
  #replyAck = false;

  private constructor(connection: VhostUserConnection, options: FrontendOptions) {
    this.#connection = connection;
    this.#reactor = options.reactor;
    this.#timeoutMs = options.timeoutMs ?? 5000;
  }

  /**
   * Connects to a back-end's socket.
   *
   * @param path Socket path.
   * @param options Reactor and timeout.
   */
  static connect(path: string, options: FrontendOptions): VhostUserFrontend {
    return new VhostUserFrontend(new VhostUserConnection(UnixConnection.connect(path)), options);
  }

  /** Asks for REPLY_ACK acknowledgements from now on (after SET_PROTOCOL_FEATURES with that bit). */
  set replyAck(on: boolean) {
    this.#replyAck = on;
  }

  /**
   * Sends a message and, when the request has a reply (or REPLY_ACK asks for one), waits for it.
   *
   * @param request The request code.
   * @param payload The payload.
   * @param fds Fds to pass.
   * @returns The reply payload, or null for requests without a reply.
   * @throws VhostUserError for a malformed reply, a timeout or a closed connection.
   */
  async request(
    request: number,
    payload: Uint8Array = new Uint8Array(0),
    fds: readonly number[] = [],
  ): Promise<Uint8Array | null> {
    const ack = this.#replyAck && !HAS_REPLY.has(request) && request !== Request.CLOSE_CRYPTO_SESSION;
    const flags = Flags.VERSION | (ack ? Flags.NEED_REPLY : 0);
    this.#connection.send({ request, flags, size: payload.length }, payload, fds);
    if (!HAS_REPLY.has(request) && !ack) return null;
    const reply = await this.#receive();
    const { header } = reply;
    closeFds(reply);
    if (header.request !== request || header.flags !== (Flags.VERSION | Flags.REPLY)) {
      throw new VhostUserError(
        "bad-header",
        `Reply to ${requestName(request)} is malformed: request ${header.request}, flags 0x${
          header.flags.toString(16)
        }`,
      );
    }
    if (ack && decodeU64(request, reply.payload) !== 0n) {
      throw new VhostUserError("bad-payload", `Back-end refused ${requestName(request)} (REPLY_ACK)`);
    }
    return reply.payload;
  }

  async #receive(): Promise<Message> {
    const deadline = Date.now() + this.#timeoutMs;
    for (;;) {
      const m = this.#connection.receive();
      if (m !== null) return m;
      if (Date.now() > deadline) throw new VhostUserError("io", `No reply within ${this.#timeoutMs} ms`);
      await waitReadable(this.#reactor, this.#connection.fd, deadline - Date.now());
    }
  }

  /** GET_FEATURES. */
  async getFeatures(): Promise<bigint> {
    return decodeU64(Request.GET_FEATURES, (await this.request(Request.GET_FEATURES))!);
  }

  /** SET_FEATURES. */
  async setFeatures(features: bigint): Promise<void> {
    await this.request(Request.SET_FEATURES, u64Payload(features));
  }

  /** GET_PROTOCOL_FEATURES. */
  async getProtocolFeatures(): Promise<bigint> {
    return decodeU64(Request.GET_PROTOCOL_FEATURES, (await this.request(Request.GET_PROTOCOL_FEATURES))!);
  }

  /** SET_PROTOCOL_FEATURES. */
  async setProtocolFeatures(features: bigint): Promise<void> {
    await this.request(Request.SET_PROTOCOL_FEATURES, u64Payload(features));
  }

  /** GET_QUEUE_NUM. */
  async getQueueNum(): Promise<number> {
    return Number(decodeU64(Request.GET_QUEUE_NUM, (await this.request(Request.GET_QUEUE_NUM))!));
  }

  /** SET_OWNER. */
  async setOwner(): Promise<void> {
    await this.request(Request.SET_OWNER);
  }

  /** SET_MEM_TABLE with one region per RAM block. */
  async setMemTable(rams: readonly GuestRam[]): Promise<void> {
    const regions = rams.map((r) => ({
      guestPhysAddr: r.region.gpa,
      memorySize: r.size,
      userspaceAddr: r.region.frontendVa,
      mmapOffset: 0,
    }));
    await this.request(Request.SET_MEM_TABLE, memTablePayload(regions), rams.map((r) => r.fd.raw));
  }

  /** SET_VRING_NUM. */
  async setVringNum(index: number, num: number): Promise<void> {
    await this.request(Request.SET_VRING_NUM, vringStatePayload(index, num));
  }

  /** SET_VRING_BASE. */
  async setVringBase(index: number, base: number): Promise<void> {
    await this.request(Request.SET_VRING_BASE, vringStatePayload(index, base));
  }

  /** SET_VRING_ENABLE: enables (or disables) a ring. */
  async setVringEnable(index: number, enable: boolean): Promise<void> {
    await this.request(Request.SET_VRING_ENABLE, vringStatePayload(index, enable ? 1 : 0));
  }

  /** GET_VRING_BASE: stops the ring and returns its next avail index. */
  async getVringBase(index: number): Promise<number> {
    const reply = await this.request(Request.GET_VRING_BASE, vringStatePayload(index, 0));
    return decodeVringState(Request.GET_VRING_BASE, reply!).num;
  }

  /** SET_VRING_ADDR with front-end virtual addresses. */
  async setVringAddr(index: number, va: { desc: number; avail: number; used: number }): Promise<void> {
    const payload = vringAddrPayload({
      index,
      flags: 0,
      descUserAddr: va.desc,
      usedUserAddr: va.used,
      availUserAddr: va.avail,
    });
    await this.request(Request.SET_VRING_ADDR, payload);
  }

  /** SET_VRING_KICK / CALL / ERR with an eventfd, or the NOFD bit when `fd` is null. */
  async setVringFd(request: number, index: number, fd: Fd | number | null): Promise<void> {
    const raw = fd === null ? null : typeof fd === "number" ? fd : fd.raw;
    const word = BigInt(index) | (raw === null ? 0x100n : 0n);
    await this.request(request, u64Payload(word), raw === null ? [] : [raw]);
  }

  /** Closes the connection (the back-end sees end of stream). */
  close(): void {
    this.#connection.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Resolves when `fd` is readable or after `timeoutMs`, whichever comes first.
 *
 * @param reactor The reactor to wait in.
 * @param fd The descriptor.
 * @param timeoutMs The most to wait.
 */
export function waitReadable(reactor: Reactor, fd: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      reactor.remove(token);
      resolve();
    };
    const token = reactor.add(fd, EPOLLIN, done);
    const timer = setTimeout(done, Math.max(0, timeoutMs));
  });
}
