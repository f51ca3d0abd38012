/**
 * Guest memory: the `GuestMemory` interface and its one implementation, a pure table of regions.
 *
 * @module
 */

export {
  type GuestMemory,
  GuestMemoryError,
  type GuestMemoryErrorKind,
  type GuestRegion,
} from "./guest_memory.ts";
export { MAX_REGIONS, RegionGuestMemory } from "./region_guest_memory.ts";
