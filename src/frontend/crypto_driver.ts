/**
 * `VirtioCryptoDriver`: a virtio-crypto driver in TypeScript, talking to a vhost-user back-end the way QEMU and a
 * Linux guest together do: guest RAM in a memfd, split rings in it, kick and call eventfds, sessions through
 * messages 26/27 (any of QEMU's three payload layouts) or through the control queue, and data requests as direct
 * or indirect chains. Integration tests and `cryptobridge bench` drive back-ends with it.
 *
 * @module
 */

import { CryptoFeature, Layout } from "../spec/virtio_crypto.ts";
import {
  type CtrlRequest,
  decodeCreateSessionInput,
  encodeCtrlRequest,
  encodeVhostSession,
  readVhostSessionReply,
  type VhostSessionLayout,
  type WireLayout,
} from "../crypto/mod.ts";
import { EPOLLIN, type EventFd, Reactor } from "../os/mod.ts";
import { Request, u64Payload } from "../vhost_user/mod.ts";
import { DriverBufferList, type DriverQueue, UsedBuffer, VIRTIO_RING_F_EVENT_IDX } from "../virtio/mod.ts";
import type { ChainShape, InPart, OutPart } from "./chain_shape.ts";
import { type DriverOptions, type RamPlan, ramPlan } from "./driver_options.ts";
import { align, enableVrings, negotiate, restartVring, type SetUpRing, setUpVring } from "./driver_setup.ts";
import { layOutRequest } from "./request_layout.ts";
import { GuestRam } from "./guest_ram.ts";
import { ctrlCreateRequest, ctrlDestroyRequest, type SessionSpec, vhostCreateRequest } from "./sessions.ts";
import { VhostUserFrontend } from "./vhost_user_frontend.ts";

/** A data queue handed to a caller by `VirtioCryptoDriver.claimQueue`. */
export interface ClaimedQueue {
  /** The vring index. */
  readonly index: number;
  /** The driver side of the ring; tokens are the caller's. */
  readonly driver: DriverQueue<number>;
  /** Signal it after publishing when `driver.needsKick()` says so. */
  readonly kick: EventFd;
  /** The device signals it when the driver asked for a notification (`used_event`). */
  readonly call: EventFd;
}

/** A completed request. */
export interface Completion {
  /** The status byte (data requests), or -1 without one. */
  readonly status: number;
  /** `len` of the used element. */
  readonly usedLen: number;
  /** The bytes of each in part, copied out of guest RAM. */
  readonly in: Uint8Array[];
}

interface Pending {
  readonly slot: number;
  readonly inAt: readonly { gpa: number; length: number }[];
  readonly statusGpa: number;
  readonly resolve: (c: Completion) => void;
}

interface Queue extends SetUpRing<Pending> {
  token: number;
}

/** The driver side of one virtio-crypto device over vhost-user. */
export class VirtioCryptoDriver {
  /** The vhost-user connection. */
  readonly frontend: VhostUserFrontend;
  /** Guest RAM. */
  readonly ram: GuestRam;
  /** Features acknowledged. */
  readonly features: bigint;
  /** Data queues. */
  readonly dataQueues: number;
  readonly #reactor: Reactor;
  readonly #ownReactor: boolean;
  readonly #queues: Queue[] = [];
  readonly #slotBase: number;
  readonly #slotSize: number;
  readonly #freeSlots: number[] = [];
  readonly #list: DriverBufferList;
  readonly #used = new UsedBuffer<Pending>();
  #reactorRun: Promise<void> | null = null;
  /** Next free guest-physical address after the request buffers (`reserveRam`). */
  #reserveAt: number;

  private constructor(o: DriverParts) {
    const { plan } = o;
    this.frontend = o.frontend;
    this.ram = o.ram;
    this.features = o.features;
    this.dataQueues = plan.dataQueues;
    this.#reactor = o.reactor;
    this.#ownReactor = o.ownReactor;
    // The request buffers follow the rings (`ramPlan`).
    this.#slotBase = o.ram.region.gpa + plan.vrings * plan.ringBytes;
    this.#slotSize = plan.slotSize;
    for (let i = plan.slots - 1; i >= 0; i--) this.#freeSlots.push(i);
    this.#list = new DriverBufferList(plan.queueSize);
    this.#reserveAt = this.#slotBase + plan.slots * plan.slotSize;
  }

