/**
 * `VhostUserHandler`: the protocol state machine of one front-end connection (rust-vmm's
 * `backend_req_handler` + `VhostUserHandler`): features, the memory table, the vrings, and device requests passed
 * to the `Backend`. One handler per connection; a new connection starts from a clean state.
 *
 * Reactions (style.md rule 5): a malformed message throws `VhostUserError`, and the owner drops the connection;
 * the device never sees a socket.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { Backend } from "./backend.ts";
import { closeFds, type Message } from "./connection.ts";
import { drainVrings } from "./drain.ts";
import type { RateLimitedLog } from "../log/mod.ts";
import { MappedMemoryTable, type MemoryPolicy, type ShrinkableMemoryPolicy } from "./memory_table.ts";
import {
  decodeMemTable,
  decodeU64,
  decodeVringState,
  expectSize,
  Flags,
  type Header,
  ProtocolFeature,
  Request,
  requestName,
  u64Payload,
  VHOST_USER_F_PROTOCOL_FEATURES,
  VhostUserError,
} from "./message.ts";
import { type Reply, replyTo, RingControl, type RingWatcher } from "./ring_control.ts";
import type { Vring } from "./vring.ts";

export type { Reply, RingWatcher } from "./ring_control.ts";

const log = getLogger(["cryptobridge", "vhost_user"]);

/** Protocol features every back-end here offers besides the device's own (vhost-user.rst: "should always"). */
const BASE_PROTOCOL_FEATURES = (1n << BigInt(ProtocolFeature.MQ)) |
  (1n << BigInt(ProtocolFeature.REPLY_ACK)) |
  (1n << BigInt(ProtocolFeature.RESET_DEVICE));

/** Options of a handler. */
export interface HandlerOptions {
  /** Where kick fds and polled rings are registered. */
  readonly watcher: RingWatcher;
  /** Serve every ring by polling, ignoring kicks (`serve --poll`). */
  readonly pollMode?: boolean;
  /** Guest RAM that can shrink: refused (default) or allowed (see `ShrinkableMemoryPolicy`). */
  readonly shrinkableMemory?: ShrinkableMemoryPolicy;
  /** The VM's rate-limited log: lines a front-end can cause go through it. */
  readonly logLimit: RateLimitedLog;
}

/** The protocol state of one front-end connection. */
export class VhostUserHandler {
  readonly #backend: Backend;
  readonly #rings: RingControl;
  readonly #memoryPolicy: MemoryPolicy;
  readonly #log: RateLimitedLog;
  #table = MappedMemoryTable.empty();
  #protocolFeatures = 0n;
  #acked = 0n;
  #owned = false;
  #closed = false;
  #finished = false;

