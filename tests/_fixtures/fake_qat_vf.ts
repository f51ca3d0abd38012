/**
 * Test fixture: a model of an Intel QAT gen4 virtual function behind the driver's `QatPort`, written from the
 * interface document (qat-gen4.md), not from the driver: BAR0 ring CSRs in host memory (the driver's data path
 * writes the TX tail and RX head there by address, as on hardware), BAR2 with the PF's mailbox (`FakePf`), DMA
 * memory by IOVA, and the firmware's lookaside service (`FakeLookaside`, OpenSSL underneath).
 *
 * The device does not run by itself: `pump()` is one pass of the ring arbiter (every enabled TX ring is read from
 * its head to the tail the driver wrote; each request is executed and its 32-byte response written to the RX ring
 * at the model's own tail). Tests call it between the driver's polls, or `start()` runs it on a timer.
 *
 * Faults: `failNext(n, status)` answers the next n requests with an error status; `hung` stops the rings
 * answering; `vanish()` makes the function read all-ones (device reset under load) and `comeBack()` returns it
 * with the PF announcing RESTARTED.
 *
 * @module
 */

import { allocHostMemory } from "../../src/engine/mod.ts";
import { EventFd } from "../../src/os/mod.ts";
import type { DmaArea, DmaPort, MsixPort } from "../../src/accel/virtio_pci/mod.ts";
import type { MmioBar, QatPort } from "../../src/accel/qat/mod.ts";
import { FakeLookaside } from "./fake_qat_la.ts";
import { FakePf, type FakePfOptions } from "./fake_qat_pf.ts";

// The model's own reading of the register map (qat-gen4.md, "BARs and rings").
const BUNDLE = 0x2000;
const CONFIG = 0x1000;
const LBASE = 0x1040;
const UBASE = 0x1080;
const TAIL = 0x100;
const ARB = 0x19c;
const INT_COL_EN = 0x17c;
const REQ = 128;
const RESP = 32;
const EMPTY = 0x7f7f_7f7f;

class ModelBar implements MmioBar {
  readonly bytes: Uint8Array;
  readonly u32: Uint32Array;
  readonly address: bigint;
  readonly size: number;
  vanished = false;
  onWrite: (offset: number, value: number) => void = () => {};

  constructor(size: number) {
    const memory = allocHostMemory(size);
    this.bytes = memory.bytes;
    this.address = memory.address;
    this.size = size;
    this.u32 = new Uint32Array(memory.bytes.buffer, memory.bytes.byteOffset, size >>> 2);
  }

  read32(offset: number): number {
    return this.vanished ? 0xffff_ffff : this.u32[offset >>> 2]!;
  }

  write32(offset: number, value: number): void {
    if (this.vanished) return;
    this.u32[offset >>> 2] = value >>> 0;
    this.onWrite(offset, value >>> 0);
  }
}

interface Region {
  readonly iova: number;
  readonly bytes: Uint8Array;
}

/** Options of the model. */
export interface FakeQatOptions {
  /** PCI device id. Default 0x4941. */
  readonly deviceId?: number;
  /** Interrupt vectors (0: polling only). Default 4. */
  readonly vectors?: number;
  /** The PF's behaviour. */
  readonly pf?: FakePfOptions;
}

/** A gen4 VF model the driver drives through `QatPort`. */
export class FakeQatVf implements QatPort, DmaPort {
  readonly name = "0000:00:00.0-qat-model";
  readonly deviceId: number;
  readonly bar0 = new ModelBar(4 * BUNDLE);
  readonly bar2 = new ModelBar(0x2000);
  readonly dma: DmaPort = this;
  readonly vectors: number;
  readonly pf: FakePf;
  readonly la: FakeLookaside;
  /** Requests executed, and responses with an injected error. */
  readonly counts = { requests: 0, injected: 0, resets: 0 };
  /** While true the rings take no requests (a ring that stopped answering). */
  hung = false;
  readonly #regions = new Map<number, Region>();
  readonly #heads = [0, 0, 0, 0];
  readonly #rxTails = [0, 0, 0, 0];
  #nextIova = 0x40_0000_0000;
  #busMaster = false;
  #failures: { n: number; status: number } = { n: 0, status: 0 };
  #irq: EventFd[] = [];
  #timer: ReturnType<typeof setInterval> | null = null;

