/**
 * The self-test library on the device models (test doubles; the QAT driver has not run on hardware): every
 * advertised algorithm's published vectors on the accelerator itself (SP 800-38A, the GCM specification's test
 * cases, FIPS 180-4, RFC 4231, the chained CBC + HMAC case), speed samples at 64 B and 4 KiB, and what it
 * reports for a device that answers wrongly, fails a request, refuses sessions, or does not advertise.
 *
 * No timing is asserted: a speed figure only has to exist.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type AlgorithmReport, selftestDevice, type SelftestReport } from "../../src/selftest/mod.ts";
import { HashAlgo, MacAlgo } from "../../src/spec/virtio_crypto.ts";
import { INVALID_PARAM } from "../_fixtures/fake_qat_la.ts";
import { FULL_VIRTIO, macSessions, QAT_BDF, qatModel, VIRTIO_BDF, virtioModel } from "./_models.ts";

const EXPECTED_ROWS = ["AES-CBC", "AES-CTR", "SHA256", "HMAC-SHA256", "AES-GCM", "AES-CBC + HMAC-SHA256"];

function row(report: SelftestReport, name: string): AlgorithmReport {
  const r = report.algorithms.find((a) => a.name === name);
  assert.ok(r !== undefined, `no row ${name} in ${report.algorithms.map((a) => a.name)}`);
  return r;
}

Deno.test("selftest on the QAT gen4 VF model: every claimed algorithm passes its vectors on the device, with speed samples", async () => {
  const { model, open } = qatModel();
  const report = await selftestDevice(QAT_BDF, { open, durationMs: 5, version: "test" });
  assert.deepEqual(report.algorithms.map((a) => a.name), EXPECTED_ROWS);
  assert.deepEqual(report.algorithms.map((a) => a.result), EXPECTED_ROWS.map(() => "pass"));
  // AES-CBC: SP 800-38A F.2.1, F.2.3, F.2.5 each encrypted and decrypted; HMAC: RFC 4231 cases 1-7;
  // GCM: the eight 96-bit-IV non-empty test cases, sealed, opened, and refused with a forged tag.
  assert.deepEqual(row(report, "AES-CBC").vectors, { run: 6, passed: 6 });
  assert.deepEqual(row(report, "SHA256").vectors, { run: 2, passed: 2 });
  assert.deepEqual(row(report, "HMAC-SHA256").vectors, { run: 7, passed: 7 });
  assert.deepEqual(row(report, "AES-GCM").vectors, { run: 24, passed: 24 });
  assert.deepEqual(row(report, "AES-CBC + HMAC-SHA256").vectors, { run: 2, passed: 2 });
  for (const a of report.algorithms) {
    assert.deepEqual(a.speed.map((s) => s.size), [64, 4096], a.name);
    for (const s of a.speed) {
      assert.ok(s.deviceOpsPerSec! > 0 && s.softwareOpsPerSec! > 0, `${a.name} measured at ${s.size}`);
      assert.equal(s.ratio, s.deviceOpsPerSec! / s.softwareOpsPerSec!);
    }
  }
  assert.equal(row(report, "AES-CBC").measuredWith, "SP 800-38A F.2.1 CBC-AES128 (encrypt)");
  assert.equal(report.passed, true);
  assert.deepEqual(report.counts, { pass: 6, mismatch: 0, error: 0, refused: 0, skipped: 0 });
  assert.equal(report.kind, "qat-gen4-vf");
  assert.equal(report.accelerator.failures, 0);
  // Every vector and speed request reached the model's rings: none was declined to software.
  assert.ok(model.counts.requests > 43, `${model.counts.requests} requests on the model`);
});

Deno.test("selftest on a virtio-crypto model runs what it advertises (in its id order), SHA-1 and AES-XTS included", async () => {
  const { open } = virtioModel(FULL_VIRTIO);
  const report = await selftestDevice(VIRTIO_BDF, { open, durationMs: 0 });
  assert.deepEqual(
    report.algorithms.map((a) => `${a.name} ${a.result}`),
    [
      "AES-CBC pass",
      "AES-CTR pass",
      "AES-XTS pass",
      "SHA1 pass",
      "SHA-256 pass",
      "HMAC-SHA256 pass",
      "AES-GCM pass",
      "AES-CBC + HMAC-SHA256 pass",
    ],
  );
  assert.ok(report.algorithms.every((a) => a.speed.length === 0 && a.measuredWith === null), "--duration 0");
  assert.equal(report.passed, true);
});

Deno.test("selftest reports MISMATCH for a device that answers one algorithm wrongly, and only for it", async () => {
  const { open } = virtioModel({ ...FULL_VIRTIO, corrupt: macSessions(MacAlgo.HMAC_SHA_256) });
  const report = await selftestDevice(VIRTIO_BDF, { open, durationMs: 2 });
  const mac = row(report, "HMAC-SHA256");
  assert.equal(mac.result, "mismatch");
  assert.deepEqual(mac.vectors, { run: 7, passed: 0 });
  assert.match(
    mac.detail!,
    /^RFC 4231 HMAC-SHA256 test case 1: digest 4f344c61d8db3853\w+, expected b0344c61d8db3853\w+ \(and 6 more\)$/,
  );
  assert.equal(mac.speed.length, 2, "a device that answers wrongly is still timed");
  assert.equal(report.passed, false);
  assert.equal(report.counts.mismatch, 1);
  // The chain's MAC is a chain session, not a MAC session: the model answers it right.
  assert.equal(row(report, "AES-CBC + HMAC-SHA256").result, "pass");
});

Deno.test("selftest reports ERROR when the device fails a request (an error bit in its response)", async () => {
  const { model, open } = qatModel();
  model.failNext(1, INVALID_PARAM); // the first vector: SP 800-38A F.2.1 encryption
  const report = await selftestDevice(QAT_BDF, { open, durationMs: 0 });
  const cbc = row(report, "AES-CBC");
  assert.equal(cbc.result, "error");
  assert.deepEqual(cbc.vectors, { run: 6, passed: 5 });
  assert.match(
    cbc.detail!,
    /^SP 800-38A F\.2\.1 CBC-AES128 \(encrypt\): the accelerator gave the request back/,
  );
  assert.equal(row(report, "AES-CTR").result, "pass");
  assert.equal(report.passed, false);
});

Deno.test("selftest on QEMU's built-in back-end: what its probe refused is 'refused', the rest 'skipped', and it passes", async () => {
  const { open } = virtioModel({ hash: [HashAlgo.SHA1, HashAlgo.SHA_256] });
  const report = await selftestDevice(VIRTIO_BDF, { open, durationMs: 0 });
  assert.deepEqual(report.refusedAtOpen, ["SHA1", "SHA-256"]);
  const results = Object.fromEntries(report.algorithms.map((a) => [a.name, a.result]));
  assert.deepEqual(results, {
    "AES-CBC": "pass",
    "AES-CTR": "skipped",
    "SHA1": "refused",
    "SHA-256": "refused",
    "HMAC-SHA256": "skipped",
    "AES-GCM": "skipped",
    "AES-CBC + HMAC-SHA256": "skipped",
  });
  assert.equal(row(report, "AES-GCM").detail, "not advertised by the device");
  assert.equal(report.passed, true, "refused and skipped do not fail the run");
});
