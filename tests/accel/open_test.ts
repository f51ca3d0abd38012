/**
 * The accelerator factory on a fake sysfs tree: the driver by vendor and device id (virtio-crypto to the
 * virtio-pci driver, a QAT gen4 VF to the QAT driver, each on its device model), and a QAT PF, another QAT or an
 * unknown function refused with an `AcceleratorKindError` that says what to do.
 *
 * @module
 */

import assert from "node:assert/strict";
import { AcceleratorKindError, identifyAccelerator, openAccelerator } from "../../src/accel/open.ts";
import { QatEngine } from "../../src/accel/qat/mod.ts";
import { VirtioPciEngine } from "../../src/accel/virtio_pci/mod.ts";
import { Sysfs } from "../../src/os/mod.ts";
import { buildFakeSysfs } from "../pci/_fake_sysfs.ts";
import { FakeQatVf } from "../_fixtures/fake_qat_vf.ts";
import { FakeVirtioCrypto } from "../_fixtures/fake_virtio_crypto.ts";

const HOST = {
  functions: [
    { bdf: "0000:00:04.0", vendor: 0x1af4, device: 0x1054, classCode: 0x00ff00, group: 4 },
    {
      bdf: "0000:6b:00.0",
      vendor: 0x8086,
      device: 0x4942,
      classCode: 0x0b4000,
      driver: "qat_4xxx",
      group: 6,
    },
    { bdf: "0000:6b:00.1", vendor: 0x8086, device: 0x4943, classCode: 0x0b4000, group: 7 },
    { bdf: "0000:3f:00.0", vendor: 0x8086, device: 0x37c8, classCode: 0x0b4000, group: 8 },
    { bdf: "0000:00:1f.2", vendor: 0x8086, device: 0x2922, classCode: 0x010601, group: 5 },
  ],
};

function withSysfs(body: (sysfs: Sysfs) => void): void {
  const root = buildFakeSysfs(HOST);
  try {
    body(new Sysfs(root));
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
}

const refuse = (): never => {
  throw new Error("this port must not be opened");
};

Deno.test("openAccelerator() gives virtio-crypto to the virtio-pci driver and a QAT gen4 VF to the QAT driver", () => {
  withSysfs((sysfs) => {
    assert.equal(identifyAccelerator("0000:6b:00.1", sysfs), "qat-gen4-vf");
    const virtio = new FakeVirtioCrypto();
    const v = openAccelerator("0000:00:04.0", { sysfs, ports: { virtio: () => virtio, qat: refuse } });
    assert.equal(v.kind, "virtio-crypto");
    assert.ok(v.engine instanceof VirtioPciEngine);
    v.engine.close();
    const model = new FakeQatVf({ deviceId: 0x4943 });
    const opened: string[] = [];
    const q = openAccelerator("0000:6b:00.1", {
      sysfs,
      ports: { virtio: refuse, qat: (bdf) => (opened.push(bdf), model) },
    });
    assert.equal(q.kind, "qat-gen4-vf");
    assert.ok(q.engine instanceof QatEngine);
    assert.deepEqual(opened, ["0000:6b:00.1"]);
    assert.equal(q.engine.state, "ready");
    q.engine.close();
  });
});

Deno.test("openAccelerator() refuses a QAT PF, another QAT and an unknown function, saying what to do", () => {
  withSysfs((sysfs) => {
    const ports = { virtio: refuse, qat: refuse };
    assert.throws(
      () => openAccelerator("0000:6b:00.0", { sysfs, ports }),
      (e: unknown) =>
        e instanceof AcceleratorKindError && e.kind === "qat-gen4-pf" &&
        /sriov_numvfs.*then `cryptobridge bind` a VF/.test(e.message),
    );
    assert.throws(
      () => openAccelerator("0000:3f:00.0", { sysfs, ports }),
      (e: unknown) =>
        e instanceof AcceleratorKindError && e.kind === "qat-other" && /QAT gen4 VF/.test(e.message),
    );
    assert.throws(
      () => openAccelerator("0000:00:1f.2", { sysfs, ports }),
      (e: unknown) =>
        e instanceof AcceleratorKindError && e.kind === "unknown" && /cryptobridge list/.test(e.message),
    );
    assert.throws(() => openAccelerator("0000:99:00.0", { sysfs, ports }), /No PCI function 0000:99:00.0/);
  });
});
