/**
 * PCI configuration space, parsed: the type-0 header, the capability list (PCI Local Bus 3.0 §6.7), the extended
 * capabilities of PCIe (from 0x100 when 4 KiB are given) and the MSI-X capability. Pure: it takes the bytes, which
 * come from `/sys/bus/pci/devices/<bdf>/config` or from the VFIO config region, so tests run on a recorded copy.
 *
 * Offsets: DPDK `lib/pci/rte_pci.h`; vfio-ffi.md §3.1.
 *
 * @module
 */

import { PciError } from "./errors.ts";

/** Config-space offsets of the type-0 header. */
export const PciConfig = {
  VENDOR_ID: 0x00,
  DEVICE_ID: 0x02,
  COMMAND: 0x04,
  STATUS: 0x06,
  REVISION: 0x08,
  CLASS: 0x09,
  HEADER_TYPE: 0x0e,
  BAR0: 0x10,
  SUBSYSTEM_VENDOR_ID: 0x2c,
  SUBSYSTEM_ID: 0x2e,
  CAPABILITY_LIST: 0x34,
  INTERRUPT_PIN: 0x3d,
} as const;

/** Command register bits. */
export const PciCommand = { IO: 0x1, MEMORY: 0x2, MASTER: 0x4, INTX_DISABLE: 0x400 } as const;
/** Status register: a capability list is present. */
export const PCI_STATUS_CAP_LIST = 0x10;
/** Capability ids this code looks for. */
export const PciCapId = { VENDOR: 0x09, PCI_EXPRESS: 0x10, MSIX: 0x11 } as const;

const CAP_NAMES: Readonly<Record<number, string>> = {
  0x01: "Power Management",
  0x03: "VPD",
  0x05: "MSI",
  0x07: "PCI-X",
  0x09: "Vendor Specific",
  0x0d: "Bridge Subsystem Vendor",
  0x10: "PCI Express",
  0x11: "MSI-X",
  0x12: "SATA",
  0x13: "Advanced Features",
  0x14: "Enhanced Allocation",
};

const EXT_CAP_NAMES: Readonly<Record<number, string>> = {
  0x0001: "Advanced Error Reporting",
  0x0002: "Virtual Channel",
  0x0003: "Device Serial Number",
  0x000b: "Vendor Specific",
  0x000d: "Access Control Services",
  0x000e: "Alternative Routing-ID",
  0x0010: "SR-IOV",
  0x0015: "Resizable BAR",
  0x0018: "Latency Tolerance Reporting",
  0x0019: "Secondary PCI Express",
  0x001e: "L1 PM Substates",
  0x0023: "Designated Vendor-Specific",
};

/** The parts of the type-0 header `cryptobridge info` shows. */
export interface PciHeader {
  /** Vendor id @0x00. */
  readonly vendor: number;
  /** Device id @0x02. */
  readonly device: number;
  /** Command register @0x04. */
  readonly command: number;
  /** Status register @0x06. */
  readonly status: number;
  /** Revision @0x08. */
  readonly revision: number;
  /** 24-bit class code. */
  readonly classCode: number;
  /** Header type @0x0e (bit 7: multi-function). */
  readonly headerType: number;
  /** Subsystem vendor id @0x2c. */
  readonly subsystemVendor: number;
  /** Subsystem id @0x2e. */
  readonly subsystem: number;
  /** The six raw BAR registers (VFIO virtualizes them; sizes come from region info). */
  readonly bars: readonly number[];
  /** 0 none, 1..4 INTA..INTD. */
  readonly interruptPin: number;
}

/** One capability. */
export interface PciCapability {
  /** Capability id (8-bit standard, 16-bit extended). */
  readonly id: number;
  /** Offset in config space. */
  readonly offset: number;
  /** Whether it is a PCIe extended capability. */
  readonly extended: boolean;
  /** Its name, or `id 0x..` when unknown. */
  readonly name: string;
}

/** The MSI-X capability, decoded (PCI Local Bus 3.0 §6.8.2). */
export interface MsixCapability {
  /** Offset of the capability in config space. */
  readonly offset: number;
  /** Vectors in the table: (Message Control & 0x7ff) + 1. */
  readonly tableSize: number;
  /** MSI-X Enable (Message Control bit 15). */
  readonly enabled: boolean;
  /** Function Mask (Message Control bit 14). */
  readonly functionMasked: boolean;
  /** BAR holding the table (BIR). */
  readonly tableBar: number;
  /** Offset of the table in that BAR. */
  readonly tableOffset: number;
  /** BAR holding the pending-bit array. */
  readonly pbaBar: number;
  /** Offset of the PBA in that BAR. */
  readonly pbaOffset: number;
}

/** Most capabilities followed before declaring a loop (Linux `PCI_FIND_CAP_TTL` is 48). */
const CAP_TTL = 48;
const CONFIG_HEADER_END = 0x40;
const EXTENDED_START = 0x100;

function view(config: Uint8Array): DataView {
  return new DataView(config.buffer, config.byteOffset, config.byteLength);
}

