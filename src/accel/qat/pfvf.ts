/**
 * The PF/VF mailbox protocol of QAT gen4, as values (Linux `adf_pfvf_msg.h`, `adf_gen4_pfvf.c`; qatlib
 * `adf_pfvf_proto.c`, `adf_pfvf_vf_msg.c`; DPDK `adf_pf2vf_msg.h`). Pure: the register traffic is in `mailbox.ts`.
 *
 * Each direction has its own 32-bit register in BAR2: the VF writes VM2PF (0x100C), the PF answers in PF2VM
 * (0x1008). A message is `type << 2 | data << 8 | ORIGIN_SYSTEM | INT`; the receiver acknowledges by clearing INT
 * in the register the message arrived in.
 *
 * @module
 */

/** Offsets in BAR2 (the VF's view). */
export const PF2VM_OFFSET = 0x1008;
export const VM2PF_OFFSET = 0x100c;

/** The message is pending (set by the sender, cleared by the receiver to acknowledge). */
export const PFVF_INT = 0x1;
/** Messages of the system (the only kind gen4 uses). */
export const PFVF_MSGORIGIN_SYSTEM = 0x2;
const TYPE_SHIFT = 2;
const TYPE_MASK = 0x3f;
const DATA_SHIFT = 8;
const DATA_MASK = 0xff_ffff;

/** VF → PF message types. */
export const Vf2Pf = {
  INIT: 0x03,
  SHUTDOWN: 0x04,
  COMPAT_VER_REQ: 0x06,
  SMALL_BLOCK_REQ: 0x09,
  RESTARTING_COMPLETE: 0x0a,
  RP_RESET: 0x10,
} as const;

/** PF → VF message types. */
export const Pf2Vf = {
  RESTARTING: 0x01,
  VERSION_RESP: 0x02,
  BLKMSG_RESP: 0x03,
  FATAL_ERROR: 0x04,
  RESTARTED: 0x05,
  RP_RESET_RESP: 0x10,
} as const;

/**
 * The protocol version this driver speaks: ring-to-service maps (`ADF_PFVF_COMPAT_RING_TO_SVC_MAP`). A PF at
 * least this new answers COMPATIBLE.
 */
export const COMPAT_VERSION = 0x04;

/** VERSION_RESP results. */
export const Compat = { COMPATIBLE: 1, INCOMPATIBLE: 2, UNKNOWN: 3 } as const;

/** RP_RESET_RESP results (`enum ring_reset_result`). */
export const RpReset = { SUCCESS: 0, NOT_SUPPORTED: 1, INVAL_BANK: 2, TIMEOUT: 3 } as const;

/** Block message types (`enum vf2pf_blkmsg_req_type`): 0..15 are "small" (30-byte payload). */
export const BlockType = { CAP_SUMMARY: 0x02, RING_SVC_MAP: 0x03 } as const;
/** Block header bytes: version, payload length. */
export const BLOCK_HEADER = 2;
/** Largest small-block payload. */
export const SMALL_BLOCK_PAYLOAD = 30;

/** Block response kinds. */
export const BlockResp = { DATA: 0, CRC: 1, ERROR: 2 } as const;

/** A decoded message. */
export interface PfvfMessage {
  readonly type: number;
  readonly data: number;
}

/**
 * The register value of a message (INT and ORIGIN_SYSTEM set).
 *
 * @param type Message type (6 bits).
 * @param data Message data (24 bits).
 * @returns The value to write.
 * @throws RangeError when a field does not fit.
 */
export function encodeMessage(type: number, data: number): number {
  if ((type & TYPE_MASK) !== type || data < 0 || data > DATA_MASK) {
    throw new RangeError(
      `Cannot encode PF/VF message type 0x${type.toString(16)} data 0x${data.toString(16)}`,
    );
  }
  return ((data * (1 << DATA_SHIFT)) + (type << TYPE_SHIFT) + PFVF_MSGORIGIN_SYSTEM + PFVF_INT) >>> 0;
}

/**
 * The message in a register value.
 *
 * @param value The register.
 * @returns Type and data (INT and origin ignored).
 */
