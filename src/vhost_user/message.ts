/**
 * vhost-user wire format: request codes, the 12-byte header, and the payload structs a back-end decodes
 * (QEMU `docs/interop/vhost-user.rst`, "Message Specification"; numbers are native-endian, little-endian here).
 *
 * Every decoder validates the payload size first (rust-vmm `is_valid()`), so the handler never reads past a
 * payload; a malformed message is a `VhostUserError` and drops the connection (style.md rule 5).
 *
 * @module
 */

import { readU32, readU64, readU64Number, writeU32, writeU64 } from "../virtio/le.ts";

/** `VhostUserRequest` codes a back-end receives (front-end message types). */
export const Request = {
  GET_FEATURES: 1,
  SET_FEATURES: 2,
  SET_OWNER: 3,
  RESET_OWNER: 4,
  SET_MEM_TABLE: 5,
  SET_LOG_BASE: 6,
  SET_LOG_FD: 7,
  SET_VRING_NUM: 8,
  SET_VRING_ADDR: 9,
  SET_VRING_BASE: 10,
  GET_VRING_BASE: 11,
  SET_VRING_KICK: 12,
  SET_VRING_CALL: 13,
  SET_VRING_ERR: 14,
  GET_PROTOCOL_FEATURES: 15,
  SET_PROTOCOL_FEATURES: 16,
  GET_QUEUE_NUM: 17,
  SET_VRING_ENABLE: 18,
  SEND_RARP: 19,
  NET_SET_MTU: 20,
  SET_BACKEND_REQ_FD: 21,
  IOTLB_MSG: 22,
  SET_VRING_ENDIAN: 23,
  GET_CONFIG: 24,
  SET_CONFIG: 25,
  CREATE_CRYPTO_SESSION: 26,
  CLOSE_CRYPTO_SESSION: 27,
  POSTCOPY_ADVISE: 28,
  POSTCOPY_LISTEN: 29,
  POSTCOPY_END: 30,
  GET_INFLIGHT_FD: 31,
  SET_INFLIGHT_FD: 32,
  GPU_SET_SOCKET: 33,
  RESET_DEVICE: 34,
  GET_MAX_MEM_SLOTS: 36,
  ADD_MEM_REG: 37,
  REM_MEM_REG: 38,
  SET_STATUS: 39,
  GET_STATUS: 40,
} as const;

const REQUEST_NAMES = new Map<number, string>(Object.entries(Request).map(([k, v]) => [v, k]));

/**
 * A readable name for a request code.
 *
 * @param code The request code.
 * @returns For example `SET_MEM_TABLE`, or `UNKNOWN(99)`.
 */
export function requestName(code: number): string {
  return REQUEST_NAMES.get(code) ?? `UNKNOWN(${code})`;
}

/** Header flags: version in bits 0-1, REPLY bit 2, NEED_REPLY bit 3. */
export const Flags = {
  VERSION: 0x1,
  VERSION_MASK: 0x3,
  REPLY: 0x4,
  NEED_REPLY: 0x8,
} as const;

/** Protocol feature bits (`VHOST_USER_PROTOCOL_F_*`). */
export const ProtocolFeature = {
  MQ: 0,
  LOG_SHMFD: 1,
  RARP: 2,
  REPLY_ACK: 3,
  NET_MTU: 4,
  BACKEND_REQ: 5,
  CROSS_ENDIAN: 6,
  CRYPTO_SESSION: 7,
  PAGEFAULT: 8,
  CONFIG: 9,
  BACKEND_SEND_FD: 10,
  HOST_NOTIFIER: 11,
  INFLIGHT_SHMFD: 12,
  RESET_DEVICE: 13,
  INBAND_NOTIFICATIONS: 14,
  CONFIGURE_MEM_SLOTS: 15,
  STATUS: 16,
} as const;

/** `VHOST_USER_F_PROTOCOL_FEATURES`: virtio feature bit 30, reused by vhost-user. */
export const VHOST_USER_F_PROTOCOL_FEATURES = 30;

/** `VHOST_USER_VRING_IDX_MASK` and `VHOST_USER_VRING_NOFD_MASK` of the u64 in SET_VRING_KICK/CALL/ERR. */
export const VRING_IDX_MASK = 0xff;
export const VRING_NOFD_MASK = 0x100;