  /**
   * @param backend The device.
   * @param options The ring watcher and poll mode.
   */
  constructor(backend: Backend, options: HandlerOptions) {
    this.#backend = backend;
    this.#log = options.logLimit;
    this.#memoryPolicy = {
      shrinkable: options.shrinkableMemory ?? "refuse",
      accepted: (region, why) =>
        this.#log.warn(
          log,
          "shrinkable-memory",
          "guest region {region} can shrink: {why}; served because shrinkable memory is allowed for this " +
            "process, which serves no other VM (a truncation ends it with SIGBUS)",
          { region, why },
        ),
    };
    this.#rings = new RingControl({
      backend,
      watcher: options.watcher,
      pollMode: options.pollMode ?? false,
      log: options.logLimit,
      memory: () => this.#table.memory,
      closed: () => this.#closed,
      drain: (vrings) => this.#drain(vrings),
    });
  }

  /** The vrings (for tests and metrics). */
  get vrings(): readonly Vring[] {
    return this.#rings.vrings;
  }

  /** Features offered in GET_FEATURES. */
  get offeredFeatures(): bigint {
    return this.#backend.features | (1n << BigInt(VHOST_USER_F_PROTOCOL_FEATURES));
  }

  /** Protocol features offered in GET_PROTOCOL_FEATURES. */
  get offeredProtocolFeatures(): bigint {
    return this.#backend.protocolFeatures | BASE_PROTOCOL_FEATURES;
  }

  /**
   * Handles one message. Fds the message carries are taken or closed, whatever happens.
   *
   * @returns The reply to send, or `null`; a Promise when the request had to wait for in-flight requests.
   * @throws VhostUserError for a malformed or unexpected message (drop the connection).
   */
  handle(message: Message): Reply | null | Promise<Reply | null> {
    try {
      checkFds(message);
      const result = this.#dispatch(message);
      if (result instanceof Promise) return result.then((r) => this.#ack(message.header, r));
      return this.#ack(message.header, result);
    } finally {
      closeFds(message);
    }
  }

  // REPLY_ACK: a message without its own reply gets a u64 0 when the front-end asked for one (vhost-user.rst).
  #ack(header: Header, reply: Reply | null): Reply | null {
    if (reply !== null) return reply;
    const acked = (this.#protocolFeatures & (1n << BigInt(ProtocolFeature.REPLY_ACK))) !== 0n;
    if (acked && (header.flags & Flags.NEED_REPLY) !== 0) return replyTo(header.request, u64Payload(0n));
    return null;
  }

  #dispatch(m: Message): Reply | null | Promise<Reply | null> {
    const { request } = m.header;
    const p = m.payload;
    switch (request) {
      case Request.GET_FEATURES:
        expectSize(request, p, 0);
        return replyTo(request, u64Payload(this.offeredFeatures));
      case Request.SET_FEATURES:
        return this.#setFeatures(decodeU64(request, p));
      case Request.GET_PROTOCOL_FEATURES:
        expectSize(request, p, 0);
        return replyTo(request, u64Payload(this.offeredProtocolFeatures));
      case Request.SET_PROTOCOL_FEATURES:
        return this.#setProtocolFeatures(decodeU64(request, p));
      case Request.SET_OWNER:
        return this.#setOwner(p);
      case Request.RESET_OWNER:
        return this.#resetOwner(p);
      case Request.RESET_DEVICE:
        return this.#resetDevice(p);
      case Request.GET_QUEUE_NUM:
        expectSize(request, p, 0);
        return replyTo(request, u64Payload(BigInt(this.#backend.numDataQueues)));
      case Request.SET_MEM_TABLE:
        return this.#setMemTable(m);
      default:
        return this.#dispatchVring(m);
    }
  }

  #dispatchVring(m: Message): Reply | null | Promise<Reply | null> {
    const { request } = m.header;
    const p = m.payload;
    switch (request) {
      case Request.SET_VRING_NUM:
        return this.#rings.setNum(decodeVringState(request, p));
      case Request.SET_VRING_ADDR:
        return this.#rings.setAddr(p);
      case Request.SET_VRING_BASE:
        return this.#rings.setBase(decodeVringState(request, p));
      case Request.GET_VRING_BASE:
        return this.#rings.getBase(decodeVringState(request, p));
      case Request.SET_VRING_KICK:
      case Request.SET_VRING_CALL:
      case Request.SET_VRING_ERR:
        return this.#rings.setFd(m);
      case Request.SET_VRING_ENABLE:
        return this.#rings.setEnable(decodeVringState(request, p));
      case Request.CREATE_CRYPTO_SESSION:
      case Request.CLOSE_CRYPTO_SESSION:
        return this.#deviceRequest(request, p);
      default:
        throw new VhostUserError(
          "unsupported-request",
          `Cannot handle ${requestName(request)}: this back-end does not implement it`,
        );
    }
  }

  #setFeatures(features: bigint): null {
    const unknown = features & ~this.offeredFeatures;
    if (unknown !== 0n) {
      throw new VhostUserError(
        "bad-payload",
        `Cannot accept SET_FEATURES: bits 0x${unknown.toString(16)} were not offered`,
      );
    }
    this.#acked = features;
    this.#backend.setFeatures(features);
    const eventIdx = (features & (1n << 29n)) !== 0n;
    for (const v of this.#rings.vrings) v.queue.eventIdx = eventIdx;
    return null;
  }

  #setProtocolFeatures(features: bigint): null {
    const unknown = features & ~this.offeredProtocolFeatures;
    if (unknown !== 0n) {
      throw new VhostUserError(
        "bad-payload",
        `Cannot accept SET_PROTOCOL_FEATURES: bits 0x${unknown.toString(16)} were not offered`,
      );
    }
    this.#protocolFeatures = features;
    return null;
  }

  #setOwner(p: Uint8Array): null {
    expectSize(Request.SET_OWNER, p, 0);
    if (this.#owned) {
      this.#log.warn(log, "set-owner-twice", "SET_OWNER sent twice on one connection; ignored");
    }
    this.#owned = true;
    return null;
  }

  // Deprecated; vhost-user.rst recommends ignoring it or disabling the rings. Disabling is the safe choice.
  #resetOwner(p: Uint8Array): null {
    expectSize(Request.RESET_OWNER, p, 0);
    for (const v of this.#rings.vrings) this.#rings.stop(v);
    return null;
  }

  #resetDevice(p: Uint8Array): null {
    expectSize(Request.RESET_DEVICE, p, 0);
    for (const v of this.#rings.vrings) this.#rings.reset(v);
    this.#backend.reset();
    this.#acked = 0n;
    return null;
  }

  #setMemTable(m: Message): Reply | null | Promise<Reply | null> {
    const regions = decodeMemTable(Request.SET_MEM_TABLE, m.payload);
    const table = MappedMemoryTable.map(
      regions,
      m.fds,
      this.#table.memory.generation + 1,
      this.#memoryPolicy,
    );
    const busy = this.#rings.vrings.filter((v) => this.#backend.inflight(v) > 0);
    if (busy.length === 0) return this.#swapTable(table);
    return this.#drain(busy).then(() => this.#swapTable(table), (e) => {
      table.unmap();
      throw e;
    });
  }

  #swapTable(table: MappedMemoryTable): null {
    const old = this.#table;
    this.#table = table;
    try {
      this.#backend.setMemory?.(table.memory);
      this.#rings.setMemory(table.memory);
    } finally {
      // Nothing points into the old regions any more: requests drained, rings re-pointed (style.md rule 10a).
      old.unmap();
    }
    this.#log.info(log, "memory-table", "memory table {generation}: {regions}", {
      generation: table.memory.generation,
      regions: table.memory.regions.map((r) => `0x${r.gpa.toString(16)}+0x${r.size.toString(16)}`).join(", "),
    });
    return null;
  }

  #deviceRequest(request: number, payload: Uint8Array): Reply | null {
    const crypto = (this.#protocolFeatures & (1n << BigInt(ProtocolFeature.CRYPTO_SESSION))) !== 0n;
    if (!crypto) {
      throw new VhostUserError(
        "bad-state",
        `Cannot handle ${requestName(request)}: protocol feature CRYPTO_SESSION was not negotiated`,
      );
    }
    let reply: Uint8Array | null;
    try {
      reply = this.#backend.handleDeviceRequest(request, payload);
    } catch (e) {
      if (e instanceof VhostUserError) throw e;
      // The device could not make sense of the payload at all: a broken front-end, drop it (style.md rule 5).
      throw new VhostUserError(
        "bad-payload",
        `Cannot handle ${requestName(request)}: ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
    return reply === null ? null : replyTo(request, reply);
  }

  #drain(vrings: readonly Vring[], closing = false): Promise<void> {
    return drainVrings(this.#backend, vrings, {
      closing,
      closed: () => this.#closed,
      finished: () => this.#finished,
    });
  }

  /**
   * Serves what a ring has available, if it is started. Called on kicks and by the poll loop.
   *
   * @param v The ring.
   */
  processRing(v: Vring): void {
    this.#rings.processRing(v);
  }

  /** Features acknowledged by SET_FEATURES. */
  get ackedFeatures(): bigint {
    return this.#acked;
  }

  /**
   * Stops every ring, closes every fd, unmaps guest memory and resets the device; idempotent.
   *
   * With `drain`, requests still in flight on an asynchronous engine complete first (rings stopped, nothing new
   * popped): their sessions and the mapping they point into stay until then (style.md rule 10a; unmapping first
   * makes the late completion a SIGSEGV). If they are not done within the drain timeout, the device is reset anyway
   * (keys zeroed) but the memory table is left mapped: a leak, not a crash. A later `close()` without `drain`
   * finishes at once.
   *
   * @param options `drain`: wait for requests in flight (a front-end that disconnected); default false (shutdown).
   * @returns A Promise while draining, else undefined.
   */
  close(options: { readonly drain?: boolean } = {}): Promise<void> | undefined {
    if (!this.#closed) {
      this.#closed = true;
      for (const v of this.#rings.vrings) this.#rings.stop(v);
    }
    if (this.#finished) return undefined;
    const busy = this.#rings.vrings.filter((v) => this.#backend.inflight(v) > 0);
    if (!(options.drain ?? false) || busy.length === 0) return this.#finishClose(true);
    return this.#drain(busy, true).then(() => this.#finishClose(true), (e) => {
      log.error("closing with requests still in flight: {reason}; guest memory stays mapped", {
        reason: (e as Error).message,
      });
      this.#finishClose(false);
    });
  }

  #finishClose(unmap: boolean): undefined {
    if (this.#finished) return undefined;
    this.#finished = true;
    for (const v of this.#rings.vrings) this.#rings.reset(v);
    this.#backend.reset();
    const empty = MappedMemoryTable.empty();
    if (unmap) {
      this.#backend.setMemory?.(empty.memory); // the device lets go of the regions before they are unmapped
      this.#table.unmap();
    }
    this.#table = empty;
    return undefined;
  }
}

// rust-vmm check_attached_files: only these requests carry fds; anything else with fds is refused.
function checkFds(m: Message): void {
  const { request } = m.header;
  const carries = request === Request.SET_MEM_TABLE || request === Request.SET_VRING_KICK ||
    request === Request.SET_VRING_CALL || request === Request.SET_VRING_ERR;
  if (!carries && m.fds.length > 0) {
    throw new VhostUserError(
      "bad-fds",
      `Cannot accept ${requestName(request)}: it carries no fds: current count is ${m.fds.length}`,
    );
  }
  if (carries && request !== Request.SET_MEM_TABLE && m.fds.length > 1) {
    throw new VhostUserError(
      "bad-fds",
      `Cannot accept ${requestName(request)}: at most 1 fd: current count is ${m.fds.length}`,
    );
  }
}
