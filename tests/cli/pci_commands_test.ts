/**
 * `cryptobridge list`, `bind`, `unbind`, `info` through `main()`, on a fake sysfs tree (`--sysfs`): the output, the
 * dry run, and the one-line messages for mistakes.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runCli as run } from "./_run_cli.ts";
import { bdfArgument } from "../../src/cli/pci_args.ts";
import { UsageError } from "../../src/cli/errors.ts";
import { buildFakeSysfs } from "../pci/_fake_sysfs.ts";

async function withTree(body: (root: string) => Promise<void>): Promise<void> {
  const root = buildFakeSysfs();
  try {
    await body(root);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
}

Deno.test("cryptobridge list prints the crypto functions as a table; --all and --json", async () => {
  await withTree(async (root) => {
    const table = await run(["list", "--sysfs", root]);
    assert.equal(table.code, 0);
    assert.deepEqual(table.out.split("\n"), [
      "BDF           VENDOR:DEVICE  KIND           CLASS   DRIVER      IOMMU GROUP  NUMA  NAME",
      "0000:00:04.0  1af4:1054      virtio-crypto  00ff00  virtio-pci  4            -     virtio-crypto",
      "0000:3d:00.0  8086:4941      QAT gen4 VF    0b4000  -           7            1     Intel QAT 4xxx VF",
    ]);
    const json = JSON.parse((await run(["list", "--all", "--json", "--sysfs", root])).out);
    assert.equal(json.length, 6);
    assert.deepEqual(json[1], {
      bdf: "0000:00:04.0",
      vendor: "1af4",
      device: "1054",
      class: "00ff00",
      kind: "virtio-crypto",
      driver: "virtio-pci",
      driverOverride: null,
      iommuGroup: 4,
      numaNode: null,
      name: "virtio-crypto",
      cryptoCapable: true,
    });
  });
});

Deno.test("cryptobridge bind --dry-run prints the sysfs writes and changes nothing", async () => {
  await withTree(async (root) => {
    const r = await run(["bind", "00:04.0", "--dry-run", "--sysfs", root, "--state", `${root}/state.json`]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^Dry run, nothing changed\. For 0000:00:04\.0 \(now on virtio-pci\) it would:/);
    assert.ok(r.out.includes(`1. write "vfio-pci" to ${root}/bus/pci/devices/0000:00:04.0/driver_override`));
    assert.ok(r.out.includes(`3. write "0000:00:04.0" to ${root}/bus/pci/drivers_probe`));
    assert.equal(Deno.readTextFileSync(`${root}/bus/pci/devices/0000:00:04.0/driver_override`), "(null)\n");
  });
});

Deno.test("cryptobridge bind refuses a group with host drivers in one line naming them", async () => {
  await withTree(async (root) => {
    const r = await run(["bind", "0000:00:1f.2", "--dry-run", "--sysfs", root]);
    assert.equal(r.code, 1);
    assert.equal(r.err.split("\n").length, 1);
    assert.match(r.err, /0000:00:1f\.0 \(lpc_ich\), 0000:00:1f\.3 \(i801_smbus\)/);
  });
});

Deno.test("mistakes get one line that says what to do", async () => {
  await withTree(async (root) => {
    const swapped = await run(["bind", "vfio-pci", "0000:00:04.0", "--sysfs", root]);
    assert.deepEqual([swapped.code, swapped.err], [
      2,
      "cryptobridge: bind takes the PCI address only: did you mean `cryptobridge bind 0000:00:04.0`?",
    ]);
    const missing = await run(["bind", "0000:00:09.0", "--dry-run", "--sysfs", root]);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /No PCI function 0000:00:09\.0 .*: run `cryptobridge list --all`/);
    const none = await run(["unbind", "--sysfs", root]);
    assert.match(none.err, /unbind needs a PCI address: run `cryptobridge list`/);
    const notBound = await run(["unbind", "0000:00:04.0", "--sysfs", root, "--state", `${root}/s.json`]);
    assert.match(notBound.err, /not on a VFIO driver \(it is on virtio-pci\)/);
  });
});

Deno.test("bdfArgument() suggests --driver when a VFIO variant comes first", () => {
  assert.throws(
    () => bdfArgument("bind", ["qat_vfio_pci", "3d:00.0"]),
    (e: unknown) =>
      e instanceof UsageError &&
      e.message ===
        "bind takes the PCI address only: did you mean `cryptobridge bind 0000:3d:00.0 --driver qat_vfio_pci`?",
  );
  assert.throws(() => bdfArgument("info", ["eth0"]), /"eth0" is not a PCI address/);
  assert.throws(() => bdfArgument("info", ["00:04.0", "00:05.0"]), /takes one PCI address/);
});

Deno.test("cryptobridge info on a function that is not on vfio-pci says to bind it first", async () => {
  await withTree(async (root) => {
    const r = await run(["info", "0000:00:04.0", "--sysfs", root]);
    assert.equal(r.code, 1);
    assert.match(r.err, /it is on virtio-pci: run `cryptobridge bind 0000:00:04\.0` first/);
  });
});
