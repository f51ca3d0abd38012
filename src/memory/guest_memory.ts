/**
 * Guest memory as the device side sees it: regions of guest-physical address space, each backed by host memory the
 * daemon has mapped (style.md rule 1: memory is passed in, not owned).
 *
 * @module
 */

/** One region of guest RAM (a vhost-user memory-table entry, or a test buffer). */
export interface GuestRegion {
  /** Guest-physical address of the first byte (`guest_phys_addr`). */
  readonly gpa: number;
  /** Size in bytes (`memory_size`). */
  readonly size: number;
  /** The front-end's (QEMU's) virtual address of the first byte (`userspace_addr`), for ring addresses. */
  readonly frontendVa: number;
  /** Zero-copy view of the whole region (`bytes.length === size`). */
  readonly bytes: Uint8Array;
  /** Host virtual address of `bytes[0]`, for engines that call C; 0n where there is none (pure tests). */
  readonly address: bigint;
}

/** What was wrong with a guest address. */
export type GuestMemoryErrorKind = "out-of-range" | "overlap" | "bad-region";

/** A guest address or range outside guest memory, or a malformed memory table. */
export class GuestMemoryError extends RangeError {
  override name = "GuestMemoryError";
  /** What was wrong. */
  readonly kind: GuestMemoryErrorKind;

  /**
   * @param kind What was wrong.
   * @param message A std-style message.
   */
  constructor(kind: GuestMemoryErrorKind, message: string) {
    super(message);
    this.kind = kind;
  }
}

/** Read access to guest memory by guest-physical address; every access is bounds-checked. */
export interface GuestMemory {
  /** Incremented for every new memory table, so cached translations can be dropped (libvfio-user). */
  readonly generation: number;
  /** The regions, sorted by `gpa`, never overlapping. */
  readonly regions: readonly GuestRegion[];
  /**
   * The region that holds all of `[gpa, gpa + len)`, or `undefined`.
   *
   * @param gpa Guest-physical start address.
   * @param len Length in bytes (0 is treated as 1).
   */
  find(gpa: number, len: number): GuestRegion | undefined;
  /**
   * The region that holds the byte at `gpa`, or `undefined` (for ranges that may cross adjacent regions).
   *
   * @param gpa Guest-physical address.
   */
  regionAt(gpa: number): GuestRegion | undefined;
  /**
   * Whether all of `[gpa, gpa + len)` is guest memory (possibly across adjacent regions).
   *
   * @param gpa Guest-physical start address.
   * @param len Length in bytes.
   */
  checkRange(gpa: number, len: number): boolean;
  /**
   * Copies guest memory into `dst`.
   *
   * @throws GuestMemoryError when the range is not all guest memory.
   */
  read(gpa: number, dst: Uint8Array): void;
  /**
   * Copies `src` into guest memory.
   *
   * @throws GuestMemoryError when the range is not all guest memory.
   */
  write(gpa: number, src: Uint8Array): void;
  /**
   * Translates a front-end virtual address (vring addresses in SET_VRING_ADDR) to a guest-physical one.
   *
   * @returns The GPA, or `undefined` when `[va, va + len)` is not inside one region.
   */
  frontendVaToGpa(va: number, len: number): number | undefined;
}
