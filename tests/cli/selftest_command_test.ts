/**
 * `cryptobridge selftest`: the table and the JSON report on the QAT gen4 VF and virtio-crypto models (opened
 * through `openAccelerator`'s ports; the kind read from a fake sysfs tree), exit code 1 when a wrong-answer
 * model makes an algorithm MISMATCH, exit code 3 with one line when the function cannot be opened (not on
 * vfio-pci, a QAT PF, no such function), and usage errors.
 *
 * @module
 */

import assert from "node:assert/strict";
import { selftest, type SelftestCommandOptions } from "../../src/cli/selftest.ts";
import { MacAlgo } from "../../src/spec/virtio_crypto.ts";
import { Sysfs } from "../../src/os/mod.ts";
import type { SelftestReport } from "../../src/selftest/mod.ts";
import { buildFakeSysfs, type FakeMachine } from "../pci/_fake_sysfs.ts";
import { FULL_VIRTIO, macSessions, QAT_BDF, qatModel, VIRTIO_BDF, virtioModel } from "../selftest/_models.ts";
import { type CliRun, runCli } from "./_run_cli.ts";

const HOST: FakeMachine = {
  functions: [
    { bdf: VIRTIO_BDF, vendor: 0x1af4, device: 0x1054, classCode: 0x00ff00, driver: "virtio-pci", group: 4 },
    {
      bdf: "0000:6b:00.0",
      vendor: 0x8086,
      device: 0x4940,
      classCode: 0x0b4000,
      driver: "qat_4xxx",
      group: 6,
    },
    { bdf: QAT_BDF, vendor: 0x8086, device: 0x4941, classCode: 0x0b4000, driver: "vfio-pci", group: 7 },
  ],
};