  constructor(options: FakeQatOptions = {}) {
    this.deviceId = options.deviceId ?? 0x4941;
    this.vectors = options.vectors ?? 4;
    this.pf = new FakePf(this.bar2.bytes, (b) => this.#resetBundle(b), options.pf);
    this.la = new FakeLookaside({ slice: (iova, length) => this.#slice(iova, length) });
  }

  /** Answers the next `n` requests with `status` instead of executing them. */
  failNext(n: number, status: number): void {
    this.#failures = { n, status };
  }

  /** The function disappears (reset under load): BARs read all-ones, the PF says RESTARTING. */
  vanish(): void {
    this.bar0.vanished = true;
    this.pf.restarting();
  }

  /** The function is back, reset: registers cleared, the PF says RESTARTED. */
  comeBack(): void {
    this.bar0.vanished = false;
    this.bar0.u32.fill(0);
    for (let b = 0; b < 4; b++) this.#resetBundle(b);
    this.pf.restarted();
  }

  /** Runs `pump()` every millisecond until `close()`. */
  start(): void {
    if (this.#timer === null) this.#timer = setInterval(() => this.pump(), 1);
  }

  /**
   * One pass of the arbiter over every enabled TX ring.
   *
   * @returns Requests answered.
   */
  pump(): number {
    this.pf.step();
    if (this.hung || this.bar0.vanished || !this.#busMaster) return 0;
    let n = 0;
    for (let b = 0; b < 4; b++) n += this.#serve(b);
    return n;
  }

  #serve(b: number): number {
    const u32 = this.bar0.u32;
    const at = (register: number, ring = 0) => (BUNDLE * b + register + 4 * ring) >>> 2;
    if ((u32[at(ARB)]! & 1) === 0) return 0;
    const txBytes = ringSize(u32[at(CONFIG, 0)]!);
    const rxBytes = ringSize(u32[at(CONFIG, 1)]!);
    const txBase = u32[at(UBASE, 0)]! * 0x1_0000_0000 + u32[at(LBASE, 0)]!;
    const rxBase = u32[at(UBASE, 1)]! * 0x1_0000_0000 + u32[at(LBASE, 1)]!;
    const tail = u32[at(TAIL, 0)]!;
    let n = 0;
    while (this.#heads[b] !== tail) {
      const slot = this.#slice(rxBase + this.#rxTails[b]!, RESP);
      const request = this.#slice(txBase + this.#heads[b]!, REQ);
      if (slot === null || request === null) break;
      const rx = new Uint32Array(slot.buffer, slot.byteOffset, RESP >>> 2);
      if (rx[0] !== EMPTY) break; // the RX ring is full: wait for the driver
      this.#respond(request.slice(), slot);
      this.#heads[b] = (this.#heads[b]! + REQ) % txBytes;
      this.#rxTails[b] = (this.#rxTails[b]! + RESP) % rxBytes;
      n++;
    }
    if (n > 0 && (u32[at(INT_COL_EN)]! & 2) !== 0) this.#irq[this.vectors >= 4 ? b : 0]?.signal();
    return n;
  }

  #respond(request: Uint8Array, slot: Uint8Array): void {
    this.counts.requests++;
    let status: number;
    if (this.#failures.n > 0) {
      this.#failures.n--;
      this.counts.injected++;
      status = this.#failures.status;
    } else {
      status = this.la.run(request);
    }
    const response = new Uint8Array(RESP);
    response[1] = request[1]!; // service type
    response[3] = 0x80; // valid
    response[6] = status;
    response[7] = request[3]!; // command id
    response.set(request.subarray(24, 32), 8); // opaque
    // Opaque and status first, the header word last: the driver reads a slot as full by its first word.
    slot.set(response.subarray(4), 4);
    slot.set(response.subarray(0, 4), 0);
  }

  #resetBundle(b: number): void {
    this.counts.resets++;
    this.bar0.u32.fill(0, (BUNDLE * b) >>> 2, (BUNDLE * (b + 1)) >>> 2);
    this.#heads[b] = 0;
    this.#rxTails[b] = 0;
  }

  #slice(iova: number, length: number): Uint8Array | null {
    for (const r of this.#regions.values()) {
      if (iova >= r.iova && iova + length <= r.iova + r.bytes.length) {
        return r.bytes.subarray(iova - r.iova, iova - r.iova + length);
      }
    }
    return null;
  }

  // --- DmaPort ---

  allocate(size: number): DmaArea {
    const rounded = Math.ceil(size / 0x10000) * 0x10000; // aligned for rings up to 64 KiB
    const memory = allocHostMemory(rounded);
    const iova = this.#nextIova;
    this.#nextIova += rounded;
    this.#regions.set(iova, { iova, bytes: memory.bytes });
    return { iova, size: rounded, bytes: memory.bytes, address: memory.address };
  }

  free(area: DmaArea): void {
    this.#regions.delete(area.iova);
  }

  mapFixed(address: bigint, iova: number, size: number): void {
    const pointer = Deno.UnsafePointer.create(address)!;
    const bytes = new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(pointer, size));
    this.#regions.set(iova, { iova, bytes });
  }

  mapAnywhere(address: bigint, size: number, preferred: number): number {
    this.mapFixed(address, preferred, size);
    return preferred;
  }

  unmapFixed(iova: number): void {
    this.#regions.delete(iova);
  }

  // --- the rest of QatPort ---

  delay(_us: number): void {
    this.pf.step(); // the PF answers while the VF waits
  }

  enableIrq(count: number): MsixPort {
    this.#irq = Array.from({ length: count }, () => new EventFd());
    const vectors = this.#irq;
    return {
      eventfd: (v) => vectors[v]!,
      close: () => {
        for (const e of vectors) e.close();
        if (this.#irq === vectors) this.#irq = [];
      },
    };
  }

  setBusMaster(on: boolean): void {
    this.#busMaster = on;
  }

  resetFunction(): boolean {
    if (this.bar0.vanished) return false;
    this.bar0.u32.fill(0);
    for (let b = 0; b < 4; b++) this.#resetBundle(b);
    return true;
  }

  probe32(bar: number, offset: number): number {
    return (bar === 0 ? this.bar0 : this.bar2).read32(offset);
  }

  close(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.la.close();
  }
}

function ringSize(config: number): number {
  const code = config & 0x1f;
  return code === 0 ? REQ : (1 << (code - 1)) << 7;
}
