/**
 * `SharedQueueProxy`: a data queue shared by several VMs, driven by the main thread on their behalf (issue 10:
 * past `max_dataqueues`, VMs share queues without a lock another VM can hold, served round-robin).
 *
 * It holds one `VirtioPciClient` on the queue and, per member VM, an op-slot area, a submission ring, a completion
 * ring and the VM's completion eventfd (`SharedQueueClient` is the other end). When a member kicks, it takes one
 * operation from each member in turn while the member is under its share of the queue's slots, builds it through
 * that member's own GPA → IOVA table (an address outside it never reaches the device: it is bounced or refused,
 * like any unmapped range), and submits it; each completion goes back on the member's ring, one wake-up per member
 * per batch. Device failures are the client's: what it gives back with `ENGINE_FAILED` goes back to the member,
 * whose router re-runs it in software.
 *
 * @module
 */

import { CryptoOp, type SessionParams } from "../../engine/mod.ts";
import { Status } from "../../spec/virtio_crypto.ts";
import { EPOLLIN, EventFd, type Reactor } from "../../os/mod.ts";
import { SpscRing } from "../../threads/mod.ts";
import type { VirtioPciClient } from "./client.ts";
import { GuestIovaMap, type IovaEntry } from "./guest_dma.ts";
import type { AccelSession } from "./session.ts";
import { completionWord, type SharedQueueTicket } from "./shared_client.ts";
import { createOpSlots, OpSlots, SHARED_SEGMENTS } from "./shared_ops.ts";

/** Op slots per member (requests of one VM at the queue's thread at once). */
const MEMBER_SLOTS = 64;

class Member {
  readonly id: number;
  readonly slots: OpSlots;
  readonly submit: SpscRing;
  readonly done: SpscRing;
  readonly doneEvent = new EventFd();
  readonly ops: CryptoOp[];
  readonly sessions = new Map<number, AccelSession>();
  readonly ticketPart: Omit<SharedQueueTicket, "index" | "kickFd">;
  guest = new GuestIovaMap();
  inflight = 0;
  dirty = false;

  constructor(id: number, complete: (m: Member, op: CryptoOp, status: number) => void) {
    this.id = id;
    const opSlots = createOpSlots(MEMBER_SLOTS);
    const submit = SpscRing.create(MEMBER_SLOTS);
    const done = SpscRing.create(MEMBER_SLOTS * 2);
    this.slots = new OpSlots(opSlots);
    this.submit = SpscRing.attach(submit);
    this.done = SpscRing.attach(done);
    this.ops = Array.from({ length: MEMBER_SLOTS }, (_, i) => {
      const op = new CryptoOp(SHARED_SEGMENTS);
      op.tag = i;
      op.complete = (o, status) => complete(this, o, status);
      return op;
    });
    this.ticketPart = { slots: MEMBER_SLOTS, opSlots, submit, done, doneFd: this.doneEvent.fd };
  }
}

/** A data queue the main thread drives for the VMs that share it. */
export class SharedQueueProxy {
  /** The queue's index. */
  readonly index: number;
  readonly #client: VirtioPciClient;
  readonly #reactor: Reactor;
  readonly #kick = new EventFd();
  readonly #token: number;
  readonly #members = new Map<number, Member>();
  readonly #signalTask = (): void => this.#signal();
  #order: Member[] = [];
  #next = 0;
  #nextHandle = 1;
  #signalScheduled = false;

