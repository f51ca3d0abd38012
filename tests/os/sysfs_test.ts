import assert from "node:assert/strict";
import { ErrnoError, pathExists, Sysfs } from "../../src/os/mod.ts";

function withTree(body: (root: string) => void): void {
  const root = Deno.makeTempDirSync({ prefix: "sysfs-test-" });
  try {
    body(root);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
}

Deno.test("Sysfs.readText() drops the trailing newline; a missing file reads as null", () => {
  withTree((root) => {
    Deno.mkdirSync(`${root}/a`);
    Deno.writeTextFileSync(`${root}/a/vendor`, "0x1af4\n");
    const sysfs = new Sysfs(`${root}/`);
    assert.equal(sysfs.root, root);
    assert.equal(sysfs.readText("a/vendor"), "0x1af4");
    assert.equal(sysfs.readText("a/missing"), null);
    assert.equal(sysfs.readText("a/vendor/below"), null, "ENOTDIR counts as missing");
  });
});

Deno.test("Sysfs.readBytes() reads files larger than one read", () => {
  withTree((root) => {
    const data = new Uint8Array(10_000).map((_, i) => i & 0xff);
    Deno.writeFileSync(`${root}/config`, data);
    assert.deepEqual(new Sysfs(root).readBytes("config"), data);
  });
});

Deno.test("Sysfs.write() writes in one call and reports the errno of a failing file", () => {
  withTree((root) => {
    Deno.writeTextFileSync(`${root}/driver_override`, "");
    const sysfs = new Sysfs(root);
    sysfs.write("driver_override", "vfio-pci");
    assert.equal(Deno.readTextFileSync(`${root}/driver_override`), "vfio-pci");
    assert.throws(
      () => sysfs.write("nothing/here", "x"),
      (e: unknown) =>
        e instanceof ErrnoError && e.code === "ENOENT" && e.message.includes(`${root}/nothing/here`),
    );
  });
});

Deno.test("Sysfs.readlink(), list() and exists() follow the sysfs conventions", () => {
  withTree((root) => {
    Deno.mkdirSync(`${root}/drivers/vfio-pci`, { recursive: true });
    Deno.mkdirSync(`${root}/dev`);
    Deno.symlinkSync("../drivers/vfio-pci", `${root}/dev/driver`);
    for (const n of ["b", "a", "c"]) Deno.writeTextFileSync(`${root}/drivers/${n}`, "");
    const sysfs = new Sysfs(root);
    assert.equal(sysfs.readlink("dev/driver"), "../drivers/vfio-pci");
    assert.equal(sysfs.readlink("dev/none"), null);
    assert.equal(sysfs.readlink("drivers/a"), null, "not a link");
    assert.deepEqual(sysfs.list("drivers"), ["a", "b", "c", "vfio-pci"]);
    assert.deepEqual(sysfs.list("nowhere"), []);
    assert.ok(sysfs.exists("dev/driver") && !sysfs.exists("dev/none") && pathExists(root));
  });
});

Deno.test("Sysfs on the real /sys lists PCI functions without --allow-all (libc, not Deno's file APIs)", () => {
  const sysfs = new Sysfs();
  const names = sysfs.list("bus/pci/devices");
  for (const name of names.slice(0, 3)) {
    assert.match(sysfs.readText(`bus/pci/devices/${name}/vendor`) ?? "", /^0x[0-9a-f]{4}$/);
  }
});
