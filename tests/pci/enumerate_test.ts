import assert from "node:assert/strict";
import { Sysfs } from "../../src/os/mod.ts";
import {
  checkIommuGroup,
  hasIommu,
  idString,
  isCryptoCapable,
  isGroupCompatibleDriver,
  isVfioDriver,
  knownDevice,
  listPciFunctions,
  normalizeBdf,
  parseBdf,
  PciError,
  readPciFunction,
} from "../../src/pci/mod.ts";
import { buildFakeSysfs } from "./_fake_sysfs.ts";

function withTree(body: (sysfs: Sysfs) => void): void {
  const root = buildFakeSysfs();
  try {
    body(new Sysfs(root));
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
}

Deno.test("listPciFunctions() reads ids, driver, IOMMU group and NUMA node from a sysfs tree", () => {
  withTree((sysfs) => {
    const all = listPciFunctions(sysfs, { all: true });
    assert.deepEqual(all.map((f) => f.bdf), [
      "0000:00:00.0",
      "0000:00:04.0",
      "0000:00:1f.0",
      "0000:00:1f.2",
      "0000:00:1f.3",
      "0000:3d:00.0",
    ]);
    const crypto = readPciFunction(sysfs, "0000:00:04.0");
    assert.deepEqual(crypto, {
      bdf: "0000:00:04.0",
      vendor: 0x1af4,
      device: 0x1054,
      classCode: 0x00ff00,
      driver: "virtio-pci",
      driverOverride: null,
      iommuGroup: 4,
      numaNode: null,
      name: "virtio-crypto",
      cryptoCapable: true,
    });
    assert.equal(idString(crypto), "1af4:1054");
  });
});

Deno.test("listPciFunctions() without all keeps crypto-capable functions: virtio-crypto and a QAT VF", () => {
  withTree((sysfs) => {
    const crypto = listPciFunctions(sysfs);
    assert.deepEqual(crypto.map((f) => [f.bdf, f.name, f.driver, f.numaNode]), [
      ["0000:00:04.0", "virtio-crypto", "virtio-pci", null],
      ["0000:3d:00.0", "Intel QAT 4xxx VF", null, 1],
    ]);
  });
});

Deno.test("readPciFunction() names the list command when the address does not exist", () => {
  withTree((sysfs) => {
    assert.throws(
      () => readPciFunction(sysfs, "0000:00:09.0"),
      (e: unknown) =>
        e instanceof PciError && e.kind === "not-found" && /cryptobridge list --all/.test(e.message) &&
        e.message.includes(sysfs.root),
    );
  });
});

Deno.test("checkIommuGroup() lists members and flags host drivers other than the function itself", () => {
  withTree((sysfs) => {
    assert.ok(hasIommu(sysfs));
    const report = checkIommuGroup(sysfs, "0000:00:1f.2", 5);
    assert.deepEqual(report.members.map((m) => [m.bdf, m.driver]), [
      ["0000:00:1f.0", "lpc_ich"],
      ["0000:00:1f.2", "ahci"],
      ["0000:00:1f.3", "i801_smbus"],
    ]);
    assert.deepEqual(report.offenders.map((m) => m.bdf), ["0000:00:1f.0", "0000:00:1f.3"]);
    assert.deepEqual(checkIommuGroup(sysfs, "0000:00:04.0", 4).offenders, []);
  });
});

Deno.test("normalizeBdf() accepts the short form and any case, rejects other text", () => {
  assert.equal(normalizeBdf("00:04.0"), "0000:00:04.0");
  assert.equal(normalizeBdf("0000:3D:00.1"), "0000:3d:00.1");
  assert.equal(normalizeBdf("vfio-pci"), null);
  assert.equal(normalizeBdf("0000:00:04.8"), null);
  assert.equal(normalizeBdf("0000:00:20.0"), null);
  assert.throws(() => parseBdf("eth0"), (e: unknown) => e instanceof PciError && e.kind === "bad-address");
});

Deno.test("known devices: QAT c62x/4xxx/401xx/402xx/420xx PFs and VFs, virtio-crypto", () => {
  const names = [0x37c8, 0x37c9, 0x4940, 0x4941, 0x4942, 0x4943, 0x4944, 0x4945, 0x4946, 0x4947].map((d) =>
    knownDevice(0x8086, d)?.name
  );
  assert.deepEqual(names, [
    "Intel QAT C62x",
    "Intel QAT C62x VF",
    "Intel QAT 4xxx",
    "Intel QAT 4xxx VF",
    "Intel QAT 401xx",
    "Intel QAT 401xx VF",
    "Intel QAT 402xx",
    "Intel QAT 402xx VF",
    "Intel QAT 420xx",
    "Intel QAT 420xx VF",
  ]);
  assert.equal(knownDevice(0x1af4, 0x1054)?.kind, "virtio");
  assert.ok(isCryptoCapable(0x1234, 0x5678, 0x100000), "class 10: encryption controller");
  assert.ok(!isCryptoCapable(0x1af4, 0x1041, 0x020000), "virtio-net is not");
});

Deno.test("driver classes: VFIO variants, and what may share an IOMMU group with VFIO", () => {
  assert.ok(isVfioDriver("vfio-pci") && isVfioDriver("qat_vfio_pci") && isVfioDriver("mlx5_vfio_pci"));
  assert.ok(!isVfioDriver("virtio-pci") && !isVfioDriver("vfio"));
  for (const ok of [null, "vfio-pci", "pci-stub", "pcieport"]) {
    assert.ok(isGroupCompatibleDriver(ok), `${ok}`);
  }
  assert.ok(!isGroupCompatibleDriver("ahci"));
});