  /**
   * Connects, negotiates and sets up guest RAM and every vring.
   *
   * @param options Socket path and device shape.
   * @returns A driver ready for sessions and requests.
   */
  static async open(options: DriverOptions): Promise<VirtioCryptoDriver> {
    const ownReactor = options.reactor === undefined;
    const reactor = options.reactor ?? new Reactor();
    const run = ownReactor ? reactor.run() : null;
    const frontend = VhostUserFrontend.connect(options.path, { reactor });
    try {
      const driver = await VirtioCryptoDriver.#setUp(frontend, reactor, ownReactor, options);
      driver.#reactorRun = run;
      return driver;
    } catch (e) {
      frontend.close();
      if (ownReactor) {
        reactor.stop();
        await run;
        reactor.close();
      }
      throw e;
    }
  }

  /** The layout the back-end will parse requests in. */
  get layout(): WireLayout {
    return (this.features & (1n << BigInt(CryptoFeature.REVISION_1))) !== 0n ? "revision1" : "legacy";
  }

  /** Whether the control queue was set up. */
  get hasControlQueue(): boolean {
    return this.#queues.length > this.dataQueues;
  }

  /** Requests in flight on a queue. */
  inflight(queue = 0): number {
    return this.#queues[queue]!.driver.inflight;
  }

  /** The reactor the driver waits in (a load generator registers the call eventfd of a claimed queue in it). */
  get reactor(): Reactor {
    return this.#reactor;
  }

  /**
   * Reserves guest RAM after the driver's own request buffers, for a caller that lays out its own requests (the
   * load generator). Reservations last as long as the driver.
   *
   * @param bytes Bytes wanted (rounded up to 4096).
   * @returns The guest-physical address of the area.
   * @throws RangeError when guest RAM is too small (open the driver with a larger `ramSize`).
   */
  reserveRam(bytes: number): number {
    const gpa = this.#reserveAt;
    const end = gpa + align(bytes, 4096);
    const ramEnd = this.ram.region.gpa + this.ram.size;
    if (!(bytes > 0) || end > ramEnd) {
      throw new RangeError(
        `Cannot reserve ${bytes} bytes of guest RAM: ${
          ramEnd - gpa
        } are left (open the driver with a larger ramSize)`,
      );
    }
    this.#reserveAt = end;
    return gpa;
  }

  /**
   * Hands a data queue to a caller that drives it directly (the load generator: preallocated requests, no Promise
   * per request): the driver stops taking its completions until `releaseQueue`. The claimed queue's tokens are
   * the caller's (numbers); `submit` must not be used on it meanwhile.
   *
   * @param queue The vring index.
   * @returns The driver-side ring and its kick and call eventfds.
   * @throws RangeError for an unknown queue, one with requests in flight, or one already claimed.
   */
  claimQueue(queue: number): ClaimedQueue {
    const q = this.#queues[queue];
    if (q === undefined) throw new RangeError(`Cannot claim queue ${queue}: there is no such queue`);
    if (q.token < 0) throw new RangeError(`Cannot claim queue ${queue}: it is claimed already`);
    if (q.driver.inflight > 0) {
      throw new RangeError(`Cannot claim queue ${queue}: ${q.driver.inflight} requests are in flight`);
    }
    this.#reactor.remove(q.token);
    q.token = -1;
    // No request of ours is in flight, so no Pending token is left in the ring: the caller's numbers take over.
    const driver = q.driver as unknown as DriverQueue<number>;
    return { index: queue, driver, kick: q.kick, call: q.call };
  }

