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
import { EventFd } from "../os/mod.ts";
import { availRingSize, descTableSize, usedRingSize } from "../virtio/mod.ts";
import type { Backend } from "./backend.ts";
import { closeFds, type Message } from "./connection.ts";
import { MappedMemoryTable } from "./memory_table.ts";
import {
  decodeMemTable,
  decodeU64,
  decodeVringAddr,
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
  VRING_IDX_MASK,
  VRING_NOFD_MASK,
  vringStatePayload,
} from "./message.ts";
import { Vring } from "./vring.ts";

const log = getLogger(["cryptobridge", "vhost_user"]);

/** Protocol features every back-end here offers besides the device's own (vhost-user.rst: "should always"). */
const BASE_PROTOCOL_FEATURES = (1n << BigInt(ProtocolFeature.MQ)) |
  (1n << BigInt(ProtocolFeature.REPLY_ACK)) |
  (1n << BigInt(ProtocolFeature.RESET_DEVICE));

/** How long GET_VRING_BASE and SET_MEM_TABLE wait for in-flight requests before giving up on the front-end. */
const DRAIN_TIMEOUT_MS = 5000;

/** What the handler needs from its owner: a way to watch kick eventfds and to poll rings. */
export interface RingWatcher {
  /** Calls `onKick` whenever `vring`'s kick `fd` is readable; returns a token for `unwatch`. */
  watch(vring: Vring, fd: number, onKick: () => void): number;
  /** Stops watching. */
  unwatch(token: number): void;
  /** Adds or removes a ring from the poll loop (rings without a kick fd, or `serve --poll`). */
  poll(vring: Vring, on: boolean): void;
}

/** A reply to send: header and payload. */
export interface Reply {
  readonly header: Header;
  readonly payload: Uint8Array;
}

/** Options of a handler. */
export interface HandlerOptions {
  /** Where kick fds and polled rings are registered. */
  readonly watcher: RingWatcher;
  /** Serve every ring by polling, ignoring kicks (`serve --poll`). */
  readonly pollMode?: boolean;
}

