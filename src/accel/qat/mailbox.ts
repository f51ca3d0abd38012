/**
 * `Mailbox`: the VF's side of the PF/VF mailbox in BAR2 (`pfvf.ts` has the message values), as qatlib's VF does it
 * from user space: write the message with INT set, poll until the PF clears INT (the acknowledgement), then poll
 * PF2VM for the answer and acknowledge it by clearing its INT.
 *
 * It runs at start and restart only (never per request), so it waits synchronously, through the port's `delay`
 * (a real sleep on hardware, the model's clock in tests). A message the PF sends on its own (RESTARTING before a
 * reset, FATAL_ERROR) can arrive instead of an answer: it is kept for `takeNotification()`, where the device's
 * health check finds it.
 *
 * @module
 */

import { QatError } from "./errors.ts";
import {
  BLOCK_HEADER,
  blockCrc,
  BlockResp,
  BlockType,
  Compat,
  COMPAT_VERSION,
  decodeMessage,
  DEFAULT_SERVICE_MAP,
  encodeMessage,
  parseBlockResponse,
  Pf2Vf,
  PF2VM_OFFSET,
  PFVF_INT,
  type PfvfMessage,
  RpReset,
  SMALL_BLOCK_PAYLOAD,
  smallBlockRequest,
  Vf2Pf,
  VM2PF_OFFSET,
} from "./pfvf.ts";

/** Aligned 32-bit register access to a BAR. */
export interface Mmio32 {
  /** One 32-bit load at a 4-aligned offset. */
  read32(offset: number): number;
  /** One 32-bit store. */
  write32(offset: number, value: number): void;
}

/** Timing of the mailbox. */
export interface MailboxOptions {
  /** Waits about `us` microseconds (the port's clock). */
  readonly delay: (us: number) => void;
  /** How long the PF may take to acknowledge a message. Default 20 ms (qatlib: 2.5 ms). */
  readonly ackTimeoutMs?: number;
  /** How long the PF may take to answer. Default 200 ms (a ring pair reset waits for the hardware). */
  readonly responseTimeoutMs?: number;
  /** Sends of a request before giving up (qatlib: 5). Default 3. */
  readonly attempts?: number;
}

const POLL_US = 10;

/** The VF's mailbox. */
export class Mailbox {
  readonly #io: Mmio32;
  readonly #delay: (us: number) => void;
  readonly #ackMs: number;
  readonly #responseMs: number;
  readonly #attempts: number;
  readonly #notifications: PfvfMessage[] = [];

  /**
   * @param io BAR2.
   * @param options Clock and timeouts.
   */
  constructor(io: Mmio32, options: MailboxOptions) {
    this.#io = io;
    this.#delay = options.delay;
    this.#ackMs = options.ackTimeoutMs ?? 20;
    this.#responseMs = options.responseTimeoutMs ?? 200;
    this.#attempts = options.attempts ?? 3;
  }

  /**
   * Sends a message and waits for the PF to acknowledge it.
   *
   * @param type `Vf2Pf` type.
   * @param data Its data.
   * @throws QatError `mailbox` when the PF does not acknowledge in time.
   */
  send(type: number, data = 0): void {
    this.#io.write32(VM2PF_OFFSET, encodeMessage(type, data));
    const acked = this.#waitFor(() => (this.#io.read32(VM2PF_OFFSET) & PFVF_INT) === 0, this.#ackMs);
    if (!acked) {
      throw new QatError(
        "mailbox",
        `The PF did not acknowledge mailbox message 0x${
          type.toString(16)
        } within ${this.#ackMs} ms: the PF's ` +
          "kernel driver (qat_4xxx) must be loaded and support PF/VF messages",
      );
    }
  }

  /**
   * Sends a request and returns the PF's answer of type `expect`; a PF notification that arrives instead is kept
   * for `takeNotification()`.
   *
   * @param type `Vf2Pf` type.
   * @param data Its data.
   * @param expect The `Pf2Vf` type of the answer.
   * @returns The answer.
   * @throws QatError `mailbox` (no acknowledgement, no answer) or `device-failed` (the PF is restarting).
   */
  request(type: number, data: number, expect: number): PfvfMessage {
    for (let attempt = 0; attempt < this.#attempts; attempt++) {
      this.send(type, data);
      const deadline = performance.now() + this.#responseMs;
      while (performance.now() < deadline) {
        const message = this.#receive();
        if (message === null) {
          this.#delay(POLL_US);
          continue;
        }
        if (message.type === expect) return message;
        this.#notifications.push(message);
        if (message.type === Pf2Vf.RESTARTING || message.type === Pf2Vf.FATAL_ERROR) {
          throw new QatError("device-failed", `The PF is ${describe(message)}: the VF cannot be used now`);
        }
      }
    }
    throw new QatError(
      "mailbox",
      `The PF did not answer mailbox message 0x${type.toString(16)} within ${this.#responseMs} ms ` +
        `(${this.#attempts} attempts)`,
    );
  }

  /**
   * A message the PF sent on its own (RESTARTING, RESTARTED, FATAL_ERROR), acknowledged; or null.
   *
   * @returns The oldest such message.
   */
  takeNotification(): PfvfMessage | null {
    return this.#notifications.shift() ?? this.#receive();
  }