export function decodeMessage(value: number): PfvfMessage {
  return { type: (value >>> TYPE_SHIFT) & TYPE_MASK, data: (value >>> DATA_SHIFT) & DATA_MASK };
}

/**
 * The data of a small block request: block type in bits 0-3, byte number in 4-8, bit 9 asks for the CRC of
 * bytes 0..byte instead of byte `byte`.
 *
 * @param type Block type (0..15).
 * @param byte Byte number (0..31).
 * @param crc Ask for the CRC.
 * @returns The message data.
 */
export function smallBlockRequest(type: number, byte: number, crc: boolean): number {
  return (type & 0xf) | ((byte & 0x1f) << 4) | (crc ? 1 << 9 : 0);
}

/**
 * The fields of a small block request (the PF's side; for the model).
 *
 * @param data The message data.
 * @returns Block type, byte number, CRC flag.
 */
export function parseSmallBlockRequest(data: number): { type: number; byte: number; crc: boolean } {
  return { type: data & 0xf, byte: (data >>> 4) & 0x1f, crc: (data & (1 << 9)) !== 0 };
}

/**
 * The data of a block response: kind in bits 0-1, the byte in 2-9.
 *
 * @param kind `BlockResp`.
 * @param byte The byte.
 * @returns The message data.
 */
export function blockResponse(kind: number, byte: number): number {
  return (kind & 0x3) | ((byte & 0xff) << 2);
}

/**
 * A block response's fields.
 *
 * @param data The message data.
 * @returns Kind and byte.
 */
export function parseBlockResponse(data: number): { kind: number; byte: number } {
  return { kind: data & 0x3, byte: (data >>> 2) & 0xff };
}

/**
 * VERSION_RESP data: PF version in bits 0-7, result in 8-9.
 *
 * @param version The PF's protocol version.
 * @param result `Compat`.
 * @returns The message data.
 */
export function versionResponse(version: number, result: number): number {
  return (version & 0xff) | ((result & 0x3) << 8);
}

const CRC8_TABLE: Uint8Array = (() => {
  const table = new Uint8Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i;
    for (let bit = 0; bit < 8; bit++) {
      crc = (crc & 0x80) !== 0 ? ((crc << 1) ^ 0x97) & 0xff : (crc << 1) & 0xff;
    }
    table[i] = crc;
  }
  return table;
})();

/**
 * The CRC-8 a block message is checked with: polynomial 0x97, MSB first, initial value 0xFF (qatlib
 * `adf_pfvf_calc_blkmsg_crc`, Linux `adf_pfvf_calc_blkmsg_crc`).
 *
 * @param bytes The block, header included.
 * @returns The CRC.
 */
export function blockCrc(bytes: Uint8Array): number {
  let crc = 0xff;
  for (const b of bytes) crc = CRC8_TABLE[(crc ^ b) & 0xff]!;
  return crc;
}

/** The services a bundle can run (3 bits per bundle in the ring-to-service map). */
export type BundleService = "none" | "dc" | "sym" | "asym";

const SERVICE_CODES: Readonly<Record<number, BundleService>> = { 2: "dc", 3: "sym", 4: "asym" };
const SERVICE_OF: Readonly<Record<BundleService, number>> = { none: 0, dc: 2, sym: 3, asym: 4 };

/**
 * The services of the four bundles in a ring-to-service map.
 *
 * @param map The 16-bit map.
 * @returns One service per bundle.
 */
export function decodeServiceMap(map: number): BundleService[] {
  return [0, 1, 2, 3].map((b) => SERVICE_CODES[(map >>> (3 * b)) & 0x7] ?? "none");
}

/**
 * A ring-to-service map of four bundles' services.
 *
 * @param services One per bundle.
 * @returns The map.
 */
export function encodeServiceMap(services: readonly BundleService[]): number {
  return services.reduce((map, s, b) => map | (SERVICE_OF[s] << (3 * b)), 0);
}

/** The PF's default when it cannot say (a PF older than `COMPAT_VERSION`): asym, sym, asym, sym. */
export const DEFAULT_SERVICE_MAP: number = encodeServiceMap(["asym", "sym", "asym", "sym"]);
