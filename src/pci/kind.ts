/**
 * Which of the project's drivers a PCI function is for, from its vendor and device ids: the virtio-crypto driver
 * (1af4:1054), the QAT gen4 VF driver (8086:4941, 4943, 4945), or none. A QAT physical function gets its own kind
 * because the operator's next step is on the PF (create VFs with the kernel's driver), not on cryptobridge: the
 * advice is written here once for `list`, `info`, `bind` and `serve`.
 *
 * @module
 */

/** What cryptobridge makes of a function. */
export type AcceleratorKind =
  /** A virtio-crypto function (1af4:1054): `src/accel/virtio_pci/`. */
  | "virtio-crypto"
  /** A QAT gen4 VF (8086:4941, 4943, 4945): `src/accel/qat/`. */
  | "qat-gen4-vf"
  /** A QAT gen4 PF (8086:4940, 4942, 4944, 4946): stays with the kernel's driver, which creates the VFs. */
  | "qat-gen4-pf"
  /** Another QAT generation's PF or VF (c62x, c3xxx, dh895xcc, 420xx VF): no driver here. */
  | "qat-other"
  /** Anything else. */
  | "unknown";

const INTEL = 0x8086;
const VIRTIO = 0x1af4;

// Linux's drivers/crypto/intel/qat/qat_4xxx (adf_4xxx_hw_data.h, pci_ids.h): 4940 4xxx, 4942 401xx, 4944 402xx;
// qat_420xx has PF 4946 and VF 4947. The driver here follows qat-gen4.md, which covers the 4941/4943/4945 VFs.
const GEN4_VF = new Set([0x4941, 0x4943, 0x4945]);
const GEN4_PF = new Set([0x4940, 0x4942, 0x4944, 0x4946]);
const OTHER_QAT = new Set([0x0435, 0x0443, 0x37c8, 0x37c9, 0x19e2, 0x19e3, 0x4947]);

/**
 * The kind of a function.
 *
 * @param vendor PCI vendor id.
 * @param device PCI device id.
 * @returns Its kind.
 */
export function acceleratorKind(vendor: number, device: number): AcceleratorKind {
  if (vendor === VIRTIO && device === 0x1054) return "virtio-crypto";
  if (vendor !== INTEL) return "unknown";
  if (GEN4_VF.has(device)) return "qat-gen4-vf";
  if (GEN4_PF.has(device)) return "qat-gen4-pf";
  return OTHER_QAT.has(device) ? "qat-other" : "unknown";
}

/** How `list` and `info` name a kind. */
export const KIND_LABELS: Readonly<Record<AcceleratorKind, string>> = {
  "virtio-crypto": "virtio-crypto",
  "qat-gen4-vf": "QAT gen4 VF",
  "qat-gen4-pf": "QAT gen4 PF",
  "qat-other": "QAT (not driven)",
  unknown: "-",
};

/**
 * Whether cryptobridge can drive a function of this kind (bind it, serve it, self-test it).
 *
 * @param kind The kind.
 * @returns true for virtio-crypto and QAT gen4 VFs.
 */
export function isDrivable(kind: AcceleratorKind): boolean {
  return kind === "virtio-crypto" || kind === "qat-gen4-vf";
}

/**
 * What to do with a QAT physical function: it stays with the kernel, which creates the VFs cryptobridge drives.
 *
 * @param bdf The PF's address.
 * @returns One sentence for the operator.
 */
export function pfAdvice(bdf: string): string {
  return `${bdf} is a QAT physical function: enable VFs with \`echo N > /sys/bus/pci/devices/${bdf}/sriov_numvfs\` ` +
    "(kernel driver qat_4xxx loaded), then `cryptobridge bind` a VF";
}

/**
 * Why cryptobridge does not drive a function, and what to do instead, or null when it does.
 *
 * @param kind The function's kind.
 * @param bdf Its address.
 * @param ids Its `vendor:device`.
 * @returns The sentence, or null for a drivable kind.
 */
export function notDrivableReason(kind: AcceleratorKind, bdf: string, ids: string): string | null {
  switch (kind) {
    case "virtio-crypto":
    case "qat-gen4-vf":
      return null;
    case "qat-gen4-pf":
      return pfAdvice(bdf);
    case "qat-other":
      return `${bdf} (${ids}) is a QAT function of a generation cryptobridge has no driver for: ` +
        "use a QAT gen4 VF (8086:4941, 4943, 4945) or a virtio-crypto function (1af4:1054)";
    case "unknown":
      return `${bdf} (${ids}) is not an accelerator cryptobridge drives: run \`cryptobridge list\` to find a ` +
        "virtio-crypto function (1af4:1054) or a QAT gen4 VF (8086:4941, 4943, 4945)";
  }
}
