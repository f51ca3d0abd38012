/**
 * `QatDevice`: the device-level side of a QAT gen4 VF, the part that stays with the process that owns the
 * function (the main thread once VMs run on their own threads): function reset, bus mastering, the PF/VF
 * mailbox (INIT, protocol version, which service each bundle runs), ring pair reset and configuration, MSI-X, the
 * DMA memory of the rings and scratch areas, the health check, stop and restart. What it produces for the data
 * path is a `QatRingPairTicket` per ring pair: plain numbers.
 *
 * Bring-up, in qatlib's and DPDK's order: VFIO_DEVICE_RESET ("gratuitous reset" in qatlib), bus master, INIT,
 * COMPAT_VER_REQ, the ring-to-service map (block message 3) to find the symmetric bundles; then per ring pair:
 * RP_RESET through the mailbox, TX and RX bases, both configs, the bundle's interrupt coalescing for the RX ring
 * (interrupt mode), and the TX ring's arbiter bit.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { DmaArea, MsixPort } from "../virtio_pci/mod.ts";
import {
  buildRingBase,
  BUNDLES,
  COALESCING_DEF_TIME,
  Csr,
  csrOffset,
  EMPTY_BYTE,
  INT_COL_CTL_ENABLE,
  INT_SRCSEL_GEN4,
  ringShape,
  RX_RING,
  rxRingConfig,
  TX_RING,
  txRingConfig,
} from "./csr.ts";
import { QatError } from "./errors.ts";
import { Mailbox, type MailboxOptions } from "./mailbox.ts";
import { type BundleService, decodeServiceMap, Pf2Vf } from "./pfvf.ts";
import type { QatPort } from "./port.ts";
import { type QatRingPairTicket, type RingPairShape, scratchBytes } from "./ticket.ts";

const log = getLogger(["cryptobridge", "accel"]);

/** Options of `QatDevice.open`. */
export interface QatDeviceOptions {
  /** Every ring pair's shape. */
  readonly shape: RingPairShape;
  /** Symmetric ring pairs to configure (one per future VM queue). Default 1. */
  readonly ringPairs?: number;
  /** Enable interrupts (one eventfd per ring pair's bundle, or one shared). Default false (polling). */
  readonly interrupts?: boolean;
  /** Mailbox timeouts. */
  readonly mailbox?: Omit<MailboxOptions, "delay">;
}

/** DMA memory of one ring pair, kept across restarts. */
interface RingMemory {
  readonly bundle: number;
  readonly rings: DmaArea;
  /** Offset of the TX ring in `rings` (aligned to its size); the RX ring follows it. */
  readonly txAt: number;
  readonly scratch: DmaArea;
}

/** The device side of a QAT gen4 VF. */
export class QatDevice {
  readonly port: QatPort;
  readonly #options: Required<Omit<QatDeviceOptions, "mailbox">>;
  readonly #mailbox: Mailbox;
  readonly #memory: RingMemory[] = [];
  #irq: MsixPort | null = null;
  #services: BundleService[] = [];
  #pfVersion = 0;
  #epoch = 0;
  #tickets: QatRingPairTicket[] = [];

  private constructor(port: QatPort, options: QatDeviceOptions) {
    this.port = port;
    this.#options = { ringPairs: 1, interrupts: false, ...options };
    this.#mailbox = new Mailbox(port.bar2, { delay: (us) => port.delay(us), ...options.mailbox });
  }

  /**
   * Resets the function, talks to the PF, configures the symmetric ring pairs.
   *
   * @param port The function.
   * @param options Shape, ring pairs, interrupts.
   * @returns The device, with one ticket per ring pair.
   * @throws QatError `mailbox`, `no-sym-bundle`; VfioError. Whatever was set up is undone.
   */
  static open(port: QatPort, options: QatDeviceOptions): QatDevice {
    const device = new QatDevice(port, options);
    try {
      port.resetFunction();
      port.setBusMaster(true);
      device.#handshake();
      device.#allocate();
      device.#start();
      return device;
    } catch (e) {
      device.#release();
      throw e;
    }
  }

