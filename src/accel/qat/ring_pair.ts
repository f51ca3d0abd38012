/**
 * `QatRingPair`: the data path of one symmetric ring pair, built from a `QatRingPairTicket` alone, so any thread
 * can drive it: sessions (content descriptors in its scratch area), requests into the TX ring, one doorbell (TX
 * tail write) per batch, responses from the RX ring by polling, slots for the requests in flight and a backlog
 * beyond them.
 *
 * Rings (qat-gen4.md): a request is copied to the TX ring at `tail`, which advances by 128 modulo the ring; the
 * device answers in the RX ring, whose empty slots read 0x7F7F7F7F: a response is taken at `head`, the slot
 * refilled with 0x7F, and the RX head register written once per batch. At most `entries - 1` requests are out,
 * so the device never sees a full ring as an empty one. The response's opaque value names the slot (low word)
 * and the ring pair's incarnation (high word).
 *
 * @module
 */

import {
  type CryptoEngine,
  type CryptoOp,
  ENGINE_FAILED,
  PENDING,
  type SessionParams,
} from "../../engine/mod.ts";
import { EngineError } from "../../engine/mod.ts";
import { Status } from "../../spec/virtio_crypto.ts";
import { CD_MAX_BYTES, writeDescriptor } from "./content_descriptor.ts";
import { EMPTY_SIGNATURE, SYM_REQUEST_SIZE, SYM_RESPONSE_SIZE } from "./csr.ts";
import { QatError } from "./errors.ts";
import { REQUEST_WORDS, RESPONSE_WORDS, responseOutcome, statusOfWord } from "./fw_la.ts";
import type { GuestIovaLookup } from "../virtio_pci/mod.ts";
import { QatRequestBuilder, type RingView } from "./request_builder.ts";
import { RequestCheck } from "./request_check.ts";
import { CdPool, QatSession } from "./session.ts";
import type { SessionFacts } from "./session_plan.ts";
import { QatSlot, type Scratch, zeroList } from "./slot.ts";
import { CD_STRIDE, type QatRingPairTicket, type SlotLayout, slotLayout } from "./ticket.ts";

/** Called for every finished request with the status to give it (`ENGINE_FAILED` when the device failed it). */
export type Finish = (op: CryptoOp, session: QatSession, status: number) => void;

/** Most operations waiting for a slot; beyond this, requests go to software. */
const BACKLOG = 4096;

function view(address: bigint, size: number): ArrayBuffer {
  const pointer = Deno.UnsafePointer.create(address);
  if (pointer === null) {
    throw new QatError("bar", "Cannot drive a QAT ring pair: an address in its ticket is 0");
  }
  // UNSAFE: memory the device side mapped and keeps mapped for the ticket's lifetime (close() drops the views).
  return Deno.UnsafePointerView.getArrayBuffer(pointer, size);
}

function register(address: bigint): Uint32Array {
  if (address % 4n !== 0n) {
    throw new QatError("bar", "Cannot drive a QAT ring pair: a CSR address is not aligned");
  }
  return new Uint32Array(view(address, 4));
}

/** Counters of a ring pair. */
export interface RingPairCounters {
  /** TX tail writes (one per batch). */
  doorbells: number;
  /** Requests the device answered. */
  completed: number;
  /** Requests that bounced (memory the device could not reach). */
  bounced: number;
}

/** The data path of one ring pair. */
export class QatRingPair {
  readonly name: string;
  readonly epoch: number;
  readonly #ticket: QatRingPairTicket;
  readonly #tx: RingView;
  readonly #rx: Uint32Array;
  readonly #txTail: Uint32Array;
  readonly #rxHead: Uint32Array;
  readonly #intFlag: Uint32Array;
  readonly #scratch: Scratch;
  readonly #layout: SlotLayout;
  readonly #slots: QatSlot[];
  readonly #free: number[];
  readonly #pool: CdPool;
  readonly #builder: QatRequestBuilder;
  readonly #check = new RequestCheck();
  readonly #backlog: (CryptoOp | undefined)[] = new Array(BACKLOG).fill(undefined);
  readonly #backlogSessions: (QatSession | undefined)[] = new Array(BACKLOG).fill(undefined);
  #backlogHead = 0;
  #backlogCount = 0;
  #tail = 0;
  #head = 0;
  #consumed = false;
  #unpublished = false;
  /** The counters (live). */
  readonly counters: RingPairCounters = { doorbells: 0, completed: 0, bounced: 0 };