  /**
   * Takes a claimed queue back (its requests must all have completed).
   *
   * @param claimed What `claimQueue` returned.
   * @throws RangeError when requests are still in flight.
   */
  releaseQueue(claimed: ClaimedQueue): void {
    const q = this.#queues[claimed.index];
    if (q === undefined || q.token >= 0) return;
    if (q.driver.inflight > 0) {
      throw new RangeError(
        `Cannot release queue ${claimed.index}: ${q.driver.inflight} requests are in flight`,
      );
    }
    claimed.call.consume();
    q.token = this.#reactor.add(q.call.fd, EPOLLIN, () => {
      q.call.consume();
      this.#reap(q);
    });
  }

  #addQueue(q: Queue): void {
    q.token = this.#reactor.add(q.call.fd, EPOLLIN, () => {
      q.call.consume();
      this.#reap(q);
    });
    this.#queues.push(q);
  }

  #reap(q: Queue): void {
    const used = this.#used;
    while (q.driver.popUsed(used)) {
      const p = used.token!;
      const status = p.statusGpa >= 0 ? this.ram.view(p.statusGpa, 1)[0]! : -1;
      const parts = p.inAt.map((a) => this.ram.view(a.gpa, a.length).slice());
      this.#freeSlots.push(p.slot);
      p.resolve({ status, usedLen: used.len, in: parts });
    }
  }

  /**
   * Sends one request on a queue: `out` parts, then `in` parts, then (by default) a 1-byte status.
   *
   * @param queue The vring index.
   * @param out Device-readable parts, in order.
   * @param inParts Device-writable parts, in order.
   * @param shape Direct or indirect, descriptor size.
   * @returns The completion.
   */
  submit(
    queue: number,
    out: readonly OutPart[],
    inParts: readonly InPart[],
    shape: ChainShape = {},
  ): Promise<Completion> {
    const q = this.#queues[queue];
    if (q === undefined) throw new RangeError(`Cannot submit: no queue ${queue}`);
    const slot = this.#freeSlots.pop();
    if (slot === undefined) throw new RangeError("Cannot submit: every request buffer is in flight");
    const list = this.#list;
    const area = { gpa: this.#slotBase + slot * this.#slotSize, size: this.#slotSize };
    let laid: ReturnType<typeof layOutRequest>;
    try {
      laid = layOutRequest(this.ram, list, area, { out, in: inParts, shape });
    } catch (e) {
      this.#freeSlots.push(slot); // a request that does not fit its buffer must not use the buffer up
      throw e;
    }
    const { inAt, statusGpa } = laid;
    return new Promise<Completion>((resolve) => {
      let head = -1;
      try {
        head = q.driver.addList(list, shape.indirect ?? false, { slot, inAt, statusGpa, resolve });
      } finally {
        if (head < 0) this.#freeSlots.push(slot);
      }
      if (head < 0) {
        throw new RangeError("Cannot submit: the queue is full");
      }
      q.driver.publish();
      if (q.driver.needsKick()) q.kick.signal();
    });
  }

  /**
   * Creates a session through vhost-user message 26 (as QEMU does), in one of QEMU's payload layouts.
   *
   * @returns The session id (>= 0), or a negative value when the back-end refused.
   * @throws TypeError for hash, MAC and AEAD sessions, which message 26 cannot express.
   */
  async createSessionVhost(spec: SessionSpec, layout: VhostSessionLayout = "B"): Promise<bigint> {
    const req = vhostCreateRequest(spec);
    if (req === null) {
      throw new TypeError(`Cannot create a ${spec.service} session with message 26: use the control queue`);
    }
    const reply = await this.frontend.request(Request.CREATE_CRYPTO_SESSION, encodeVhostSession(req, layout));
    return readVhostSessionReply(reply!);
  }

  /** Closes a session through vhost-user message 27 (no reply, as with QEMU). */
  async closeSessionVhost(id: bigint): Promise<void> {
    await this.frontend.request(Request.CLOSE_CRYPTO_SESSION, u64Payload(id));
  }

  /**
   * Creates a session through the control queue (virtio 1.3 §5.9.7.2).
   *
   * @returns The session id and the status the device answered.
   */
  async createSessionCtrl(
    spec: SessionSpec,
    shape: ChainShape = {},
  ): Promise<{ id: bigint; status: number }> {
    const { request, keys } = ctrlCreateRequest(spec);
    const c = await this.#ctrl(request, keys, Layout.CREATE_SESSION_INPUT, shape);
    const input = decodeCreateSessionInput(c.in[0]!);
    return { id: input.sessionId, status: input.status };
  }

  /** Destroys a session through the control queue; returns the status byte. */
  async closeSessionCtrl(service: SessionSpec["service"], id: bigint): Promise<number> {
    const c = await this.#ctrl(ctrlDestroyRequest(service, id), [], Layout.INHDR, {});
    return c.in[0]![0]!;
  }

  #ctrl(request: CtrlRequest, keys: Uint8Array[], outcome: number, shape: ChainShape): Promise<Completion> {
    if (!this.hasControlQueue) throw new Error("Cannot use the control queue: it was not set up");
    const out = [{ bytes: encodeCtrlRequest(request, this.layout) }, ...keys.map((k) => ({ bytes: k }))];
    return this.submit(this.dataQueues, out, [{ length: outcome }], { ...shape, status: false });
  }

  /** Stops a data queue (GET_VRING_BASE) and returns its next avail index. */
  async stopQueue(queue: number): Promise<number> {
    return await this.frontend.getVringBase(queue);
  }

  /**
   * Starts a stopped queue again the way QEMU's `vhost_virtqueue_start` does: SET_VRING_NUM, SET_VRING_BASE,
   * SET_VRING_ADDR, SET_VRING_KICK, then SET_VRING_CALL (the call fd comes last, as with QEMU's
   * `vhost_virtqueue_mask`). Requests added while the queue was stopped are served once the kick fd arrives.
   *
   * @param queue The vring index.
   * @param base The avail index to resume at (what `stopQueue` returned).
   */
  async restartQueue(queue: number, base: number): Promise<void> {
    const q = this.#queues[queue];
    if (q === undefined) throw new RangeError(`Cannot restart: no queue ${queue}`);
    await restartVring(this.frontend, this.ram, q, base);
  }

  /** Closes the connection, the eventfds and guest RAM (the back-end drops its sessions). */
  async close(): Promise<void> {
    this.frontend.close();
    for (const q of this.#queues) {
      if (q.token >= 0) this.#reactor.remove(q.token);
      q.kick.close();
      q.call.close();
    }
    this.#queues.length = 0;
    if (this.#ownReactor) {
      this.#reactor.stop();
      await this.#reactorRun;
      this.#reactor.close();
    }
    this.ram.close();
  }

  static async #setUp(
    frontend: VhostUserFrontend,
    reactor: Reactor,
    ownReactor: boolean,
    o: DriverOptions,
  ): Promise<VirtioCryptoDriver> {
    const plan = ramPlan(o);
    const { vrings, queueSize, ringBytes } = plan;
    const features = await negotiate(frontend, plan.dataQueues, o);
    const ram = new GuestRam(plan.ramSize);
    try {
      await frontend.setMemTable([ram]);
      const driver = new VirtioCryptoDriver({ frontend, ram, features, reactor, ownReactor, plan });
      // A guest that negotiated EVENT_IDX with QEMU uses it even though QEMU never tells the back-end.
      const eventIdx = o.qemuFeatures === true || (features & (1n << BigInt(VIRTIO_RING_F_EVENT_IDX))) !== 0n;
      for (let i = 0; i < vrings; i++) {
        const base = ram.region.gpa + i * ringBytes;
        // The control queue (after the data queues) keeps free-list heads: its requests are direct chains.
        const headOrder = i < plan.dataQueues ? o.headOrder ?? "free-list" : "free-list";
        const ring = { index: i, size: queueSize, base, eventIdx, headOrder };
        driver.#addQueue({ ...(await setUpVring<Pending>(frontend, ram, ring)), token: -1 });
      }
      if (o.vringEnable === true) await enableVrings(frontend, vrings); // before the first kick
      return driver;
    } catch (e) {
      ram.close();
      throw e;
    }
  }
}

interface DriverParts {
  readonly frontend: VhostUserFrontend;
  readonly ram: GuestRam;
  readonly features: bigint;
  readonly reactor: Reactor;
  readonly ownReactor: boolean;
  readonly plan: RamPlan;
}
