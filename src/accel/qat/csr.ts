/**
 * The ring registers (CSRs) of a QAT gen4 virtual function, and the arithmetic around them (qat-gen4.md "BARs and
 * rings"; DPDK `adf_transport_access_macros_gen4vf.h`, Linux `adf_gen4_hw_csr_data.h`). Pure.
 *
 * BAR0 holds four bundles (banks) of 0x2000 bytes; each bundle has ring pairs whose ring 0 takes requests (TX) and
 * ring 1 gives responses (RX). A register of ring `r` in bundle `b` is at `0x2000 * b + register + 4 * r`.
 *
 * @module
 */

/** Bundles (banks) of a gen4 VF, one symmetric-capable ring pair each. */
export const BUNDLES = 4;
/** Bytes of one bundle's CSR block in BAR0. */
export const BUNDLE_SIZE = 0x2000;
/** Ring numbers of a bundle's ring pair. */
export const TX_RING = 0;
export const RX_RING = 1;

/** Register offsets inside a bundle (gen4 names). */
export const Csr = {
  /** Ring size code; the RX ring adds a near-full watermark. */
  RING_CONFIG: 0x1000,
  /** Ring base, low and high 32 bits (`buildRingBase`). */
  RING_LBASE: 0x1040,
  RING_UBASE: 0x1080,
  /** The RX head the driver has consumed to (byte offset in the ring). */
  RING_HEAD: 0x0c0,
  /** The TX tail the driver has filled to (byte offset): the doorbell. */
  RING_TAIL: 0x100,
  /** Empty status: one bit per ring. */
  E_STAT: 0x14c,
  /** Interrupt source selection (Linux writes 0x44 on gen4). */
  INT_SRCSEL: 0x174,
  /** Per-ring interrupt coalescing enable. */
  INT_COL_EN: 0x17c,
  /** Coalescing timer, with bit 31 enabling it. */
  INT_COL_CTL: 0x180,
  /** Writing the ring mask re-arms the bundle's interrupt after its responses were handled. */
  INT_FLAG_AND_COL: 0x184,
  /** One bit per TX ring: the ring takes part in arbitration (requests are fetched). */
  RINGSRVARBEN: 0x19c,
} as const;

/** What Linux writes to INT_SRCSEL on gen4 (`ADF_BANK_INT_SRC_SEL_MASK`). */
export const INT_SRCSEL_GEN4 = 0x44;
/** INT_COL_CTL enable bit. */
export const INT_COL_CTL_ENABLE = 0x8000_0000;
/** Linux's default coalescing timer (`ADF_COALESCING_DEF_TIME`). */
export const COALESCING_DEF_TIME = 0x27ff;

/** Request (TX) and response (RX) message sizes of the symmetric service. */
export const SYM_REQUEST_SIZE = 128;
export const SYM_RESPONSE_SIZE = 32;

/** What an empty RX slot reads: the ring is filled with 0x7F (`ADF_RING_EMPTY_SIG`). */
export const EMPTY_SIGNATURE = 0x7f7f_7f7f;
/** The fill byte. */
export const EMPTY_BYTE = 0x7f;

/** The RX ring's near-full watermark field (`BUILD_RESP_RING_CONFIG(size, ADF_RING_NEAR_WATERMARK_512, 0)`). */
const NEAR_FULL_SHIFT = 0x0a;
const NEAR_WATERMARK_512 = 0x08;

/** Smallest and largest ring size codes (128 B and 4 MiB). */
export const MIN_SIZE_CODE = 0x01;
export const MAX_SIZE_CODE = 0x10;

/**
 * The CSR offset in BAR0 of a ring register.
 *
 * @param bundle 0..3.
 * @param register A `Csr` offset.
 * @param ring 0 (TX) or 1 (RX); 0 for bundle-wide registers.
 * @returns The byte offset.
 */
export function csrOffset(bundle: number, register: number, ring = 0): number {
  return BUNDLE_SIZE * bundle + register + 4 * ring;
}

/**
 * Ring bytes of a size code: `(1 << (code - 1)) << 7` (`ADF_SIZE_TO_RING_SIZE_IN_BYTES`).
 *
 * @param code A size code.
 * @returns Bytes.
 */