  // PF2VM with INT set is a message: acknowledge it by clearing INT.
  #receive(): PfvfMessage | null {
    const value = this.#io.read32(PF2VM_OFFSET);
    if ((value & PFVF_INT) === 0 || value === 0xffff_ffff) return null;
    this.#io.write32(PF2VM_OFFSET, (value & ~PFVF_INT) >>> 0);
    return decodeMessage(value);
  }

  #waitFor(done: () => boolean, ms: number): boolean {
    const deadline = performance.now() + ms;
    for (;;) {
      if (done()) return true;
      if (performance.now() > deadline) return false;
      this.#delay(POLL_US);
    }
  }

  /** INIT: tells the PF the VF is in use (qatlib `adf_vf2pf_notify_init`). */
  init(): void {
    this.send(Vf2Pf.INIT);
  }

  /** SHUTDOWN: the VF is no longer used; errors are ignored (the PF may be gone). */
  shutdown(): void {
    try {
      this.send(Vf2Pf.SHUTDOWN);
    } catch {
      // closing anyway
    }
  }

  /** RESTARTING_COMPLETE: the VF stopped using its rings after a RESTARTING notification. */
  restartingComplete(): void {
    this.send(Vf2Pf.RESTARTING_COMPLETE);
  }

  /**
   * Asks whether the PF speaks this driver's protocol version.
   *
   * @returns The PF's version.
   * @throws QatError `mailbox` when the PF says the VF is incompatible.
   */
  negotiateVersion(): number {
    const answer = this.request(Vf2Pf.COMPAT_VER_REQ, COMPAT_VERSION, Pf2Vf.VERSION_RESP);
    const version = answer.data & 0xff;
    const result = (answer.data >>> 8) & 0x3;
    if (result === Compat.COMPATIBLE || (result === Compat.UNKNOWN && version >= COMPAT_VERSION)) {
      return version;
    }
    throw new QatError(
      "mailbox",
      `The PF (protocol version ${version}) says this VF driver (version ${COMPAT_VERSION}) is incompatible: ` +
        "update the host's qat_4xxx driver",
    );
  }

  /**
   * Reads a small block message byte by byte and checks its CRC.
   *
   * @param type `BlockType`.
   * @returns Header and payload.
   * @throws QatError `mailbox` on an error answer, an empty header or a CRC mismatch.
   */
  readBlock(type: number): Uint8Array {
    const version = this.#blockByte(type, 0, false);
    const length = Math.min(this.#blockByte(type, 1, false), SMALL_BLOCK_PAYLOAD);
    if (version === 0 || length === 0) {
      throw new QatError(
        "mailbox",
        `The PF sent an empty block message ${type} (version ${version}, length ${length})`,
      );
    }
    const bytes = new Uint8Array(BLOCK_HEADER + length);
    bytes[0] = version;
    bytes[1] = length;
    for (let i = BLOCK_HEADER; i < bytes.length; i++) bytes[i] = this.#blockByte(type, i, false);
    const crc = this.#blockByte(type, bytes.length - 1, true);
    if (crc !== blockCrc(bytes)) {
      throw new QatError(
        "mailbox",
        `Block message ${type} failed its CRC check: the PF sent 0x${crc.toString(16)}`,
      );
    }
    return bytes;
  }

  #blockByte(type: number, byte: number, crc: boolean): number {
    const answer = this.request(Vf2Pf.SMALL_BLOCK_REQ, smallBlockRequest(type, byte, crc), Pf2Vf.BLKMSG_RESP);
    const r = parseBlockResponse(answer.data);
    if (r.kind === BlockResp.ERROR) {
      throw new QatError("mailbox", `The PF refused byte ${byte} of block message ${type} (error ${r.byte})`);
    }
    return r.byte;
  }

  /**
   * Which service each bundle runs: asked of the PF when it is new enough, its default otherwise.
   *
   * @param pfVersion From `negotiateVersion()`.
   * @returns The 16-bit map (`decodeServiceMap`).
   */
  ringToServiceMap(pfVersion: number): number {
    if (pfVersion < COMPAT_VERSION) return DEFAULT_SERVICE_MAP;
    const block = this.readBlock(BlockType.RING_SVC_MAP);
    if (block.length < BLOCK_HEADER + 2) {
      throw new QatError("mailbox", "The PF's ring-to-service map is truncated");
    }
    return block[2]! | (block[3]! << 8);
  }

  /**
   * Has the PF reset a bundle's ring pair (rings emptied, registers cleared) before the VF uses it.
   *
   * @param bundle 0..3.
   * @throws QatError `mailbox` when the PF reports a failure.
   */
  resetRingPair(bundle: number): void {
    const answer = this.request(Vf2Pf.RP_RESET, bundle, Pf2Vf.RP_RESET_RESP);
    if (answer.data !== RpReset.SUCCESS) {
      throw new QatError("mailbox", `The PF could not reset ring pair ${bundle}: result ${answer.data}`);
    }
  }
}

function describe(m: PfvfMessage): string {
  return m.type === Pf2Vf.RESTARTING ? "restarting (a device reset)" : "reporting a fatal error";
}
