/**
 * Test fixture: the PF's side of a QAT gen4 VF's mailbox, as the kernel's qat_4xxx driver answers it (Linux
 * `adf_pfvf_pf_proto.c`), written from the interface (qat-gen4.md; Linux `adf_pfvf_msg.h`), not from the driver's
 * code: its own register offsets and field positions.
 *
 * Registers (BAR2 of the VF): VM2PF at 0x100C (the VF writes, the PF acknowledges by clearing bit 0), PF2VM at
 * 0x1008 (the PF writes, the VF acknowledges). Messages: bit 0 INT, bit 1 origin, bits 2-7 type, bits 8-31 data.
 *
 * @module
 */

const PF2VM = 0x1008;
const VM2PF = 0x100c;
const INT = 1;
const ORIGIN = 2;

// VF -> PF
const INIT = 0x03;
const SHUTDOWN = 0x04;
const COMPAT_VER_REQ = 0x06;
const SMALL_BLOCK_REQ = 0x09;
const RESTARTING_COMPLETE = 0x0a;
const RP_RESET = 0x10;
// PF -> VF
const RESTARTING = 0x01;
const VERSION_RESP = 0x02;
const BLKMSG_RESP = 0x03;
const RESTARTED = 0x05;
const RP_RESET_RESP = 0x10;

/** What the PF does with a ring pair reset: the VF model clears that bundle's registers and ring state. */
export type RingPairReset = (bundle: number) => void;

/** Behaviour of the PF. */
export interface FakePfOptions {
  /** The PF's protocol version (Linux today: 5). */
  readonly version?: number;
  /** The ring-to-service map (3 bits per bundle: 2 dc, 3 sym, 4 asym). Default asym, sym, asym, sym. */
  readonly serviceMap?: number;
  /** Whether block byte requests get a corrupted CRC (to test the VF's check). */
  readonly badCrc?: boolean;
}

/** The PF's mailbox handling. */
export class FakePf {
  readonly #u32: Uint32Array;
  readonly #reset: RingPairReset;
  readonly #version: number;
  readonly #map: number;
  readonly #badCrc: boolean;
  readonly #outbox: number[] = [];
  /** Messages the VF sent, as `type` values, in order. */
  readonly received: number[] = [];
  /** Whether the VF said INIT (and no SHUTDOWN since). */
  initialized = false;
  /** Whether the PF answers at all (false while the device restarts). */
  up = true;
  /** Ring pair resets done, per bundle. */
  readonly resets = [0, 0, 0, 0];

  /**
   * @param bar2 The VF's BAR2 memory.
   * @param reset What a ring pair reset does to the VF.
   * @param options Version, service map.
   */
  constructor(bar2: Uint8Array, reset: RingPairReset, options: FakePfOptions = {}) {
    this.#u32 = new Uint32Array(bar2.buffer, bar2.byteOffset, bar2.byteLength >>> 2);
    this.#reset = reset;
    this.#version = options.version ?? 5;
    this.#map = options.serviceMap ?? (4 | (3 << 3) | (4 << 6) | (3 << 9));
    this.#badCrc = options.badCrc === true;
  }

  /** One round of the PF's interrupt handler: take the VF's message, answer it, deliver queued messages. */
  step(): void {
    this.#deliver();
    if (!this.up) return;
    const value = this.#u32[VM2PF >>> 2]!;
    if ((value & INT) === 0) return;
    this.#u32[VM2PF >>> 2] = value & ~INT; // the acknowledgement
    const type = (value >>> 2) & 0x3f;
    const data = value >>> 8;
    this.received.push(type);
    this.#handle(type, data);
    this.#deliver();
  }

  #handle(type: number, data: number): void {
    switch (type) {
      case INIT:
        this.initialized = true;
        return;
      case SHUTDOWN:
        this.initialized = false;
        return;
      case RESTARTING_COMPLETE:
        return;
      case COMPAT_VER_REQ: {
        const vf = data & 0xff;
        const result = vf === 0 ? 2 : vf <= this.#version ? 1 : 3; // compatible, incompatible, unknown
        return this.send(VERSION_RESP, this.#version | (result << 8));
      }
      case SMALL_BLOCK_REQ:
        return this.send(BLKMSG_RESP, this.#block(data));
      case RP_RESET: {
        const bundle = data & 0x3;
        this.resets[bundle]!++;
        this.#reset(bundle);
        return this.send(RP_RESET_RESP, 0);
      }
    }
  }

  // Block type 3 is the ring-to-service map, v1: [version 1, length 2, map low, map high].
  #block(data: number): number {
    const type = data & 0xf;
    const byte = (data >>> 4) & 0x1f;
    const crc = (data & (1 << 9)) !== 0;
    if (type !== 3) return 2 | (0 << 2); // error: invalid block type
    const block = [1, 2, this.#map & 0xff, this.#map >>> 8];
    if (byte >= block.length) return 2 | (1 << 2); // error: invalid byte number
    if (!crc) return 0 | (block[byte]! << 2);
    let c = crc8(block.slice(0, byte + 1));
    if (this.#badCrc) c ^= 0x5a;
    return 1 | (c << 2);
  }

  /**
   * Sends a message to the VF (queued while the VF has not acknowledged the previous one).
   *
   * @param type PF -> VF type.
   * @param data Its data.
   */
  send(type: number, data: number): void {
    this.#outbox.push(((data * 256) + (type << 2) + ORIGIN + INT) >>> 0);
    this.#deliver();
  }

  #deliver(): void {
    if (this.#outbox.length === 0 || (this.#u32[PF2VM >>> 2]! & INT) !== 0) return;
    this.#u32[PF2VM >>> 2] = this.#outbox.shift()!;
  }

  /** The device goes into reset: RESTARTING to the VF, then no answers until `restarted()`. */
  restarting(): void {
    this.send(RESTARTING, 0);
    this.up = false;
  }

  /** The device is back: RESTARTED to the VF, answers again. */
  restarted(): void {
    this.up = true;
    this.send(RESTARTED, 0);
  }
}

function crc8(bytes: readonly number[]): number {
  let crc = 0xff;
  for (const b of bytes) {
    crc ^= b;
    for (let i = 0; i < 8; i++) crc = (crc & 0x80) !== 0 ? ((crc << 1) ^ 0x97) & 0xff : (crc << 1) & 0xff;
  }
  return crc;
}
