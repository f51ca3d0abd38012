/**
 * The text form of `cryptobridge info`.
 *
 * @module
 */

import type { SparseArea } from "../vfio/mod.ts";
import type { InfoReport } from "../admin/mod.ts";
import { table } from "./table.ts";
import { KIND_LABELS } from "../pci/mod.ts";

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

function areas(list: readonly SparseArea[] | null): string {
  if (list === null) return "whole";
  if (list.length === 0) return "none";
  return list.map((a) => `${hex(a.offset)}+${hex(a.size)}`).join(" ");
}

function regionLines(report: InfoReport): string[] {
  return table(
    ["INDEX", "NAME", "SIZE", "FD OFFSET", "FLAGS", "SPARSE MMAP", "MAPPED BY CRYPTOBRIDGE"],
    report.regions.map((r) => [
      `${r.index}`,
      r.name,
      hex(r.size),
      hex(r.offset),
      r.flags.join(",") || "-",
      r.flags.includes("mmap") ? areas(r.sparse) : "-",
      r.index <= 5 ? areas(r.mapped) : "-",
    ]),
  );
}

function capabilityLines(report: InfoReport): string[] {
  const msix = report.msix;
  return report.capabilities.map((c) => {
    const where = `${hex(c.offset).padEnd(6)} ${c.extended ? "ext " : ""}${c.name}`;
    if (msix !== null && c.offset === msix.offset && !c.extended) {
      return `${where}: ${msix.tableSize} vectors, table BAR${msix.tableBar}+${hex(msix.tableOffset)}, ` +
        `PBA BAR${msix.pbaBar}+${hex(msix.pbaOffset)}${msix.enabled ? ", enabled" : ""}`;
    }
    return where;
  });
}

function virtioLines(report: InfoReport): string[] {
  const v = report.virtio;
  if (v === null) return [];
  const caps = table(
    ["CFG TYPE", "BAR", "OFFSET", "LENGTH", "NOTIFY MULTIPLIER"],
    v.caps.map((c) => [
      c.typeName,
      `${c.bar}`,
      hex(c.offset),
      hex(c.length),
      c.notifyOffMultiplier === undefined ? "" : `${c.notifyOffMultiplier}`,
    ]),
  );
  return [
    "",
    "virtio-pci capabilities:",
    ...caps.map((l) => `  ${l}`),
    "",
    "virtio common configuration (read through the mapped BAR):",
    `  device features  ${v.deviceFeatures}: ${v.featureNames.join(" ")}`,
    `  num_queues       ${v.numQueues}`,
    `  device_status    ${hex(v.status)}`,
  ];
}

/**
 * The lines `info` prints.
 *
 * @param report From `collectInfo`.
 * @returns The lines.
 */
export function formatInfo(report: InfoReport): string[] {
  const d = report.device;
  return [
    `${report.bdf}  ${report.ids}  ${report.name ?? "(unknown device)"}  kind ${KIND_LABELS[report.kind]}  ` +
    `driver ${report.driver}  ` +
    `IOMMU group ${report.iommuGroup ?? "-"}  VFIO ${report.vfioPath}`,
    `VFIO device: flags ${hex(d.flags)}, ${d.numRegions} regions, ${d.numIrqs} IRQ indexes, reset ${
      d.canReset ? "yes" : "no"
    }`,
    "",
    "Regions:",
    ...regionLines(report).map((l) => `  ${l}`),
    "",
    "IRQs:",
    ...table(
      ["INDEX", "NAME", "COUNT", "FLAGS"],
      report.irqs.map((i) => [`${i.index}`, i.name, `${i.count}`, i.flags.join(",")]),
    )
      .map((l) => `  ${l}`),
    "",
    "PCI capabilities:",
    ...capabilityLines(report).map((l) => `  ${l}`),
    ...virtioLines(report),
  ];
}