  /**
   * @param index The queue.
   * @param client A client of the host on that queue, in the main thread.
   * @param reactor The main thread's reactor (the members' kicks join it).
   */
  constructor(index: number, client: VirtioPciClient, reactor: Reactor) {
    this.index = index;
    this.#client = client;
    this.#reactor = reactor;
    this.#token = reactor.add(this.#kick.fd, EPOLLIN, () => {
      this.#kick.consume();
      this.#dispatch();
    });
  }

  /** Member VMs. */
  get members(): number {
    return this.#members.size;
  }

  /**
   * Adds a VM to the queue.
   *
   * @param id The VM's number at the host.
   * @returns Its part of the ticket.
   */
  join(id: number): SharedQueueTicket {
    const m = new Member(id, (member, op, status) => this.#completed(member, op, status));
    this.#members.set(id, m);
    this.#order = [...this.#members.values()];
    return { index: this.index, kickFd: this.#kick.fd, ...m.ticketPart };
  }

  /**
   * Removes a VM: its sessions are closed; operations of it still on the device complete into nothing.
   *
   * @param id The VM's number.
   */
  leave(id: number): void {
    const m = this.#members.get(id);
    if (m === undefined) return;
    for (const s of m.sessions.values()) this.#client.closeSession(s);
    this.#members.delete(id);
    this.#order = [...this.#members.values()];
    m.doneEvent.close();
  }

  /**
   * A member's session: created on the device (filed under the member at the host), kept here by handle.
   *
   * @param id The member.
   * @param params The parameters.
   * @param adopt Creates the device session for the member and wraps it for this queue's client.
   * @returns The handle.
   */
  createSession(id: number, params: SessionParams, adopt: (params: SessionParams) => AccelSession): number {
    const m = this.#member(id);
    const handle = this.#nextHandle++;
    m.sessions.set(handle, adopt(params));
    return handle;
  }

  /**
   * Closes a member's session.
   *
   * @param id The member.
   * @param handle The handle.
   */
  closeSession(id: number, handle: number): void {
    const m = this.#member(id);
    const s = m.sessions.get(handle);
    if (s === undefined) return;
    m.sessions.delete(handle);
    this.#client.closeSession(s);
  }

  /**
   * A member's new GPA → IOVA table.
   *
   * @param id The member.
   * @param entries Its mapped regions.
   */
  setGuest(id: number, entries: readonly IovaEntry[]): void {
    this.#member(id).guest = new GuestIovaMap(entries);
  }

  #member(id: number): Member {
    const m = this.#members.get(id);
    if (m === undefined) throw new RangeError(`VM ${id} is not on shared queue ${this.index}`);
    return m;
  }

  // Round-robin: one operation from each member in turn, each member held to its share of the queue's slots.
  #dispatch(): void {
    const order = this.#order;
    if (order.length === 0) return;
    const share = Math.max(1, Math.floor(MEMBER_SLOTS * 2 / order.length));
    for (let idle = 0; idle < order.length;) {
      const m = order[this.#next++ % order.length]!;
      const slot = m.inflight < share ? m.submit.pop() : -1;
      if (slot < 0) {
        idle++;
        continue;
      }
      idle = 0;
      this.#start(m, slot);
    }
    this.#client.flush();
  }

  #start(m: Member, slot: number): void {
    const op = m.ops[slot % MEMBER_SLOTS]!;
    op.reset();
    const handle = m.slots.read(slot, op);
    const session = m.sessions.get(handle);
    m.inflight++;
    if (session === undefined) return this.#completed(m, op, Status.INVSESS);
    op.session = session;
    this.#client.useGuest(m.guest);
    const status = this.#client.submit(op);
    if (status >= -2 && status !== -1) this.#completed(m, op, status); // answered at once
  }

  #completed(m: Member, op: CryptoOp, status: number): void {
    m.inflight--;
    if (!this.#members.has(m.id)) return; // the member left
    m.done.push(completionWord(op.tag, status));
    m.dirty = true;
    if (!this.#signalScheduled) {
      this.#signalScheduled = true;
      queueMicrotask(this.#signalTask);
    }
  }

  #signal(): void {
    this.#signalScheduled = false;
    for (const m of this.#order) {
      if (!m.dirty) continue;
      m.dirty = false;
      m.doneEvent.signal();
    }
    if (this.#order.some((m) => m.submit.size > 0)) this.#dispatch(); // members held at their share
  }

  /** Stops serving the queue (the host closes its client). */
  close(): void {
    this.#reactor.remove(this.#token);
    for (const id of [...this.#members.keys()]) this.leave(id);
    this.#kick.close();
  }
}