  /** The function's address. */
  get name(): string {
    return this.port.name;
  }

  /** The service of each bundle, as the PF said. */
  get services(): readonly BundleService[] {
    return this.#services;
  }

  /** The PF's mailbox protocol version. */
  get pfVersion(): number {
    return this.#pfVersion;
  }

  /** The current incarnation (1 after open, +1 per restart). */
  get epoch(): number {
    return this.#epoch;
  }

  /** One ticket per ring pair, for the current incarnation. */
  get tickets(): readonly QatRingPairTicket[] {
    return this.#tickets;
  }

  #handshake(): void {
    this.#mailbox.init();
    this.#pfVersion = this.#mailbox.negotiateVersion();
    this.#services = decodeServiceMap(this.#mailbox.ringToServiceMap(this.#pfVersion));
  }

  #allocate(): void {
    const sym = this.#services.flatMap((s, b) => s === "sym" ? [b] : []);
    if (sym.length === 0) {
      throw new QatError(
        "no-sym-bundle",
        `${this.name} has no bundle for the symmetric service (the PF says: ${this.#services.join(", ")}): ` +
          "enable it on the PF, such as `echo sym;asym > /sys/bus/pci/devices/<PF>/qat/cfg_services` " +
          "before creating the VFs",
      );
    }
    const { shape } = this.#options;
    const rs = ringShape(shape.entries);
    for (const bundle of sym.slice(0, Math.max(1, this.#options.ringPairs))) {
      // IOVA-contiguous and aligned to its own size: allocate room to align the TX ring, the RX ring after it.
      const rings = this.port.dma.allocate(2 * rs.txBytes + rs.rxBytes);
      const txAt = (rs.txBytes - (rings.iova % rs.txBytes)) % rs.txBytes;
      this.#memory.push({ bundle, rings, txAt, scratch: this.port.dma.allocate(scratchBytes(shape)) });
    }
    if (this.#options.interrupts && this.port.vectors > 0) {
      this.#irq = this.port.enableIrq(Math.min(this.port.vectors, BUNDLES));
    }
  }

  // A new incarnation: every ring pair reset through the PF and configured again.
  #start(): void {
    this.#epoch++;
    this.#tickets = this.#memory.map((m) => this.#setUpRingPair(m));
  }

  #setUpRingPair(m: RingMemory): QatRingPairTicket {
    const { shape } = this.#options;
    const rs = ringShape(shape.entries);
    const bar = this.port.bar0;
    const b = m.bundle;
    this.#mailbox.resetRingPair(b);
    m.rings.bytes.fill(0, m.txAt, m.txAt + rs.txBytes);
    m.rings.bytes.fill(EMPTY_BYTE, m.txAt + rs.txBytes, m.txAt + rs.txBytes + rs.rxBytes);
    m.scratch.bytes.fill(0);
    const txIova = m.rings.iova + m.txAt;
    const rxIova = txIova + rs.txBytes;
    const txBase = buildRingBase(txIova, rs.txCode);
    const rxBase = buildRingBase(rxIova, rs.rxCode);
    bar.write32(csrOffset(b, Csr.RING_LBASE, TX_RING), txBase.lo);
    bar.write32(csrOffset(b, Csr.RING_UBASE, TX_RING), txBase.hi);
    bar.write32(csrOffset(b, Csr.RING_LBASE, RX_RING), rxBase.lo);
    bar.write32(csrOffset(b, Csr.RING_UBASE, RX_RING), rxBase.hi);
    bar.write32(csrOffset(b, Csr.RING_CONFIG, TX_RING), txRingConfig(rs.txCode));
    bar.write32(csrOffset(b, Csr.RING_CONFIG, RX_RING), rxRingConfig(rs.rxCode));
    this.#interrupts(b);
    const arb = csrOffset(b, Csr.RINGSRVARBEN);
    bar.write32(arb, (bar.read32(arb) | (1 << TX_RING)) >>> 0);
    const vector = this.#irq === null ? -1 : (this.port.vectors >= BUNDLES ? b : 0);
    return {
      name: `${this.name}/${b}`,
      bundle: b,
      epoch: this.#epoch,
      shape,
      tx: { iova: txIova, address: m.rings.address + BigInt(m.txAt), size: rs.txBytes },
      rx: { iova: rxIova, address: m.rings.address + BigInt(m.txAt + rs.txBytes), size: rs.rxBytes },
      scratch: { iova: m.scratch.iova, address: m.scratch.address, size: m.scratch.size },
      csr: {
        txTail: bar.address + BigInt(csrOffset(b, Csr.RING_TAIL, TX_RING)),
        rxHead: bar.address + BigInt(csrOffset(b, Csr.RING_HEAD, RX_RING)),
        intFlagAndCol: bar.address + BigInt(csrOffset(b, Csr.INT_FLAG_AND_COL)),
        rxRingMask: 1 << RX_RING,
      },
      eventfd: vector < 0 ? null : this.#irq!.eventfd(vector).fd,
    };
  }

  /**
   * Resets one ring pair and configures it again in the current incarnation, for its next user: the VM that
   * drove it went away leaving its head and tail where they were and its sessions' descriptors in the scratch
   * area (zeroed here, so no key stays in DMA memory).
   *
   * @param index The ring pair (its ticket's index in `tickets`).
   * @returns Its new ticket.
   * @throws RangeError for no such ring pair; QatError `mailbox` when the PF does not answer.
   */
  renew(index: number): QatRingPairTicket {
    const m = this.#memory[index];
    if (m === undefined || this.#tickets.length === 0) {
      throw new RangeError(`Cannot renew ring pair ${index} of ${this.name}: it has ${this.#tickets.length}`);
    }
    const arb = csrOffset(m.bundle, Csr.RINGSRVARBEN);
    this.port.bar0.write32(arb, (this.port.bar0.read32(arb) & ~(1 << TX_RING)) >>> 0);
    const ticket = this.#setUpRingPair(m);
    this.#tickets = this.#tickets.map((t, i) => i === index ? ticket : t);
    return ticket;
  }

  /** Whether each bundle has an interrupt vector of its own (else one is shared, and VM threads poll). */
  get vectorPerBundle(): boolean {
    return this.#irq !== null && this.port.vectors >= BUNDLES;
  }

  // The RX ring raises the bundle's interrupt through coalescing, as Linux's gen4 transport sets it up
  // (`adf_enable_ring_irq`); without interrupts the ring is only polled.
  #interrupts(b: number): void {
    const bar = this.port.bar0;
    if (this.#irq === null) {
      bar.write32(csrOffset(b, Csr.INT_COL_EN), 0);
      return;
    }
    bar.write32(csrOffset(b, Csr.INT_SRCSEL), INT_SRCSEL_GEN4);
    bar.write32(csrOffset(b, Csr.INT_COL_EN), 1 << RX_RING);
    bar.write32(csrOffset(b, Csr.INT_COL_CTL), (INT_COL_CTL_ENABLE | COALESCING_DEF_TIME) >>> 0);
    bar.write32(csrOffset(b, Csr.INT_FLAG_AND_COL), 1 << RX_RING);
  }

  /** The eventfd of a ticket's interrupt, to consume when the reactor reports it (null when polling). */
  eventfdOf(ticket: QatRingPairTicket): { readonly fd: number; consume(): bigint } | null {
    if (this.#irq === null || ticket.eventfd === null) return null;
    return this.#irq.eventfd(this.port.vectors >= BUNDLES ? ticket.bundle : 0);
  }

  /**
   * Whether the function still runs as configured: a ring config read back through VFIO (all-ones: it vanished;
   * another value: it was reset) and the PF's notifications (RESTARTING, FATAL_ERROR).
   *
   * @returns Null when healthy, else why not.
   */
  health(): string | null {
    const rs = ringShape(this.#options.shape.entries);
    for (const m of this.#memory) {
      const config = this.port.probe32(0, csrOffset(m.bundle, Csr.RING_CONFIG, TX_RING));
      if (config === 0xffff_ffff) return "the function vanished (its registers read all-ones)";
      if (config !== txRingConfig(rs.txCode)) {
        return `the function was reset (ring ${m.bundle} config reads 0x${config.toString(16)})`;
      }
    }
    const note = this.#mailbox.takeNotification();
    if (note?.type === Pf2Vf.RESTARTING) {
      this.#quietly(() => this.#mailbox.restartingComplete());
      return "the PF is restarting the device (RESTARTING)";
    }
    if (note?.type === Pf2Vf.FATAL_ERROR) return "the PF reports a fatal error (FATAL_ERROR)";
    return null;
  }

  /** Whether a failure left the function unreachable (no restart will be tried). */
  get vanished(): boolean {
    return this.#memory.some((m) =>
      this.port.probe32(0, csrOffset(m.bundle, Csr.RING_CONFIG, TX_RING)) === 0xffff_ffff
    );
  }

  /**
   * Stops the ring pairs so nothing writes memory any more: arbiter bits off, ring pairs reset through the PF
   * (best effort: the PF may be restarting), bus mastering off. Never throws.
   */
  stop(): void {
    for (const m of this.#memory) {
      const arb = csrOffset(m.bundle, Csr.RINGSRVARBEN);
      this.#quietly(() => this.port.bar0.write32(arb, (this.port.bar0.read32(arb) & ~(1 << TX_RING)) >>> 0));
      this.#quietly(() => this.#mailbox.resetRingPair(m.bundle));
    }
    this.#quietly(() => this.port.setBusMaster(false));
  }

  /**
   * After a failure: bus mastering, the mailbox handshake and every ring pair again, as a new incarnation.
   *
   * @throws QatError when the PF does not answer yet or the services changed.
   */
  restart(): void {
    this.#drainNotifications();
    this.port.setBusMaster(true);
    const before = this.#services.join(",");
    this.#handshake();
    if (this.#services.join(",") !== before) {
      throw new QatError(
        "device-failed",
        `${this.name} came back with other services: ${this.#services.join(", ")}`,
      );
    }
    this.#start();
  }

  // What the PF said during the failure (RESTARTING, answered now; RESTARTED once it came back) is old news: the
  // handshake must not take a RESTARTING still queued from the reset it recovers from for a new one.
  #drainNotifications(): void {
    for (
      let note = this.#mailbox.takeNotification();
      note !== null;
      note = this.#mailbox.takeNotification()
    ) {
      if (note.type === Pf2Vf.RESTARTING) this.#quietly(() => this.#mailbox.restartingComplete());
    }
  }

  #quietly(step: () => void): void {
    try {
      step();
    } catch (e) {
      log.debug("{name}: {error}", { name: this.name, error: (e as Error).message });
    }
  }

  /** Stops the rings, says SHUTDOWN to the PF, frees interrupts and DMA memory. Idempotent. */
  close(): void {
    if (this.#tickets.length === 0 && this.#memory.length === 0) return;
    this.stop();
    this.#mailbox.shutdown();
    this.#release();
  }

  #release(): void {
    this.#tickets = [];
    this.#quietly(() => this.#irq?.close());
    this.#irq = null;
    for (const m of this.#memory.splice(0)) {
      this.#quietly(() => this.port.dma.free(m.scratch));
      this.#quietly(() => this.port.dma.free(m.rings));
    }
  }
}
