/**
 * `list`, `info` and `bind` on a host with a QAT gen4 PF (on qat_4xxx) and two of its VFs, on a fake sysfs tree:
 * the kind column says which is which, the PF gets the `sriov_numvfs` advice, and `bind` and `info` refuse the PF
 * in one line that says why and what to do.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runCli as run } from "./_run_cli.ts";
import { acceleratorKind, notDrivableReason } from "../../src/pci/mod.ts";
import { buildFakeSysfs, type FakeMachine } from "../pci/_fake_sysfs.ts";

const QAT_HOST: FakeMachine = {
  functions: [
    {
      bdf: "0000:6b:00.0",
      vendor: 0x8086,
      device: 0x4940,
      classCode: 0x0b4000,
      driver: "qat_4xxx",
      group: 20,
    },
    { bdf: "0000:6b:00.1", vendor: 0x8086, device: 0x4941, classCode: 0x0b4000, driver: "4xxxvf", group: 21 },
    {
      bdf: "0000:6b:00.2",
      vendor: 0x8086,
      device: 0x4941,
      classCode: 0x0b4000,
      driver: "vfio-pci",
      group: 22,
    },
  ],
};

async function withTree(body: (root: string) => Promise<void>): Promise<void> {
  const root = buildFakeSysfs(QAT_HOST);
  try {
    await body(root);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
}

const ADVICE = "0000:6b:00.0 is a QAT physical function: enable VFs with " +
  "`echo N > /sys/bus/pci/devices/0000:6b:00.0/sriov_numvfs` (kernel driver qat_4xxx loaded), " +
  "then `cryptobridge bind` a VF";

Deno.test("acceleratorKind tells virtio-crypto, QAT gen4 PFs and VFs, other QATs and the rest apart", () => {
  assert.equal(acceleratorKind(0x1af4, 0x1054), "virtio-crypto");
  assert.equal(acceleratorKind(0x1af4, 0x1041), "unknown"); // virtio-net
  for (const d of [0x4941, 0x4943, 0x4945]) assert.equal(acceleratorKind(0x8086, d), "qat-gen4-vf");
  for (const d of [0x4940, 0x4942, 0x4944, 0x4946]) assert.equal(acceleratorKind(0x8086, d), "qat-gen4-pf");
  assert.equal(acceleratorKind(0x8086, 0x37c9), "qat-other");
  assert.equal(acceleratorKind(0x10de, 0x4941), "unknown");
  assert.equal(notDrivableReason("qat-gen4-vf", "0000:6b:00.1", "8086:4941"), null);
  assert.match(
    notDrivableReason("unknown", "0000:01:00.0", "10de:1234")!,
    /not an accelerator cryptobridge drives/,
  );
});

Deno.test("cryptobridge list names each function's kind and tells what to do with the PF", async () => {
  await withTree(async (root) => {
    const r = await run(["list", "--sysfs", root]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.out.split("\n"), [
      "BDF           VENDOR:DEVICE  KIND         CLASS   DRIVER    IOMMU GROUP  NUMA  NAME",
      "0000:6b:00.0  8086:4940      QAT gen4 PF  0b4000  qat_4xxx  20           -     Intel QAT 4xxx",
      "0000:6b:00.1  8086:4941      QAT gen4 VF  0b4000  4xxxvf    21           -     Intel QAT 4xxx VF",
      "0000:6b:00.2  8086:4941      QAT gen4 VF  0b4000  vfio-pci  22           -     Intel QAT 4xxx VF",
      `Note: ${ADVICE}`,
    ]);
    const json = JSON.parse((await run(["list", "--json", "--sysfs", root])).out);
    assert.deepEqual(json.map((e: { kind: string }) => e.kind), [
      "qat-gen4-pf",
      "qat-gen4-vf",
      "qat-gen4-vf",
    ]);
  });
});

Deno.test("cryptobridge bind refuses a QAT PF, even as a dry run, and binds its VF", async () => {
  await withTree(async (root) => {
    const state = `${root}/state.json`;
    const pf = await run(["bind", "0000:6b:00.0", "--dry-run", "--sysfs", root, "--state", state]);
    assert.equal(pf.code, 1);
    assert.equal(pf.err, `cryptobridge: Cannot bind 0000:6b:00.0: ${ADVICE}`);
    const vf = await run(["bind", "0000:6b:00.1", "--dry-run", "--sysfs", root, "--state", state]);
    assert.equal(vf.code, 0, vf.err);
    assert.match(vf.out, /\(now on 4xxxvf\) it would:/);
  });
});

Deno.test("cryptobridge info on a QAT PF says to create VFs instead of failing on VFIO", async () => {
  await withTree(async (root) => {
    const r = await run(["info", "0000:6b:00.0", "--sysfs", root]);
    assert.equal(r.code, 1);
    assert.equal(r.err, `cryptobridge: Cannot show 0000:6b:00.0 through VFIO: ${ADVICE}`);
  });
});