export function ringBytes(code: number): number {
  return (1 << (code - 1)) << 7;
}

/**
 * The size code of a ring of `bytes` (`adf_verify_queue_size`).
 *
 * @param bytes Ring bytes: 128 times a power of 2, up to 4 MiB.
 * @returns The code.
 * @throws RangeError for a size the hardware has no code for.
 */
export function sizeCode(bytes: number): number {
  for (let code = MIN_SIZE_CODE; code <= MAX_SIZE_CODE; code++) {
    if (ringBytes(code) === bytes) return code;
  }
  throw new RangeError(
    `Cannot size a QAT ring of ${bytes} bytes: it must be 128 B times a power of 2, up to 4 MiB`,
  );
}

/** A 64-bit register value split for two 32-bit writes. */
export interface SplitValue {
  readonly lo: number;
  readonly hi: number;
}

/**
 * The RING_LBASE/UBASE value of a ring at `iova`: `((iova >> 6) & (~0 << code)) << 6`. The hardware drops the
 * low bits, so a ring must be aligned to its own size (checked, since a misaligned ring would be silently moved).
 *
 * @param iova The ring's device address.
 * @param code Its size code.
 * @returns The two halves.
 * @throws RangeError when `iova` is not aligned to the ring size.
 */
export function buildRingBase(iova: number, code: number): SplitValue {
  const bytes = ringBytes(code);
  if (iova % bytes !== 0) {
    throw new RangeError(
      `Cannot place a QAT ring of ${bytes} bytes at IOVA 0x${
        iova.toString(16)
      }: it must be aligned to its size`,
    );
  }
  const value = ((BigInt(iova) >> 6n) & (~0n << BigInt(code))) << 6n;
  return { lo: Number(value & 0xffff_ffffn), hi: Number(value >> 32n) };
}

/**
 * The ring's IOVA back from its base registers (what the device does; for the model and tests).
 *
 * @param lo RING_LBASE.
 * @param hi RING_UBASE.
 * @returns The IOVA.
 */
export function ringBaseIova(lo: number, hi: number): number {
  return hi * 0x1_0000_0000 + (lo >>> 0);
}

/**
 * RING_CONFIG of a TX ring: the size code, no watermarks (`BUILD_RING_CONFIG`).
 *
 * @param code The size code.
 * @returns The register value.
 */
export function txRingConfig(code: number): number {
  return code;
}

/**
 * RING_CONFIG of an RX ring: the size code and a near-full watermark of 512 (`BUILD_RESP_RING_CONFIG`).
 *
 * @param code The size code.
 * @returns The register value.
 */
export function rxRingConfig(code: number): number {
  return (NEAR_WATERMARK_512 << NEAR_FULL_SHIFT) | code;
}

/**
 * The size code in a RING_CONFIG value.
 *
 * @param config The register value.
 * @returns The code (low 5 bits).
 */
export function configSizeCode(config: number): number {
  return config & 0x1f;
}

/** The shape of a ring pair: entries (the same for both rings), their size codes and bytes. */
export interface RingShape {
  /** Messages per ring. */
  readonly entries: number;
  readonly txCode: number;
  readonly rxCode: number;
  readonly txBytes: number;
  readonly rxBytes: number;
  /** Requests on the device at once: one slot stays empty so a full ring differs from an empty one. */
  readonly maxInflight: number;
}

/**
 * The ring pair for `entries` messages each way (128-byte requests, 32-byte responses).
 *
 * @param entries A power of 2 in 128..4096 (qat-gen4.md; DPDK `ADF_MAX_DESC`).
 * @returns The shape.
 * @throws RangeError for another count.
 */
export function ringShape(entries: number): RingShape {
  if (!Number.isInteger(Math.log2(entries)) || entries < 128 || entries > 4096) {
    throw new RangeError(
      `Cannot size a QAT ring pair: entries must be a power of 2 in 128..4096: got ${entries}`,
    );
  }
  const txBytes = entries * SYM_REQUEST_SIZE;
  const rxBytes = entries * SYM_RESPONSE_SIZE;
  return {
    entries,
    txCode: sizeCode(txBytes),
    rxCode: sizeCode(rxBytes),
    txBytes,
    rxBytes,
    maxInflight: entries - 1,
  };
}
