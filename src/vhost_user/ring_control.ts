/**
 * `RingControl`: the vrings of one connection and their state machine (vhost-user.rst "Ring states"): size,
 * addresses (front-end VAs translated to GPAs), base, the kick, call and err eventfds, started and stopped, polled
 * or kicked. The handler decodes messages and calls these methods; the device sees only `processRing`'s work.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { RateLimitedLog } from "../log/mod.ts";
import type { GuestMemory } from "../memory/mod.ts";
import { EventFd } from "../os/mod.ts";
import { availRingSize, descTableSize, usedRingSize } from "../virtio/mod.ts";
import type { Backend } from "./backend.ts";
import type { Message } from "./connection.ts";
import {
  decodeU64,
  decodeVringAddr,
  Flags,
  type Header,
  Request,
  requestName,
  VhostUserError,
  VRING_IDX_MASK,
  VRING_NOFD_MASK,
  vringStatePayload,
} from "./message.ts";
import { Vring } from "./vring.ts";

const log = getLogger(["cryptobridge", "vhost_user"]);

/** What the handler needs from its owner: a way to watch kick eventfds and to poll rings. */
export interface RingWatcher {
  /**
   * Calls `onKick` whenever the front-end writes `vring`'s kick `fd` (edge-triggered: the counter is never read,
   * which saves a read(2) per batch; it cannot overflow in practice, at one per kick); returns a token for
   * `unwatch`.
   */
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

/** What `RingControl` needs from the connection it belongs to. */
export interface RingHost {
  /** The device. */
  readonly backend: Backend;
  /** Where kick fds and polled rings are registered. */
  readonly watcher: RingWatcher;
  /** Serve every ring by polling, ignoring kicks (`serve --poll`). */
  readonly pollMode: boolean;
  /** The VM's rate-limited log (a front-end can break and restart a ring in a loop). */
  readonly log: RateLimitedLog;
  /** The current memory table. */
  memory(): GuestMemory;
  /** Whether the connection is closing (no more ring work). */
  closed(): boolean;
  /** Resolves when the given rings have no request in flight (GET_VRING_BASE waits for it). */
  drain(vrings: readonly Vring[]): Promise<void>;
}

/** The vrings of one connection. */
export class RingControl {
  /** The vrings, by index. */
  readonly vrings: readonly Vring[];
  readonly #backend: Backend;
  readonly #watcher: RingWatcher;
  readonly #pollMode: boolean;
  readonly #log: RateLimitedLog;
  readonly #memory: () => GuestMemory;
  readonly #closed: () => boolean;
  readonly #drain: (vrings: readonly Vring[]) => Promise<void>;

  /** @param host The connection's device, watcher, memory and state. */
  constructor(host: RingHost) {
    this.#backend = host.backend;
    this.#watcher = host.watcher;
    this.#pollMode = host.pollMode;
    this.#log = host.log;
    this.#memory = () => host.memory();
    this.#closed = () => host.closed();
    this.#drain = (v) => host.drain(v);
    this.vrings = Array.from(
      { length: host.backend.numQueues },
      (_, i) => new Vring(i, host.backend.maxQueueSize, host.memory()),
    );
  }

  /** Points every ring at a new memory table (requests drained) and translates its addresses again. */
  setMemory(memory: GuestMemory): void {
    for (const v of this.vrings) {
      v.setMemory(memory);
      if (v.frontendAddresses !== null) this.translate(v);
    }
  }

  /** The ring `index`, or a protocol error naming `request`. */
  vring(index: number, request: number): Vring {
    const v = this.vrings[index];
    if (v === undefined) {
      throw new VhostUserError(
        "bad-payload",
        `Cannot accept ${
          requestName(request)
        }: vring index must be < ${this.vrings.length}: current value is ${index}`,
      );
    }
    return v;
  }

  /** SET_VRING_NUM. */
  setNum(s: { index: number; num: number }): null {
    const v = this.vring(s.index, Request.SET_VRING_NUM);
    try {
      v.queue.setSize(s.num);
    } catch (e) {
      throw new VhostUserError("bad-payload", `Cannot accept SET_VRING_NUM: ${(e as Error).message}`, {
        cause: e,
      });
    }
    return null;
  }