async function withTree(body: (root: string) => Promise<void>): Promise<void> {
  const root = buildFakeSysfs(HOST);
  try {
    await body(root);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
}

// The command with a device model behind it, output captured as runCli captures main()'s.
async function run(args: string[], options: SelftestCommandOptions): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => void out.push(a.join(" "));
  console.error = (...a: unknown[]) => void err.push(a.join(" "));
  try {
    const code = await selftest(args, options);
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

Deno.test("selftest --device on the QAT model (kind from sysfs) prints the table and passes", async () => {
  await withTree(async (root) => {
    const { open } = qatModel();
    const r = await run(["--device", QAT_BDF, "--duration", "2", "--depth", "4"], {
      open: { sysfs: new Sysfs(root), ports: open.ports! },
    });
    assert.equal(r.code, 0, r.err);
    const lines = r.out.split("\n");
    assert.match(lines[0]!, /^cryptobridge \S+ selftest of 0000:6b:00\.1 \(QAT gen4 VF, qat-gen4 /);
    assert.match(lines[1]!, /; ops\/s over 2 ms per measurement, 4 in flight on the device$/);
    assert.match(lines[2]!, /^Software engine: OpenSSL /);
    assert.match(
      r.out,
      /\nALGORITHM +RESULT +VECTORS +DEVICE 64 B +SOFTWARE 64 B +RATIO +DEVICE 4 KiB +SOFTWARE 4 KiB +RATIO\n/,
    );
    assert.match(r.out, /\nAES-GCM +pass +24\/24 +\S/);
    assert.match(r.out, /\nAES-CBC \+ HMAC-SHA256 +pass +2\/2 /);
    assert.match(r.out, /\nResult: PASS: no mismatch and no error \(6 passed, 0 refused, 0 skipped\)\n/);
    assert.match(r.out, /Send this output \(or --json\) back .* `cryptobridge info 0000:6b:00\.1`/);
  });
});

Deno.test("selftest --json prints one report object: per algorithm result, vectors and speed samples", async () => {
  const { open } = virtioModel(FULL_VIRTIO);
  const r = await run(["--device", "00:04.0", "--json", "--duration", "1"], { open });
  assert.equal(r.code, 0, r.err);
  const report = JSON.parse(r.out) as SelftestReport;
  assert.deepEqual(Object.keys(report), [
    "version",
    "device",
    "kind",
    "engine",
    "software",
    "durationMs",
    "depth",
    "refusedAtOpen",
    "algorithms",
    "accelerator",
    "counts",
    "passed",
  ]);
  assert.equal(report.device, VIRTIO_BDF);
  assert.equal(report.kind, "virtio-crypto");
  assert.equal(report.depth, 16);
  assert.equal(report.passed, true);
  const cbc = report.algorithms[0]!;
  assert.deepEqual(Object.keys(cbc), [
    "name",
    "service",
    "algo",
    "advertised",
    "result",
    "vectors",
    "detail",
    "measuredWith",
    "speed",
  ]);
  assert.deepEqual([cbc.name, cbc.service, cbc.algo, cbc.result], ["AES-CBC", "cipher", 3, "pass"]);
  assert.deepEqual(Object.keys(cbc.speed[0]!), ["size", "deviceOpsPerSec", "softwareOpsPerSec", "ratio"]);
  assert.deepEqual(cbc.speed.map((s) => s.size), [64, 4096]);
});

Deno.test("selftest exits 1 and says MISMATCH when the device answers an algorithm wrongly", async () => {
  const { open } = virtioModel({ ...FULL_VIRTIO, corrupt: macSessions(MacAlgo.HMAC_SHA_256) });
  const r = await run(["--device", VIRTIO_BDF, "--duration", "0"], { open });
  assert.equal(r.code, 1);
  assert.match(r.out, /\nHMAC-SHA256 +MISMATCH +0\/7\n/);
  assert.match(
    r.out,
    /\n {2}HMAC-SHA256: RFC 4231 HMAC-SHA256 test case 1: digest 4f34\w+, expected b034\w+/,
  );
  assert.match(r.out, /\nResult: FAIL: 1 mismatch\(es\), 0 error\(s\) \(7 passed, 0 refused, 0 skipped\)\n/);
  assert.doesNotMatch(r.out, /DEVICE 64 B/, "--duration 0: no speed columns");
});

Deno.test("selftest exits 3 with one line when the function cannot be opened", async () => {
  await withTree(async (root) => {
    const notBound = await runCli(["selftest", "--device", VIRTIO_BDF, "--sysfs", root]);
    assert.equal(notBound.code, 3);
    assert.equal(
      notBound.err,
      "cryptobridge: selftest cannot open 0000:00:04.0: Cannot open 0000:00:04.0 through VFIO: it is on " +
        "virtio-pci: run `cryptobridge bind 0000:00:04.0` first",
    );
    assert.equal(notBound.out, "");
    const pf = await runCli(["selftest", "--device", "0000:6b:00.0", "--sysfs", root]);
    assert.equal(pf.code, 3);
    assert.match(pf.err, /^cryptobridge: selftest cannot open 0000:6b:00\.0: .*sriov_numvfs.*bind` a VF$/);
    const missing = await runCli(["selftest", "--device", "0000:99:00.0", "--sysfs", root]);
    assert.equal(missing.code, 3);
    assert.match(
      missing.err,
      /^cryptobridge: selftest cannot open 0000:99:00\.0: No PCI function 0000:99:00\.0/,
    );
  });
});

Deno.test("selftest usage: --device is required, a bare address is pointed at --device, ranges are checked", async () => {
  const none = await runCli(["selftest"]);
  assert.equal(none.code, 2);
  assert.match(none.err, /selftest needs --device BDF: run `cryptobridge list`/);
  const bare = await runCli(["selftest", "0000:00:04.0"]);
  assert.equal(bare.code, 2);
  assert.match(bare.err, /did you mean `cryptobridge selftest --device 0000:00:04\.0`\?/);
  const depth = await runCli(["selftest", "--device", VIRTIO_BDF, "--depth", "65"]);
  assert.equal(depth.code, 2);
  assert.match(depth.err, /--depth must be an integer from 1 to 64: current value is 65/);
  const help = await runCli(["selftest", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.out, /^cryptobridge selftest: .*\n\nUsage: cryptobridge selftest --device BDF/);
  assert.match(
    help.out,
    /Exit codes: 0 no mismatch and no error, 1 a mismatch or an error, 2 a usage error, 3/,
  );
  assert.match((await runCli(["--help"])).out, /\n {2}selftest {3}known-answer vectors/);
});