/** Header size in bytes. */
export const HEADER_SIZE = 12;
/** Largest payload accepted (rust-vmm's 4 KiB message limit; the largest real payload is 1072 B). */
export const MAX_PAYLOAD = 4096;
/** Most fds accepted on one message (rust-vmm `MAX_ATTACHED_FD_ENTRIES`). */
export const MAX_FDS = 32;
/** Regions in SET_MEM_TABLE (`VHOST_MEMORY_BASELINE_NREGIONS`). */
export const MAX_MEM_TABLE_REGIONS = 8;

/** What was wrong with a message; every kind drops the connection. */
export type VhostUserErrorKind =
  | "bad-header"
  | "bad-size"
  | "bad-payload"
  | "bad-fds"
  | "unsupported-request"
  | "bad-state"
  | "unsafe-memory"
  | "peer-closed"
  | "io";

/** A protocol error: the front-end sent something a back-end cannot accept. The connection is dropped. */
export class VhostUserError extends Error {
  override name = "VhostUserError";
  /** What was wrong. */
  readonly kind: VhostUserErrorKind;

  /**
   * @param kind What was wrong.
   * @param message A std-style message.
   * @param options The cause.
   */
  constructor(kind: VhostUserErrorKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.kind = kind;
  }
}

/** A decoded header. */
export interface Header {
  readonly request: number;
  readonly flags: number;
  readonly size: number;
}

/**
 * Decodes and validates a header.
 *
 * @param b At least 12 bytes.
 * @throws VhostUserError for a wrong version or a payload over `MAX_PAYLOAD`.
 */
export function decodeHeader(b: Uint8Array): Header {
  const request = readU32(b, 0);
  const flags = readU32(b, 4);
  const size = readU32(b, 8);
  if ((flags & Flags.VERSION_MASK) !== Flags.VERSION) {
    throw new VhostUserError(
      "bad-header",
      `Cannot accept ${requestName(request)}: version must be 1: current value is ${
        flags & Flags.VERSION_MASK
      }`,
    );
  }
  if (size > MAX_PAYLOAD) {
    throw new VhostUserError(
      "bad-size",
      `Cannot accept ${
        requestName(request)
      }: payload must be <= ${MAX_PAYLOAD} bytes: current value is ${size}`,
    );
  }
  return { request, flags, size };
}

/**
 * Encodes a header.
 *
 * @param b Destination (12 bytes at offset 0).
 * @param h The header.
 */
export function encodeHeader(b: Uint8Array, h: Header): void {
  writeU32(b, 0, h.request);
  writeU32(b, 4, h.flags);
  writeU32(b, 8, h.size);
}

/**
 * Checks a payload's size against what a request needs.
 *
 * @throws VhostUserError("bad-size") when it differs.
 */
export function expectSize(request: number, payload: Uint8Array, size: number): void {
  if (payload.length !== size) {
    throw new VhostUserError(
      "bad-size",
      `Cannot accept ${
        requestName(request)
      }: payload must be ${size} bytes: current value is ${payload.length}`,
    );
  }
}

/** Decodes a `u64` payload. */
export function decodeU64(request: number, payload: Uint8Array): bigint {
  expectSize(request, payload, 8);
  return readU64(payload, 0);
}

/** `struct vhost_vring_state`. */
export interface VringState {
  readonly index: number;
  readonly num: number;
}

/** Decodes a vring state (8 bytes: index u32, num u32). */
export function decodeVringState(request: number, payload: Uint8Array): VringState {
  expectSize(request, payload, 8);
  return { index: readU32(payload, 0), num: readU32(payload, 4) };
}

/** `struct vhost_vring_addr` (40 bytes). Addresses are front-end virtual addresses. */
export interface VringAddr {
  readonly index: number;
  readonly flags: number;
  readonly descUserAddr: number;
  readonly usedUserAddr: number;
  readonly availUserAddr: number;
  readonly logGuestAddr: bigint;
}