  /** SET_VRING_ADDR: stored as front-end VAs, translated now if memory is known. */
  setAddr(p: Uint8Array): null {
    const a = decodeVringAddr(Request.SET_VRING_ADDR, p);
    const v = this.vring(a.index, Request.SET_VRING_ADDR);
    v.frontendAddresses = { desc: a.descUserAddr, avail: a.availUserAddr, used: a.usedUserAddr };
    if (this.#memory().regions.length > 0) this.translate(v);
    return null;
  }

  /** Ring addresses are front-end VAs; the queue works in GPAs, so translate with the current table. */
  translate(v: Vring): void {
    const fa = v.frontendAddresses;
    if (fa === null) return;
    const mem = this.#memory();
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

  /** SET_VRING_BASE. */
  setBase(s: { index: number; num: number }): null {
    const v = this.vring(s.index, Request.SET_VRING_BASE);
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

  /** GET_VRING_BASE (vhost-user.rst: "stop ring upon receiving"); in-flight requests finish first. */
  getBase(s: { index: number }): Reply | Promise<Reply> {
    const v = this.vring(s.index, Request.GET_VRING_BASE);
    this.stop(v);
    const reply = (): Reply => {
      const base = v.queue.nextAvail;
      v.setKick(null);
      v.setCall(null);
      return replyTo(Request.GET_VRING_BASE, vringStatePayload(v.index, base));
    };
    if (this.#backend.inflight(v) === 0) return reply();
    return this.#drain([v]).then(reply);
  }

  /** SET_VRING_KICK, SET_VRING_CALL and SET_VRING_ERR (an fd, or the NOFD bit). */
  setFd(m: Message): null {
    const { request } = m.header;
    const word = decodeU64(request, m.payload);
    const v = this.vring(Number(word & BigInt(VRING_IDX_MASK)), request);
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
    else this.#start(v, fd);
    return null;
  }

  // vhost-user.rst: "start ring upon receiving a kick"; a kick fd (or NOFD: polling) makes the ring live.
  #start(v: Vring, kick: EventFd | null): void {
    this.#unwatch(v);
    v.setKick(kick);
    this.translate(v); // SET_VRING_NUM may have come after SET_VRING_ADDR: translate with the final size
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
    // Buffers may already be waiting (the driver kicked before we listened): serve them now. More than one batch
    // of them (BATCH_LIMIT) is served on as if kicked: the watcher keeps a kicked ring with work left polled.
    this.processRing(v);
    if (v.kickToken >= 0 && v.queue.availPending > 0) kick?.signal();
  }

  #onKick(v: Vring): void {
    this.processRing(v);
  }

  /**
   * Serves what a ring has available, if it is started. Called on kicks and by the poll loop.
   *
   * @param v The ring.
   */
  processRing(v: Vring): void {
    if (!v.started || this.#closed() || v.queue.broken) return;
    this.#backend.processQueue(v);
    if (v.queue.broken) {
      // The guest's doing (a broken ring stops only that ring): a warning, and rate-limited.
      this.#log.warn(log, "vring-stopped", "vring {index} stopped: {reason}", {
        index: v.index,
        reason: v.queue.error?.message,
      });
      v.signalError();
      this.stop(v);
    }
  }

  /** Stops a ring: no more pops (requests in flight may still complete). */
  stop(v: Vring): void {
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

  /** Stops a ring and closes its eventfds (device reset, connection closed). */
  reset(v: Vring): void {
    this.#unwatch(v);
    v.close();
  }

  /** SET_VRING_ENABLE. */
  setEnable(s: { index: number; num: number }): null {
    const v = this.vring(s.index, Request.SET_VRING_ENABLE);
    // Recorded only: QEMU's crypto device never sends it (interop.md §1.9), so rings never wait for it.
    v.enabled = s.num !== 0;
    return null;
  }
}

/** A reply header for `request`. */
export function replyTo(request: number, payload: Uint8Array): Reply {
  return { header: { request, flags: Flags.VERSION | Flags.REPLY, size: payload.length }, payload };
}

function restartQueue(v: Vring): void {
  const { size, eventIdx } = v.queue;
  v.queue.reset(); // addresses come back from v.frontendAddresses when the ring starts
  v.queue.setSize(size);
  v.queue.eventIdx = eventIdx;
}
