/**
 * `MappedMemoryTable`: turns SET_MEM_TABLE (region descriptions plus one fd each) into guest memory the back-end
 * can read: each fd is mmapped once and the region is a zero-copy view of it (design.md decision 3).
 *
 * @module
 */

import { type GuestRegion, RegionGuestMemory } from "../memory/mod.ts";
import { describeFd, type Fd, fileCovers, guardAgainstShrink, Mapping, type ShrinkGuard } from "../os/mod.ts";
import { type MemoryRegionDesc, VhostUserError } from "./message.ts";

/**
 * What to do with guest RAM that can shrink under the daemon (an unsealed memfd, a file on tmpfs, hugetlbfs or a
 * disk): "refuse" (default) drops the front-end with a message naming the QEMU option to use; "allow" maps it
 * anyway, for a process that serves that one VM only (`VhostUserServer.listen` enforces it), since a truncation
 * then raises SIGBUS and ends the process.
 */
export type ShrinkableMemoryPolicy = "refuse" | "allow";

/** How `MappedMemoryTable.map` treats memory that can shrink. */
export interface MemoryPolicy {
  /** Refuse (default) or allow it. */
  readonly shrinkable?: ShrinkableMemoryPolicy;
  /** Told about each shrinkable region accepted under "allow" (the handler logs it). */
  readonly accepted?: (region: string, why: string) => void;
}

/** The QEMU option that gives guest RAM the daemon accepts (said in every refusal). */
export const SEALED_RAM_OPTION =
  "-object memory-backend-memfd,id=mem,size=…,share=on (seal=on is its default; " +
  "add hugetlb=on for huge pages)";

/** A memory table with the mappings behind it; `unmap()` releases them. */
export class MappedMemoryTable {
  /** The guest memory the rings and requests are read from. */
  readonly memory: RegionGuestMemory;
  readonly #mappings: readonly Mapping[];

  private constructor(memory: RegionGuestMemory, mappings: readonly Mapping[]) {
    this.memory = memory;
    this.#mappings = mappings;
  }

  /** A table with no regions (before the first SET_MEM_TABLE). */
  static empty(): MappedMemoryTable {
    return new MappedMemoryTable(new RegionGuestMemory([], 0), []);
  }

  /**
   * Maps every region. The fds are only used for mmap: the caller closes them afterwards (the mappings stay).
   *
   * @param regions The decoded table.
   * @param fds One fd per region, in order.
   * @param generation The new table's generation.
   * @param policy What to do with a region whose file can still shrink (default: refuse it), and where a region
   *   accepted anyway is reported.
   * @throws VhostUserError when the fd count does not match, a region is malformed or can shrink (policy
   *   "refuse"), or mmap fails; nothing stays mapped then.
   */
  static map(
    regions: readonly MemoryRegionDesc[],
    fds: readonly Fd[],
    generation: number,
    policy: MemoryPolicy = {},
  ): MappedMemoryTable {
    if (fds.length !== regions.length) {
      throw new VhostUserError(
        "bad-fds",
        `Cannot accept SET_MEM_TABLE: it needs one fd per region (${regions.length}): current count is ${fds.length}`,
      );
    }
    const mappings: Mapping[] = [];
    try {
      const guestRegions = regions.map((r, i) => mapRegion(r, fds[i]!, mappings, policy));
      return new MappedMemoryTable(new RegionGuestMemory(guestRegions, generation), mappings);
    } catch (e) {
      for (const m of mappings) m.unmap();
      if (e instanceof VhostUserError) throw e;
      throw new VhostUserError("bad-payload", `Cannot accept SET_MEM_TABLE: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }

  /** Unmaps every region. Views taken from this table must not be used afterwards. */
  unmap(): void {
    for (const m of this.#mappings) m.unmap();
  }
}

function mapRegion(
  r: MemoryRegionDesc,
  fd: Fd,
  mappings: Mapping[],
  policy: MemoryPolicy,
): GuestRegion {
  if (r.memorySize <= 0) {
    throw new VhostUserError(
      "bad-payload",
      `Cannot accept SET_MEM_TABLE: region size must be > 0: current value is ${r.memorySize}`,
    );
  }
  // Sealed first, size checked second: once F_SEAL_SHRINK is on, the size checked below can only grow.
  checkShrinkGuard(r, fd, guardAgainstShrink(fd.raw), policy);
  // QEMU maps from file offset 0 and the region starts `mmap_offset` bytes in (DPDK does the same): mapping
  // size + offset keeps the file offset page-aligned whatever mmap_offset is.
  const length = r.memorySize + r.mmapOffset;
  // Past the end of the file the mapping would SIGBUS the daemon at the guest's first access there.
  if (Number.isSafeInteger(length) && fileCovers(fd.raw, length) === false) {
    const region = `0x${r.guestPhysAddr.toString(16)} (${r.memorySize} bytes at offset ${r.mmapOffset})`;
    throw new VhostUserError(
      "bad-payload",
      `Cannot accept SET_MEM_TABLE: region ${region} ends past the end of its file`,
    );
  }
  const mapping = Mapping.fromFd(fd.raw, length);
  mappings.push(mapping);
  return {
    gpa: r.guestPhysAddr,
    size: r.memorySize,
    frontendVa: r.userspaceAddr,
    bytes: mapping.bytes.subarray(r.mmapOffset, r.mmapOffset + r.memorySize),
    address: mapping.address + BigInt(r.mmapOffset),
  };
}

function checkShrinkGuard(r: MemoryRegionDesc, fd: Fd, guard: ShrinkGuard, policy: MemoryPolicy): void {
  if (guard === "sealed" || guard === "sealed-now") return;
  const region = `0x${r.guestPhysAddr.toString(16)}+0x${r.memorySize.toString(16)}`;
  const file = describeFd(fd.raw);
  const what = guard === "unsealable"
    ? `its file (${file}) cannot be sealed against shrinking (a memfd made without sealing, or a file on tmpfs ` +
      "or hugetlbfs)"
    : `its file (${file}) has no seals: any process that can write it can truncate it`;
  if (policy.shrinkable === "allow") {
    policy.accepted?.(region, what);
    return;
  }
  throw new VhostUserError(
    "unsafe-memory",
    `Cannot accept SET_MEM_TABLE: region ${region} can shrink under the daemon (an access past its end would ` +
      `kill it with SIGBUS): ${what}: give the VM ${SEALED_RAM_OPTION}`,
  );
}