function requireLength(config: Uint8Array, length: number, what: string): void {
  if (config.length < length) {
    throw new PciError(
      "bad-config",
      `Cannot parse ${what}: config space must be at least ${length} bytes: current length is ${config.length}`,
    );
  }
}

/**
 * Decodes the type-0 header.
 *
 * @param config At least 64 bytes of config space.
 * @returns The header.
 * @throws PciError `bad-config` below 64 bytes.
 */
export function parseHeader(config: Uint8Array): PciHeader {
  requireLength(config, CONFIG_HEADER_END, "the PCI header");
  const v = view(config);
  const bars: number[] = [];
  for (let i = 0; i < 6; i++) bars.push(v.getUint32(PciConfig.BAR0 + 4 * i, true));
  return {
    vendor: v.getUint16(PciConfig.VENDOR_ID, true),
    device: v.getUint16(PciConfig.DEVICE_ID, true),
    command: v.getUint16(PciConfig.COMMAND, true),
    status: v.getUint16(PciConfig.STATUS, true),
    revision: v.getUint8(PciConfig.REVISION),
    classCode: v.getUint32(PciConfig.REVISION, true) >>> 8,
    headerType: v.getUint8(PciConfig.HEADER_TYPE),
    subsystemVendor: v.getUint16(PciConfig.SUBSYSTEM_VENDOR_ID, true),
    subsystem: v.getUint16(PciConfig.SUBSYSTEM_ID, true),
    bars,
    interruptPin: v.getUint8(PciConfig.INTERRUPT_PIN),
  };
}

/**
 * Walks the standard capability list, then (when `config` holds 4 KiB) the extended list.
 *
 * @param config Config space (256 or 4096 bytes).
 * @returns The capabilities in list order.
 * @throws PciError `bad-config` when a pointer leaves config space or the list loops.
 */
export function parseCapabilities(config: Uint8Array): PciCapability[] {
  requireLength(config, CONFIG_HEADER_END, "the capability list");
  const v = view(config);
  const caps: PciCapability[] = [];
  if ((v.getUint16(PciConfig.STATUS, true) & PCI_STATUS_CAP_LIST) !== 0) {
    // The low two bits of every pointer are reserved (PCI 3.0 §6.7): mask them, as Linux does.
    let at = v.getUint8(PciConfig.CAPABILITY_LIST) & 0xfc;
    for (let ttl = CAP_TTL; at !== 0; ttl--) {
      if (ttl === 0) throw new PciError("bad-config", "Cannot parse the capability list: it loops");
      if (at < CONFIG_HEADER_END || at + 2 > Math.min(config.length, EXTENDED_START)) {
        throw new PciError(
          "bad-config",
          `Cannot parse the capability list: pointer 0x${at.toString(16)} is outside it`,
        );
      }
      const id = v.getUint8(at);
      caps.push({ id, offset: at, extended: false, name: CAP_NAMES[id] ?? `id 0x${id.toString(16)}` });
      at = v.getUint8(at + 1) & 0xfc;
    }
  }
  return config.length > EXTENDED_START ? [...caps, ...parseExtended(v, config.length)] : caps;
}

/** The PCIe extended list: a 32-bit header per capability (id 16 bits, version 4, next 12). */
function parseExtended(v: DataView, length: number): PciCapability[] {
  const caps: PciCapability[] = [];
  let at = EXTENDED_START;
  for (let ttl = (length - EXTENDED_START) / 8; at !== 0; ttl--) {
    if (ttl <= 0 || at + 4 > length || at < EXTENDED_START) {
      throw new PciError("bad-config", `Cannot parse the extended capability list at 0x${at.toString(16)}`);
    }
    const header = v.getUint32(at, true);
    if (header === 0 || header === 0xffffffff) break; // no extended capabilities (conventional PCI)
    const id = header & 0xffff;
    caps.push({ id, offset: at, extended: true, name: EXT_CAP_NAMES[id] ?? `id 0x${id.toString(16)}` });
    at = (header >>> 20) & 0xffc;
  }
  return caps;
}

/**
 * Decodes the MSI-X capability, if there is one.
 *
 * @param config Config space.
 * @returns The capability, or `null`.
 */
export function findMsix(config: Uint8Array): MsixCapability | null {
  const cap = parseCapabilities(config).find((c) => !c.extended && c.id === PciCapId.MSIX);
  if (cap === undefined) return null;
  requireLength(config, cap.offset + 12, "the MSI-X capability");
  const v = view(config);
  const control = v.getUint16(cap.offset + 2, true);
  const table = v.getUint32(cap.offset + 4, true);
  const pba = v.getUint32(cap.offset + 8, true);
  return {
    offset: cap.offset,
    tableSize: (control & 0x7ff) + 1,
    enabled: (control & 0x8000) !== 0,
    functionMasked: (control & 0x4000) !== 0,
    tableBar: table & 7,
    tableOffset: (table & ~7) >>> 0,
    pbaBar: pba & 7,
    pbaOffset: (pba & ~7) >>> 0,
  };
}