  private constructor(ticket: QatRingPairTicket, guest: GuestIovaLookup) {
    this.#ticket = ticket;
    this.name = ticket.name;
    this.epoch = ticket.epoch;
    const tx = view(ticket.tx.address, ticket.tx.size);
    this.#tx = { words: new Uint32Array(tx), bytes: new Uint8Array(tx) };
    this.#rx = new Uint32Array(view(ticket.rx.address, ticket.rx.size));
    this.#txTail = register(ticket.csr.txTail);
    this.#rxHead = register(ticket.csr.rxHead);
    this.#intFlag = register(ticket.csr.intFlagAndCol);
    const scratch = view(ticket.scratch.address, ticket.scratch.size);
    this.#scratch = {
      bytes: new Uint8Array(scratch),
      words: new Uint32Array(scratch),
      iova: ticket.scratch.iova,
    };
    this.#layout = slotLayout(ticket.shape);
    const { slots, maxSegments, maxSessions, bounceBytes } = ticket.shape;
    this.#slots = Array.from(
      { length: slots },
      (_, i) => new QatSlot(i, this.#scratch, this.#layout, maxSegments),
    );
    this.#free = this.#slots.map((s) => s.index).reverse();
    this.#pool = new CdPool(this.#scratch.bytes.subarray(0, maxSessions * CD_STRIDE), maxSessions, CD_STRIDE);
    const parts = { scratch: this.#scratch, layout: this.#layout, bounceBytes, epoch: ticket.epoch };
    this.#builder = new QatRequestBuilder(parts, guest);
  }

  /**
   * The data path of a ticket. The rings must be as the device side left them (reset, configured, RX filled
   * with 0x7F): the data path starts at head and tail 0.
   *
   * @param ticket From the device side.
   * @param guest The VM's translation.
   * @returns The ring pair.
   */
  static fromTicket(ticket: QatRingPairTicket, guest: GuestIovaLookup): QatRingPair {
    if (ticket.shape.slots > ticket.shape.entries - 1 || ticket.shape.slots < 1) {
      throw new RangeError(`Cannot drive ${ticket.name}: slots must be in 1..${ticket.shape.entries - 1}`);
    }
    return new QatRingPair(ticket, guest);
  }

  /** The ticket it was made from. */
  get ticket(): QatRingPairTicket {
    return this.#ticket;
  }

  /** The VM's translation (a new memory table). */
  set guest(guest: GuestIovaLookup) {
    this.#builder.guest = guest;
  }

  /** Requests on the device or waiting for a slot. */
  get inflight(): number {
    return this.#slots.length - this.#free.length + this.#backlogCount;
  }

  /** Sessions it can still hold. */
  get sessionRoom(): number {
    return this.#pool.available;
  }

  /**
   * Makes a session: its content descriptor written into the scratch area, its template kept.
   *
   * @param engine The engine that owns it.
   * @param params Its parameters.
   * @param facts `planSession(params)`.
   * @returns The session.
   * @throws EngineError `nospc` when the descriptor pool is full.
   */
  createSession(engine: CryptoEngine, params: SessionParams, facts: SessionFacts): QatSession {
    const cd = this.#pool.take();
    if (cd < 0) {
      throw new EngineError(
        "nospc",
        `Cannot create session: ${this.name} holds ${this.#ticket.shape.maxSessions}`,
      );
    }
    const bytes = this.#pool.view(cd);
    bytes.fill(0);
    const template = new Uint8Array(SYM_REQUEST_SIZE);
    writeDescriptor(
      facts.plan,
      bytes.subarray(0, CD_MAX_BYTES),
      this.#scratch.iova + cd * CD_STRIDE,
      template,
    );
    return new QatSession(engine, params, facts, { cd, template, epoch: this.epoch });
  }

  /**
   * Zeroes a session's descriptor and frees it. Requests still in flight keep reading it, so the caller only
   * does this when none is.
   *
   * @param s The session.
   */
  destroySession(s: QatSession): void {
    if (s.epoch === this.epoch) this.#pool.release(s.cd);
    s.template.fill(0);
  }

  /**
   * Takes a request: checks it, writes it into the TX ring (visible to the device at `flush()`), or backlogs it.
   *
   * @param op The operation.
   * @param s Its session.
   * @returns `PENDING`, or the status to answer at once (a refused request, `ENGINE_FAILED`).
   */
  submit(op: CryptoOp, s: QatSession): number {
    const status = this.#check.check(op, s);
    if (status !== Status.OK) return status;
    if (this.#free.length === 0 || this.#backlogCount > 0) return this.#defer(op, s);
    return this.#start(this.#slots[this.#free.pop()!]!, op, s);
  }

  #start(slot: QatSlot, op: CryptoOp, s: QatSession): number {
    const at = this.#tail >>> 2;
    if (!this.#builder.build(op, s, slot, this.#tx, at)) {
      slot.release();
      this.#free.push(slot.index);
      return ENGINE_FAILED;
    }
    if (slot.bounced) this.counters.bounced++;
    slot.op = op;
    slot.session = s;
    slot.submittedAt = performance.now();
    this.#tail = (this.#tail + SYM_REQUEST_SIZE) % this.#ticket.tx.size;
    this.#unpublished = true;
    return PENDING;
  }