/** Decodes a vring address description. */
export function decodeVringAddr(request: number, payload: Uint8Array): VringAddr {
  expectSize(request, payload, 40);
  try {
    return {
      index: readU32(payload, 0),
      flags: readU32(payload, 4),
      descUserAddr: readU64Number(payload, 8),
      usedUserAddr: readU64Number(payload, 16),
      availUserAddr: readU64Number(payload, 24),
      logGuestAddr: readU64(payload, 32),
    };
  } catch (e) {
    throw new VhostUserError("bad-payload", `Cannot accept ${requestName(request)}: address above 2^53`, {
      cause: e,
    });
  }
}

/** One `VhostUserMemoryRegion` (32 bytes). */
export interface MemoryRegionDesc {
  readonly guestPhysAddr: number;
  readonly memorySize: number;
  readonly userspaceAddr: number;
  readonly mmapOffset: number;
}

/**
 * Decodes SET_MEM_TABLE's `VhostUserMemory` (8 + 32·n bytes). QEMU sends the size of the full 8-region array,
 * so the payload may be longer than `nregions` needs; it must not be shorter.
 */
export function decodeMemTable(request: number, payload: Uint8Array): MemoryRegionDesc[] {
  if (payload.length < 8) expectSize(request, payload, 8);
  const n = readU32(payload, 0);
  if (n === 0 || n > MAX_MEM_TABLE_REGIONS || payload.length < 8 + 32 * n) {
    throw new VhostUserError(
      "bad-payload",
      `Cannot accept ${requestName(request)}: region count must be 1..${MAX_MEM_TABLE_REGIONS} and fit the ` +
        `${payload.length}-byte payload: current value is ${n}`,
    );
  }
  const regions: MemoryRegionDesc[] = [];
  for (let i = 0; i < n; i++) {
    const o = 8 + 32 * i;
    try {
      regions.push({
        guestPhysAddr: readU64Number(payload, o),
        memorySize: readU64Number(payload, o + 8),
        userspaceAddr: readU64Number(payload, o + 16),
        mmapOffset: readU64Number(payload, o + 24),
      });
    } catch (e) {
      throw new VhostUserError(
        "bad-payload",
        `Cannot accept ${requestName(request)}: region ${i} above 2^53`,
        {
          cause: e,
        },
      );
    }
  }
  return regions;
}

/**
 * Encodes a message (header + payload) into one buffer.
 *
 * @param request The request code.
 * @param flags Header flags (VERSION, REPLY...).
 * @param payload The payload.
 * @returns The bytes to send.
 */
export function encodeMessage(
  request: number,
  flags: number,
  payload: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE + payload.length);
  encodeHeader(out, { request, flags, size: payload.length });
  out.set(payload, HEADER_SIZE);
  return out;
}

/** Encodes a u64 payload. */
export function u64Payload(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  writeU64(b, 0, v);
  return b;
}

/** Encodes a vring state payload. */
export function vringStatePayload(index: number, num: number): Uint8Array {
  const b = new Uint8Array(8);
  writeU32(b, 0, index);
  writeU32(b, 4, num);
  return b;
}

/** Encodes a vring address description (40 bytes). */
export function vringAddrPayload(a: Omit<VringAddr, "logGuestAddr"> & { logGuestAddr?: bigint }): Uint8Array {
  const b = new Uint8Array(40);
  writeU32(b, 0, a.index);
  writeU32(b, 4, a.flags);
  writeU64(b, 8, BigInt(a.descUserAddr));
  writeU64(b, 16, BigInt(a.usedUserAddr));
  writeU64(b, 24, BigInt(a.availUserAddr));
  writeU64(b, 32, a.logGuestAddr ?? 0n);
  return b;
}

/** Encodes SET_MEM_TABLE's payload; like QEMU, always the full 8-region array (8 + 256 bytes). */
export function memTablePayload(regions: readonly MemoryRegionDesc[]): Uint8Array {
  const b = new Uint8Array(8 + 32 * MAX_MEM_TABLE_REGIONS);
  writeU32(b, 0, regions.length);
  regions.forEach((r, i) => {
    const o = 8 + 32 * i;
    writeU64(b, o, BigInt(r.guestPhysAddr));
    writeU64(b, o + 8, BigInt(r.memorySize));
    writeU64(b, o + 16, BigInt(r.userspaceAddr));
    writeU64(b, o + 24, BigInt(r.mmapOffset));
  });
  return b;
}
