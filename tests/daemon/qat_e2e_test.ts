/**
 * Issue 11, end to end: the daemon with the QAT gen4 VF model as its accelerator (the VF on the main thread, the
 * VM on its own thread driving a ring pair of its own, as `serve --device` serves a QAT VF), driven by the
 * project's own vhost-user front-end over a real unix socket and memfd guest RAM. Published known-answer vectors go through the guest's rings: AES-CBC and AES-CTR (NIST
 * SP 800-38A F.2.1, F.5.1), AES-GCM (GCM spec test case 4, adopted by SP 800-38D), HMAC-SHA-256 (RFC 4231 test
 * case 2), which the QAT path claims, and SHA-1 (FIPS 180-4), which it does not, so the router serves it in
 * software. Every output is checked against its vector; the router's counters, the model's own request count
 * and the control socket's `status` say which path served what.
 *
 * The faults: a response with an error bit, and a ring that stops answering (the driver's watchdog gives the
 * request back); in both the guest gets the vector's answer, served in software, and the report (and, for the
 * device failure, the metrics scrape) shows it. Last, `accelerator.reset` over the control socket: the reset is
 * found by the host's watchdog, the guest's answer comes from software, and a session made after the host's
 * retry time restarts the VF (epoch 2) and runs on it again.
 * Nothing asserts how long anything took.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { AcceleratorReport } from "../../src/control/mod.ts";
import { aeadRequest, cipherRequest, hashRequest, macRequest } from "../../src/frontend/mod.ts";
import { AES_SP800_38A } from "../../src/selftest/vectors/aes_sp800_38a.ts";
import { GCM_VECTORS } from "../../src/selftest/vectors/gcm_sp800_38d.ts";
import { HMAC_RFC4231 } from "../../src/selftest/vectors/hmac_rfc4231.ts";
import { SHA_FIPS180 } from "../../src/selftest/vectors/sha_fips180.ts";
import { AeadAlgo, CipherAlgo, HashAlgo, MacAlgo, Status } from "../../src/spec/virtio_crypto.ts";
import { ctrlSession, hex, send, toHex, vector } from "../integration/_daemon.ts";
import type { VirtioCryptoDriver } from "../../src/frontend/mod.ts";
import { parseExposition, valueOf } from "../metrics/_parse.ts";
import { QAT_BDF, startQatRig } from "./_qat_rig.ts";

const CBC = vector(AES_SP800_38A, "SP 800-38A F.2.1 CBC-AES128");
const CTR = vector(AES_SP800_38A, "SP 800-38A F.5.1 CTR-AES128");
const GCM = vector(GCM_VECTORS, "GCM spec test case 4");
const HMAC = vector(HMAC_RFC4231, "RFC 4231 HMAC-SHA256 test case 2");
const SHA1 = vector(SHA_FIPS180, "FIPS 180-4 SHA-1 one-block (abc)");

// CBC encryption of F.2.1 on a session of its own; gives the ciphertext (status checked).
async function cbcEncrypt(d: VirtioCryptoDriver, id: bigint): Promise<string> {
  const r = await send(d, cipherRequest(id, true, hex(CBC.iv), CBC.plaintext.length / 2), {
    iv: hex(CBC.iv),
    src_data: hex(CBC.plaintext),
  });
  assert.equal(r.status, Status.OK);
  return toHex(r.out.dst_data!);
}

Deno.test("daemon on the QAT model: vectors through the guest's rings; QAT algorithms on the VF, SHA-1 in software; status shows the QAT", async () => {
  await using rig = await startQatRig();
  const d = rig.driver;

  const cbc = await ctrlSession(d, { service: "cipher", algo: CipherAlgo.AES_CBC, key: hex(CBC.key), op: 1 });
  assert.equal(await cbcEncrypt(d, cbc), CBC.ciphertext);
  const cbcDecrypt = await ctrlSession(d, {
    service: "cipher",
    algo: CipherAlgo.AES_CBC,
    key: hex(CBC.key),
    op: 2,
  });
  const plain = await send(d, cipherRequest(cbcDecrypt, false, hex(CBC.iv), 64), {
    iv: hex(CBC.iv),
    src_data: hex(CBC.ciphertext),
  });
  assert.equal(plain.status, Status.OK);
  assert.equal(toHex(plain.out.dst_data!), CBC.plaintext);

  const ctr = await ctrlSession(d, { service: "cipher", algo: CipherAlgo.AES_CTR, key: hex(CTR.key), op: 1 });
  const c = await send(d, cipherRequest(ctr, true, hex(CTR.iv), 64), {
    iv: hex(CTR.iv),
    src_data: hex(CTR.plaintext),
  });
  assert.equal(c.status, Status.OK);
  assert.equal(toHex(c.out.dst_data!), CTR.ciphertext);

  const aadLen = GCM.aad.length / 2;
  const gcm = await ctrlSession(d, {
    service: "aead",
    algo: AeadAlgo.GCM,
    key: hex(GCM.key),
    tagLen: 16,
    aadLen,
    op: 1,
  });
  const pt = hex(GCM.plaintext);
  const a = await send(
    d,
    aeadRequest(gcm, true, { ivLen: 12, aadLen, srcLen: pt.length, dstLen: pt.length + 16, tagLen: 16 }),
    { iv: hex(GCM.nonce), src_data: pt, aad: hex(GCM.aad) },
  );
  assert.equal(a.status, Status.OK);
  assert.equal(toHex(a.out.dst_data!), GCM.ciphertext + GCM.tag);

  const mac = await ctrlSession(d, {
    service: "mac",
    algo: MacAlgo.HMAC_SHA_256,
    resultLen: 32,
    key: hex(HMAC.key),
  });
  const m = await send(d, macRequest(mac, HMAC.message.length / 2, 32), { src_data: hex(HMAC.message) });
  assert.equal(m.status, Status.OK);
  assert.equal(toHex(m.out.hash_result!), HMAC.mac);

  const onDevice = rig.model.counts.requests;
  assert.equal(onDevice, 5, "the model executed the five QAT-capable requests itself");

  // SHA-1: the QAT path does not claim it, so the router creates its session in software.
  const sha1 = await ctrlSession(d, { service: "hash", algo: HashAlgo.SHA1, resultLen: 20 });
  const h = await send(d, hashRequest(sha1, SHA1.message.length / 2, 20), { src_data: hex(SHA1.message) });
  assert.equal(h.status, Status.OK);
  assert.equal(toHex(h.out.hash_result!), SHA1.digest);
  assert.equal(rig.model.counts.requests, onDevice, "SHA-1 never reached the device");

  const router = await rig.router();
  assert.equal(router.accelRequests, 5);
  assert.equal(router.softwareRequests, 1);
  assert.equal(router.accelSessions, 5);
  assert.equal(router.fallbacks["not-advertised"], 1);
  assert.equal(router.fallbacks.failed, 0);

  const vm = await rig.vmStats();
  assert.deepEqual(vm.byPath.accelerator, { requests: 5, sessions: 5 });
  assert.deepEqual(vm.byPath.software, { requests: 1, sessions: 1 });
  assert.equal(vm.byStatus["ok"], 6);

  const report = await rig.accelerator();
  assert.equal(report.kind, "qat-gen4-vf");
  assert.equal(report.device, QAT_BDF);
  assert.equal(report.state, "ready");
  assert.equal(report.epoch, 1);
  assert.equal(report.sessions, 5);
  assert.equal(report.inflight, 0);
  assert.equal(report.completed, 5);
  assert.ok(report.completed > 0);
  assert.equal(report.failed, 0);
  assert.equal(report.failures, 0);
  assert.equal(report.lastFailure, null);
  assert.equal(report.bounced, 0, "guest RAM is mapped for the device: zero copy");
  assert.equal(report.qat?.ringPairs, 1);
  assert.ok(report.qat!.services.includes("sym"));
  assert.ok(report.qat!.doorbells >= 1);
  assert.ok(report.qat!.interrupts >= 1, "completions came by MSI-X through the daemon's reactor");
  const scraped = parseExposition(await rig.scrape());
  const up = "cryptobridge_accelerator_up";
  assert.equal(valueOf(scraped, up, up, { device: QAT_BDF }), 1);
});

Deno.test("daemon on the QAT model: a response with an error bit is re-run in software; the guest gets the vector; status counts it", async () => {
  await using rig = await startQatRig();
  const d = rig.driver;
  const cbc = await ctrlSession(d, { service: "cipher", algo: CipherAlgo.AES_CBC, key: hex(CBC.key), op: 1 });
  rig.model.failNext(1, 0x10); // the translation-error bit
  assert.equal(await cbcEncrypt(d, cbc), CBC.ciphertext);
  assert.equal(rig.model.counts.injected, 1, "the request reached the device and was answered with the bit");
  assert.equal((await rig.router()).fallbacks.failed, 1);
  assert.equal((await rig.router()).softwareRequests, 1);

  assert.equal(await cbcEncrypt(d, cbc), CBC.ciphertext); // the next one on the device again
  assert.equal((await rig.router()).accelRequests, 1);
  const report = await rig.accelerator();
  assert.equal(report.kind, "qat-gen4-vf");
  assert.equal(report.failed, 1);
  assert.equal(report.completed, 1);
  assert.equal(report.state, "ready", "one bad response is that request's failure, not the device's");
  const vm = await rig.vmStats();
  assert.equal(vm.fallbacks["failed"], 1);
  assert.equal(vm.byStatus["ok"], 2);
});

Deno.test("daemon on the QAT model: a ring that stops answering fails the device; the guest gets the vector from software; status shows the failure", async () => {
  await using rig = await startQatRig();
  const d = rig.driver;
  const cbc = await ctrlSession(d, { service: "cipher", algo: CipherAlgo.AES_CBC, key: hex(CBC.key), op: 1 });
  assert.equal(await cbcEncrypt(d, cbc), CBC.ciphertext);
  rig.model.hung = true;
  // Answered once the driver's watchdog gives the request back (its default request timeout) and the router
  // re-runs it in software.
  assert.equal(await cbcEncrypt(d, cbc), CBC.ciphertext);
  assert.equal((await rig.router()).fallbacks.failed, 1);

  const report = await rig.accelerator();
  assert.equal(report.kind, "qat-gen4-vf");
  assert.equal(report.state, "failed");
  assert.equal(report.failures, 1);
  assert.match(report.lastFailure ?? "", /stopped answering/);
  assert.equal(report.failed, 1);
  assert.equal(report.inflight, 0, "nothing is left on the dead ring");
  assert.equal(report.qat?.ringPairs, 0, "the ring pair is stopped");
  const scraped = parseExposition(await rig.scrape());
  const device = { device: QAT_BDF };
  const gauge = (name: string): number | undefined => valueOf(scraped, name, name, device);
  assert.equal(gauge("cryptobridge_accelerator_failures_total"), 1);
  assert.equal(gauge("cryptobridge_accelerator_up"), 0);

  // While it is down the session's requests go straight to software, still right.
  assert.equal(await cbcEncrypt(d, cbc), CBC.ciphertext);
  const vm = await rig.vmStats();
  assert.equal(vm.byStatus["ok"], 3);
  assert.deepEqual(vm.byPath.accelerator.requests + vm.byPath.software.requests, 3);
});

Deno.test("daemon on the QAT model: accelerator.reset over the control socket; the guest keeps its answers, status shows the failure, a later session restarts the VF", async () => {
  await using rig = await startQatRig();
  const d = rig.driver;
  const cbc = await ctrlSession(d, { service: "cipher", algo: CipherAlgo.AES_CBC, key: hex(CBC.key), op: 1 });
  assert.equal(await cbcEncrypt(d, cbc), CBC.ciphertext);
  const reset = await rig.client.call<AcceleratorReport>("accelerator.reset");
  assert.equal(reset.kind, "qat-gen4-vf");
  // The reset ring never answers: the host's watchdog finds the function reset, the request is re-run in software.
  assert.equal(await cbcEncrypt(d, cbc), CBC.ciphertext);
  const down = await rig.accelerator();
  assert.equal(down.state, "failed");
  assert.equal(down.failures, 1);
  assert.match(down.lastFailure ?? "", /reset/);
  assert.equal(down.qat?.ringPairs, 0);

  await new Promise((r) => setTimeout(r, 1100)); // the host's retryMs (default 1000 ms)
  const executed = rig.model.counts.requests;
  const again = await ctrlSession(d, {
    service: "cipher",
    algo: CipherAlgo.AES_CBC,
    key: hex(CBC.key),
    op: 1,
  });
  assert.equal(await cbcEncrypt(d, again), CBC.ciphertext);
  assert.equal(rig.model.counts.requests, executed + 1, "the new session's request ran on the restarted VF");
  const up = await rig.accelerator();
  assert.deepEqual([up.state, up.epoch, up.resets, up.qat?.ringPairs], ["ready", 2, 1, 1]);
  const vm = await rig.vmStats();
  assert.equal(vm.byStatus["ok"], 3);
});

Deno.test("daemon on the QAT model: a GCM tag the VF finds wrong is BADMSG from the VM's ring pair, the right one decrypts", async () => {
  await using rig = await startQatRig();
  const d = rig.driver;
  const aadLen = GCM.aad.length / 2;
  const gcm = await ctrlSession(d, {
    service: "aead",
    algo: AeadAlgo.GCM,
    key: hex(GCM.key),
    tagLen: 16,
    aadLen,
    op: 2,
  });
  const decrypt = async (ctTag: Uint8Array) =>
    await send(
      d,
      aeadRequest(gcm, false, {
        ivLen: 12,
        aadLen,
        srcLen: ctTag.length,
        dstLen: ctTag.length - 16,
        tagLen: 16,
      }),
      { iv: hex(GCM.nonce), src_data: ctTag, aad: hex(GCM.aad) },
    );
  const wrong = hex(GCM.ciphertext + GCM.tag);
  wrong[wrong.length - 1]! ^= 0x01;
  assert.equal((await decrypt(wrong)).status, Status.BADMSG);
  const right = await decrypt(hex(GCM.ciphertext + GCM.tag));
  assert.equal(right.status, Status.OK);
  assert.equal(toHex(right.out.dst_data!), GCM.plaintext);
  assert.equal(rig.model.counts.requests, 2, "the VF checked both tags itself");
  const router = await rig.router();
  assert.deepEqual([router.accelRequests, router.softwareRequests, router.fallbacks.failed], [2, 0, 0]);
  const vm = await rig.vmStats();
  assert.deepEqual([vm.byStatus["badmsg"], vm.byStatus["ok"]], [1, 1]);
});