  #defer(op: CryptoOp, s: QatSession): number {
    if (this.#backlogCount === BACKLOG) return ENGINE_FAILED;
    const i = (this.#backlogHead + this.#backlogCount) % BACKLOG;
    this.#backlog[i] = op;
    this.#backlogSessions[i] = s;
    this.#backlogCount++;
    return PENDING;
  }

  /** Whether requests were written but the doorbell not rung yet. */
  get unpublished(): boolean {
    return this.#unpublished;
  }

  /** Rings the doorbell once for everything written since the last one: one TX tail write. */
  flush(): void {
    if (!this.#unpublished) return;
    this.#unpublished = false;
    this.#txTail[0] = this.#tail;
    this.counters.doorbells++;
  }

  /**
   * Takes every response the device has written, completes their operations, starts backlogged requests in the
   * freed slots, and writes the RX head once.
   *
   * @param finish Called per finished request.
   * @returns Responses taken.
   * @throws QatError `device-failed` when a response names no request in flight (a broken device).
   */
  reap(finish: Finish): number {
    const rx = this.#rx;
    const words = this.#ticket.rx.size >>> 2;
    let n = 0;
    for (;;) {
      const at = this.#head >>> 2;
      if (rx[at] === EMPTY_SIGNATURE) break;
      const status = statusOfWord(rx[at + 1]!);
      const index = rx[at + 2]!;
      const epoch = rx[at + 3]!;
      rx.fill(EMPTY_SIGNATURE, at, at + RESPONSE_WORDS);
      this.#head = (this.#head + SYM_RESPONSE_SIZE) % (words << 2);
      this.#consumed = true;
      const slot = this.#slots[index];
      if (epoch !== this.epoch || slot === undefined || slot.op === null) {
        throw new QatError(
          "device-failed",
          `${this.name} returned a response for no request (opaque ${index})`,
        );
      }
      this.#complete(slot, status, finish);
      n++;
    }
    if (this.#consumed) {
      this.#consumed = false;
      this.#rxHead[0] = this.#head;
    }
    if (n > 0) this.#startBacklog(finish);
    return n;
  }

  #complete(slot: QatSlot, status: number, finish: Finish): void {
    const op = slot.op!;
    const s = slot.session as QatSession;
    const outcome = responseOutcome(status, s.verify);
    let result: number = ENGINE_FAILED;
    if (outcome === "ok") {
      slot.copyBack(this.#scratch);
      result = Status.OK;
    } else if (outcome === "auth-failed") {
      zeroList(op.dst, op.src.total);
      result = Status.BADMSG;
    }
    this.counters.completed++;
    slot.release();
    this.#free.push(slot.index);
    finish(op, s, result);
  }

  #startBacklog(finish: Finish): void {
    while (this.#backlogCount > 0 && this.#free.length > 0) {
      const op = this.#backlog[this.#backlogHead]!;
      const s = this.#backlogSessions[this.#backlogHead]!;
      this.#backlog[this.#backlogHead] = undefined;
      this.#backlogSessions[this.#backlogHead] = undefined;
      this.#backlogHead = (this.#backlogHead + 1) % BACKLOG;
      this.#backlogCount--;
      const status = this.#start(this.#slots[this.#free.pop()!]!, op, s);
      if (status !== PENDING) finish(op, s, status);
    }
  }

  /** Re-arms the bundle's interrupt after its responses were taken (interrupt mode). */
  armInterrupt(): void {
    this.#intFlag[0] = this.#ticket.csr.rxRingMask;
  }

  /** When the oldest request on the device went out (`Infinity` when none). */
  oldestSubmit(): number {
    let oldest = Infinity;
    for (const s of this.#slots) if (s.op !== null && s.submittedAt < oldest) oldest = s.submittedAt;
    return oldest;
  }

  /**
   * Gives every request on the device or in the backlog back with `ENGINE_FAILED` (after the device was stopped:
   * nothing writes their buffers any more), so software runs them and none is lost.
   *
   * @param finish Called per request.
   */
  failAll(finish: Finish): void {
    const failed: [CryptoOp, QatSession][] = [];
    for (const slot of this.#slots) {
      if (slot.op === null) continue;
      failed.push([slot.op, slot.session as QatSession]);
      slot.release();
      this.#free.push(slot.index);
    }
    while (this.#backlogCount > 0) {
      failed.push([this.#backlog[this.#backlogHead]!, this.#backlogSessions[this.#backlogHead]!]);
      this.#backlog[this.#backlogHead] = undefined;
      this.#backlogSessions[this.#backlogHead] = undefined;
      this.#backlogHead = (this.#backlogHead + 1) % BACKLOG;
      this.#backlogCount--;
    }
    this.#unpublished = false;
    for (const [op, s] of failed) finish(op, s, ENGINE_FAILED);
  }

  /** Words per request, for tests that read the TX ring. */
  static readonly REQUEST_WORDS = REQUEST_WORDS;
}
