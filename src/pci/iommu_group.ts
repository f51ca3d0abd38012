/**
 * IOMMU checks before binding: is there an IOMMU at all, and can VFIO take the function's whole IOMMU group.
 *
 * VFIO hands out whole groups: every member must be unbound or on a driver that leaves DMA ownership to VFIO
 * (vfio-ffi.md §2.2). The kernel's final word is VFIO_GROUP_GET_STATUS (VIABLE); this check comes first so that a
 * refusal names each offending function and driver before anything is unbound.
 *
 * @module
 */

import type { SysfsAccess } from "../os/mod.ts";
import { normalizeBdf } from "./address.ts";
import { currentDriver } from "./enumerate.ts";
import { PciError } from "./errors.ts";
import { isGroupCompatibleDriver } from "./ids.ts";

/** A member of an IOMMU group. */
export interface GroupMember {
  /** Its address. */
  readonly bdf: string;
  /** Its driver, or `null`. */
  readonly driver: string | null;
}

/** The outcome of `checkIommuGroup`. */
export interface GroupReport {
  /** The group number. */
  readonly group: number;
  /** Every member, the checked function included. */
  readonly members: readonly GroupMember[];
  /** Other members whose driver stops VFIO from using the group. */
  readonly offenders: readonly GroupMember[];
}

/**
 * Whether the machine has an IOMMU: dpdk-devbind's test, a non-empty `/sys/class/iommu`.
 *
 * @param sysfs The sysfs to read.
 * @returns true when at least one IOMMU is registered.
 */
export function hasIommu(sysfs: SysfsAccess): boolean {
  return sysfs.list("class/iommu").length > 0;
}

/**
 * Lists a group's members and finds those VFIO cannot share it with.
 *
 * @param sysfs The sysfs to read.
 * @param bdf The function to be bound (never an offender: it is the one being moved).
 * @param group Its IOMMU group.
 * @returns Members and offenders.
 */
export function checkIommuGroup(sysfs: SysfsAccess, bdf: string, group: number): GroupReport {
  const members: GroupMember[] = [];
  for (const name of sysfs.list(`kernel/iommu_groups/${group}/devices`)) {
    const member = normalizeBdf(name);
    if (member !== null) members.push({ bdf: member, driver: currentDriver(sysfs, member) });
  }
  const offenders = members.filter((m) => m.bdf !== bdf && !isGroupCompatibleDriver(m.driver));
  return { group, members, offenders };
}

/**
 * The refusal for a group with offenders, naming each function and its driver.
 *
 * @param bdf The function that was to be bound.
 * @param report From `checkIommuGroup`, with at least one offender.
 * @returns A `group-not-viable` error.
 */
export function groupNotViable(bdf: string, report: GroupReport): PciError {
  const names = report.offenders.map((m) => `${m.bdf} (${m.driver})`).join(", ");
  return new PciError(
    "group-not-viable",
    `Cannot bind ${bdf}: its IOMMU group ${report.group} also holds ${names}, and VFIO takes whole groups: ` +
      "unbind those functions or bind them to vfio-pci too (every member must be unbound or on vfio-pci, " +
      "pci-stub or pcieport)",
  );
}
