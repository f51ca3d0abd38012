/**
 * The binder on a fake sysfs tree, with `FakeKernel` playing the kernel's reactions to writes (the one mock).
 *
 * @module
 */

import assert from "node:assert/strict";
import { Sysfs } from "../../src/os/mod.ts";
import { Binder, FileBindState, PciError } from "../../src/pci/mod.ts";
import {
  buildFakeSysfs,
  FakeKernel,
  type FakeKernelOptions,
  type FakeMachine,
  TEST_MACHINE,
} from "./_fake_sysfs.ts";

const BDF = "0000:00:04.0";
const DEV = `bus/pci/devices/${BDF}`;

interface Fixture {
  readonly root: string;
  readonly kernel: FakeKernel;
  readonly state: FileBindState;
  readonly binder: Binder;
  driver(bdf?: string): string | null;
  override(bdf?: string): string | null;
  writes(): string[];
}

function withFixture(
  options: FakeKernelOptions & { machine?: FakeMachine },
  body: (f: Fixture) => void,
): void {
  const root = buildFakeSysfs(options.machine ?? TEST_MACHINE);
  try {
    const kernel = new FakeKernel(root, options);
    const state = new FileBindState(`${root}/state/bindings.json`);
    const sysfs = new Sysfs(root);
    body({
      root,
      kernel,
      state,
      binder: new Binder({ sysfs: kernel, state, loadModule: kernel.loadModule }),
      driver: (bdf = BDF) => sysfs.readlink(`bus/pci/devices/${bdf}/driver`)?.split("/").pop() ?? null,
      override: (bdf = BDF) => sysfs.readText(`bus/pci/devices/${bdf}/driver_override`),
      writes: () => kernel.writes.map((w) => `${w.path} <- ${JSON.stringify(w.value)}`),
    });
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
}

Deno.test("Binder.bind() moves a function to vfio-pci through driver_override and remembers the original driver", () => {
  withFixture({}, (f) => {
    const result = f.binder.bind(BDF);
    assert.deepEqual([result.from, result.to, result.changed], ["virtio-pci", "vfio-pci", true]);
    assert.deepEqual(f.writes(), [
      `${DEV}/driver_override <- "vfio-pci"`,
      `${DEV}/driver/unbind <- "${BDF}"`,
      `bus/pci/drivers_probe <- "${BDF}"`,
      `${DEV}/driver_override <- "\\n"`,
    ]);
    assert.equal(f.driver(), "vfio-pci");
    assert.equal(f.override(), "(null)", "the override is cleared after the bind");
    assert.equal(f.state.get(BDF)?.driver, "virtio-pci");
    assert.equal(f.binder.bind(BDF).changed, false, "binding again changes nothing");
  });
});

Deno.test("Binder.bind() loads vfio-pci with modprobe when it is missing", () => {
  withFixture({ machine: { ...TEST_MACHINE, modules: [] } }, (f) => {
    f.binder.bind(BDF);
    assert.equal(f.writes()[0], `(modprobe) <- "vfio-pci"`);
    assert.equal(f.driver(), "vfio-pci");
  });
});

Deno.test("Binder.bind() says so when the module cannot be loaded, before writing anything", () => {
  withFixture({ machine: { ...TEST_MACHINE, modules: [] } }, (f) => {
    const binder = new Binder({
      sysfs: f.kernel,
      state: f.state,
      loadModule: () => {
        throw new PciError("module-missing", "Cannot load kernel module vfio-pci: not found");
      },
    });
    assert.throws(
      () => binder.bind(BDF),
      (e: unknown) => e instanceof PciError && e.kind === "module-missing",
    );
    assert.deepEqual(f.writes(), []);
    assert.equal(f.driver(), "virtio-pci");
  });
});

Deno.test("Binder.bind() rolls back to the original driver when vfio-pci's probe fails", () => {
  withFixture({ failingProbes: ["vfio-pci"] }, (f) => {
    assert.throws(
      () => f.binder.bind(BDF),
      (e: unknown) =>
        e instanceof PciError && e.kind === "bind-failed" &&
        /is on no driver instead of vfio-pci: rolled back, it is on virtio-pci again/.test(e.message),
    );
    assert.equal(f.driver(), "virtio-pci");
    assert.equal(f.override(), "(null)");
    assert.equal(f.state.get(BDF), undefined, "a rolled-back bind leaves no record");
    assert.deepEqual(f.writes().slice(3), [
      `${DEV}/driver_override <- "virtio-pci"`,
      `bus/pci/drivers_probe <- "${BDF}"`,
      `${DEV}/driver_override <- "\\n"`,
    ]);
  });
});

Deno.test("Binder.bind() reports a failed rollback and how to recover", () => {
  withFixture({ failingProbes: ["vfio-pci", "virtio-pci"] }, (f) => {
    assert.throws(
      () => f.binder.bind(BDF),
      (e: unknown) =>
        e instanceof PciError &&
        /rolling back failed too: .*it is on no driver, run `cryptobridge unbind/.test(e.message),
    );
  });
});

Deno.test("Binder.bind() rolls back when a sysfs write fails half-way", () => {
  withFixture({ failingWrites: new Map([[`${DEV}/driver/unbind`, 16]]) }, (f) => {
    assert.throws(
      () => f.binder.bind(BDF),
      (e: unknown) =>
        e instanceof PciError && /driver\/unbind .* failed: .*EBUSY.*rolled back/.test(e.message),
    );
    assert.equal(f.driver(), "virtio-pci");
    assert.equal(f.override(), "(null)");
  });
});

Deno.test("Binder.bind() forgives an error from drivers_probe when the function did bind (dpdk-devbind)", () => {
  withFixture({ spuriousProbeErrno: 22 }, (f) => {
    assert.equal(f.binder.bind(BDF).to, "vfio-pci");
  });
});

Deno.test("Binder.bind() refuses a group with host drivers, naming each function and driver, and writes nothing", () => {
  withFixture({}, (f) => {
    assert.throws(
      () => f.binder.bind("0000:00:1f.2"),
      (e: unknown) =>
        e instanceof PciError && e.kind === "group-not-viable" &&
        e.message.includes("IOMMU group 5 also holds 0000:00:1f.0 (lpc_ich), 0000:00:1f.3 (i801_smbus)"),
    );
    assert.deepEqual(f.writes(), []);
  });
});

Deno.test("Binder.bind() accepts group members that are unbound or on pci-stub or pcieport", () => {
  const machine: FakeMachine = {
    functions: [
      {
        bdf: "0000:01:00.0",
        vendor: 0x8086,
        device: 0x4941,
        classCode: 0x0b4000,
        driver: "4xxxvf",
        group: 9,
      },
      {
        bdf: "0000:01:00.1",
        vendor: 0x8086,
        device: 0x1234,
        classCode: 0x0b4000,
        driver: "pci-stub",
        group: 9,
      },
      {
        bdf: "0000:00:1c.0",
        vendor: 0x8086,
        device: 0x1235,
        classCode: 0x060400,
        driver: "pcieport",
        group: 9,
      },
      { bdf: "0000:01:00.2", vendor: 0x8086, device: 0x1236, classCode: 0x0b4000, group: 9 },
    ],
  };
  withFixture({ machine }, (f) => {
    assert.equal(f.binder.bind("0000:01:00.0").to, "vfio-pci");
  });
});

Deno.test("Binder.bind() with dryRun returns the plan and writes nothing", () => {
  withFixture({}, (f) => {
    const result = f.binder.bind(BDF, { dryRun: true });
    assert.equal(result.changed, false);
    assert.deepEqual(f.writes(), []);
    assert.equal(f.state.get(BDF), undefined);
    assert.deepEqual(f.binder.describe(result.plan), [
      `1. write "vfio-pci" to ${f.root}/${DEV}/driver_override (only vfio-pci may bind ${BDF} from now on)`,
      `2. write "${BDF}" to ${f.root}/${DEV}/driver/unbind (unbind virtio-pci)`,
      `3. write "${BDF}" to ${f.root}/bus/pci/drivers_probe (probe ${BDF}: vfio-pci binds it)`,
      "4. check that the driver is vfio-pci",
      `5. write "\\n" to ${f.root}/${DEV}/driver_override (clear the override: the kernel chooses the driver ` +
      "again at the next probe)",
    ]);
  });
});

Deno.test("Binder.bind() without an IOMMU refuses, unless no-IOMMU mode is asked for", () => {
  withFixture({ machine: { ...TEST_MACHINE, iommu: false } }, (f) => {
    assert.throws(
      () => f.binder.bind(BDF),
      (e: unknown) => e instanceof PciError && e.kind === "no-iommu" && /--noiommu/.test(e.message),
    );
    assert.deepEqual(f.writes(), []);
    const result = f.binder.bind(BDF, { noIommu: true });
    assert.equal(result.to, "vfio-pci");
    assert.equal(f.writes()[0], `module/vfio/parameters/enable_unsafe_noiommu_mode <- "1"`);
    assert.match(result.plan.notes.join("\n"), /unsafe no-IOMMU mode/);
  });
});

Deno.test("Binder.unbind() gives the function back to the driver bind remembered and forgets it", () => {
  withFixture({}, (f) => {
    f.binder.bind(BDF);
    f.kernel.writes.length = 0;
    const result = f.binder.unbind(BDF);
    assert.deepEqual([result.from, result.to], ["vfio-pci", "virtio-pci"]);
    assert.deepEqual(f.writes(), [
      `${DEV}/driver/unbind <- "${BDF}"`,
      `${DEV}/driver_override <- "virtio-pci"`,
      `bus/pci/drivers_probe <- "${BDF}"`,
      `${DEV}/driver_override <- "\\n"`,
    ]);
    assert.equal(f.state.get(BDF), undefined);
    assert.throws(
      () => f.binder.unbind("0000:00:1f.2"),
      (e: unknown) => e instanceof PciError && e.kind === "not-bound",
    );
  });
});

Deno.test("Binder.unbind() without a record lets the kernel choose, and says so", () => {
  withFixture({ defaultDrivers: { [BDF]: "virtio-pci" } }, (f) => {
    f.binder.bind(BDF);
    f.state.delete(BDF);
    const result = f.binder.unbind(BDF);
    assert.equal(result.to, "virtio-pci");
    assert.match(result.plan.notes[0]!, /No record of 0000:00:04.0's original driver/);
  });
});

Deno.test("Binder.unbind() leaves a function that had no driver unbound", () => {
  withFixture({}, (f) => {
    f.binder.bind("0000:3d:00.0");
    const result = f.binder.unbind("0000:3d:00.0");
    assert.equal(result.to, null);
    assert.equal(f.driver("0000:3d:00.0"), null);
  });
});