/** The protocol state of one front-end connection. */
export class VhostUserHandler {
  readonly #backend: Backend;
  readonly #watcher: RingWatcher;
  readonly #pollMode: boolean;
  readonly #vrings: Vring[];
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
    this.#watcher = options.watcher;
    this.#pollMode = options.pollMode ?? false;
    this.#vrings = Array.from(
      { length: backend.numQueues },
      (_, i) => new Vring(i, backend.maxQueueSize, this.#table.memory),
    );
  }

  /** The vrings (for tests and metrics). */
  get vrings(): readonly Vring[] {
    return this.#vrings;
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
        return this.#setVringNum(decodeVringState(request, p));
      case Request.SET_VRING_ADDR:
        return this.#setVringAddr(p);
      case Request.SET_VRING_BASE:
        return this.#setVringBase(decodeVringState(request, p));
      case Request.GET_VRING_BASE:
        return this.#getVringBase(decodeVringState(request, p));
      case Request.SET_VRING_KICK:
      case Request.SET_VRING_CALL:
      case Request.SET_VRING_ERR:
        return this.#setVringFd(m);
      case Request.SET_VRING_ENABLE:
        return this.#setVringEnable(decodeVringState(request, p));
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
    for (const v of this.#vrings) v.queue.eventIdx = eventIdx;
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
    if (this.#owned) log.warn("SET_OWNER sent twice on one connection; ignored");
    this.#owned = true;
    return null;
  }

  // Deprecated; vhost-user.rst recommends ignoring it or disabling the rings. Disabling is the safe choice.
  #resetOwner(p: Uint8Array): null {
    expectSize(Request.RESET_OWNER, p, 0);
    for (const v of this.#vrings) this.#stopRing(v);
    return null;
  }

  #resetDevice(p: Uint8Array): null {
    expectSize(Request.RESET_DEVICE, p, 0);
    for (const v of this.#vrings) this.#resetRing(v);
    this.#backend.reset();
    this.#acked = 0n;
    return null;
  }

  #vring(index: number, request: number): Vring {
    const v = this.#vrings[index];
    if (v === undefined) {
      throw new VhostUserError(
        "bad-payload",
        `Cannot accept ${
          requestName(request)
        }: vring index must be < ${this.#vrings.length}: current value is ${index}`,
      );
    }
    return v;
  }

  #setVringNum(s: { index: number; num: number }): null {
    const v = this.#vring(s.index, Request.SET_VRING_NUM);
    try {
      v.queue.setSize(s.num);
    } catch (e) {
      throw new VhostUserError("bad-payload", `Cannot accept SET_VRING_NUM: ${(e as Error).message}`, {
        cause: e,
      });
    }
    return null;
  }

  #setVringAddr(p: Uint8Array): null {
    const a = decodeVringAddr(Request.SET_VRING_ADDR, p);
    const v = this.#vring(a.index, Request.SET_VRING_ADDR);
    v.frontendAddresses = { desc: a.descUserAddr, avail: a.availUserAddr, used: a.usedUserAddr };
    if (this.#table.memory.regions.length > 0) this.#translate(v);
    return null;
  }

  // Ring addresses are front-end VAs; the queue works in GPAs, so translate with the current table.
  #translate(v: Vring): void {
    const fa = v.frontendAddresses;
    if (fa === null) return;
    const mem = this.#table.memory;
    const size = v.queue.size;
    const desc = mem.frontendVaToGpa(fa.desc, descTableSize(size));
    const avail = mem.frontendVaToGpa(fa.avail, availRingSize(size));
    const used = mem.frontendVaToGpa(fa.used, usedRingSize(size));
    if (desc === undefined || avail === undefined || used === undefined) {
      throw new VhostUserError(
        "bad-payload",
        `Cannot use vring ${v.index}: its rings (desc 0x${fa.desc.toString(16)}, avail 0x${
          fa.avail.toString(16)
        }, ` +
          `used 0x${fa.used.toString(16)}) are not inside guest memory`,
      );
    }
    try {
      v.queue.setAddresses({ desc, avail, used });
    } catch (e) {
      throw new VhostUserError("bad-payload", `Cannot use vring ${v.index}: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }

  #setVringBase(s: { index: number; num: number }): null {
    const v = this.#vring(s.index, Request.SET_VRING_BASE);
    if (s.num > 0xffff) {
      throw new VhostUserError(
        "bad-payload",
        `Cannot accept SET_VRING_BASE: base must be a u16 (no packed rings): current value is ${s.num}`,
      );
    }
    // A ring error stopped this ring for good; a new base is how the front-end starts it again (QEMU's
    // vhost_virtqueue_start after a device reset): start from a clean queue, keeping the size it set. Requests
    // still in flight would complete into the clean queue: QEMU drains them first with GET_VRING_BASE.
    if (v.queue.broken) {
      if (this.#backend.inflight(v) > 0) {
        throw new VhostUserError(
          "bad-state",
          `Cannot restart vring ${v.index}: requests are still in flight (send GET_VRING_BASE first)`,
        );
      }
      restartQueue(v);
    }
    v.queue.setNextAvail(s.num);
    v.queue.setNextUsed(s.num);
    return null;
  }

  // vhost-user.rst: "stop ring upon receiving VHOST_USER_GET_VRING_BASE"; in-flight requests finish first.
  #getVringBase(s: { index: number }): Reply | Promise<Reply> {
    const v = this.#vring(s.index, Request.GET_VRING_BASE);
    this.#stopRing(v);
    const reply = (): Reply => {
      const base = v.queue.nextAvail;
      v.setKick(null);
      v.setCall(null);
      return replyTo(Request.GET_VRING_BASE, vringStatePayload(v.index, base));
    };
    if (this.#backend.inflight(v) === 0) return reply();
    return this.#drain([v]).then(reply);
  }

  #setVringFd(m: Message): null {
    const { request } = m.header;
    const word = decodeU64(request, m.payload);
    const v = this.#vring(Number(word & BigInt(VRING_IDX_MASK)), request);
    const noFd = (word & BigInt(VRING_NOFD_MASK)) !== 0n;
    if (noFd !== (m.fds.length === 0) || (word & ~BigInt(VRING_IDX_MASK | VRING_NOFD_MASK)) !== 0n) {
      throw new VhostUserError(
        "bad-fds",
        `Cannot accept ${requestName(request)}: the NOFD bit must match the fds sent (${m.fds.length})`,
      );
    }
    const fd = noFd ? null : new EventFd(m.fds.shift()!);
    if (request === Request.SET_VRING_CALL) {
      v.setCall(fd);
      // QEMU sends the call fd after the kick fd when it (re)starts a ring, so requests served at SET_VRING_KICK
      // were published with no fd to signal: signal the new one once, or the driver waits for them forever
      // (libvhost-user's vu_set_vring_call_exec does the same, "in case of I/O hang after reconnecting").
      fd?.signal();
    } else if (request === Request.SET_VRING_ERR) v.setErr(fd);
    else this.#startRing(v, fd);
    return null;
  }

  // vhost-user.rst: "start ring upon receiving a kick"; a kick fd (or NOFD: polling) makes the ring live.
  #startRing(v: Vring, kick: EventFd | null): void {
    this.#unwatch(v);
    v.setKick(kick);
    this.#translate(v); // SET_VRING_NUM may have come after SET_VRING_ADDR: translate with the final size
    if (v.queue.addresses === null) {
      throw new VhostUserError("bad-state", `Cannot start vring ${v.index}: SET_VRING_ADDR was not sent`);
    }
    v.queue.setReady(true);
    v.started = true;
    if (kick !== null && !this.#pollMode) {
      v.kickToken = this.#watcher.watch(v, kick.fd, () => this.#onKick(v));
    } else {
      v.polled = true;
      this.#watcher.poll(v, true);
    }
    // Buffers may already be waiting (the driver kicked before we listened): serve them now.
    this.processRing(v);
  }

  #onKick(v: Vring): void {
    v.kick?.consume();
    this.processRing(v);
  }

  /**
   * Serves what a ring has available, if it is started. Called on kicks and by the poll loop.
   *
   * @param v The ring.
   */
  processRing(v: Vring): void {
    if (!v.started || this.#closed || v.queue.broken) return;
    this.#backend.processQueue(v);
    if (v.queue.broken) {
      log.error("vring {index} stopped: {reason}", { index: v.index, reason: v.queue.error?.message });
      v.signalError();
      this.#stopRing(v);
    }
  }

  #stopRing(v: Vring): void {
    this.#unwatch(v);
    v.queue.setReady(false);
    v.started = false;
  }

  #unwatch(v: Vring): void {
    if (v.kickToken >= 0) this.#watcher.unwatch(v.kickToken);
    v.kickToken = -1;
    if (v.polled) this.#watcher.poll(v, false);
    v.polled = false;
  }

  #resetRing(v: Vring): void {
    this.#unwatch(v);
    v.close();
  }

  #setVringEnable(s: { index: number; num: number }): null {
    const v = this.#vring(s.index, Request.SET_VRING_ENABLE);
    // Recorded only: QEMU's crypto device never sends it (interop.md §1.9), so rings never wait for it.
    v.enabled = s.num !== 0;
    return null;
  }

  #setMemTable(m: Message): Reply | null | Promise<Reply | null> {
    const regions = decodeMemTable(Request.SET_MEM_TABLE, m.payload);
    const table = MappedMemoryTable.map(regions, m.fds, this.#table.memory.generation + 1);
    const busy = this.#vrings.filter((v) => this.#backend.inflight(v) > 0);
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
      for (const v of this.#vrings) {
        v.setMemory(table.memory);
        if (v.frontendAddresses !== null) this.#translate(v);
      }
    } finally {
      // Nothing points into the old regions any more: requests drained, rings re-pointed (style.md rule 10a).
      old.unmap();
    }
    log.info("memory table {generation}: {regions}", {
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
    const start = Date.now();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (vrings.every((v) => this.#backend.inflight(v) === 0) || (closing && this.#finished)) {
          return resolve();
        }
        if (this.#closed && !closing) {
          return reject(new VhostUserError("bad-state", "Connection closed while draining"));
        }
        if (Date.now() - start > DRAIN_TIMEOUT_MS) {
          return reject(
            new VhostUserError(
              "bad-state",
              `Cannot drain vrings: requests still in flight after ${DRAIN_TIMEOUT_MS} ms`,
            ),
          );
        }
        setTimeout(check, 1);
      };
      check();
    });
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
      for (const v of this.#vrings) this.#stopRing(v);
    }
    if (this.#finished) return undefined;
    const busy = this.#vrings.filter((v) => this.#backend.inflight(v) > 0);
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
    for (const v of this.#vrings) this.#resetRing(v);
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

function restartQueue(v: Vring): void {
  const { size, eventIdx } = v.queue;
  v.queue.reset(); // addresses come back from v.frontendAddresses when the ring starts
  v.queue.setSize(size);
  v.queue.eventIdx = eventIdx;
}

function replyTo(request: number, payload: Uint8Array): Reply {
  return { header: { request, flags: Flags.VERSION | Flags.REPLY, size: payload.length }, payload };
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
