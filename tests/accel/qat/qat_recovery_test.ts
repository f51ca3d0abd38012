/**
 * Issue 11 item 4 on the gen4 VF model: a ring that stops answering, and a device reset under load (the function
 * vanishing and coming back, or a function-level reset behind the driver's back). In every case no request is
 * lost: the driver's watchdog gives every request in flight back with ENGINE_FAILED, the router re-runs it in
 * software and the guest gets the right answer (NIST SP 800-38A F.2.1, CBC-AES128); the failure is counted; and
 * once the device answers again the next session restarts it (a new epoch) and requests run on it again.
 *
 * The watchdog is real (timers of a few milliseconds); nothing asserts how long anything took.
 *
 * @module
 */

import assert from "node:assert/strict";
import { QatEngine } from "../../../src/accel/qat/mod.ts";
import { type CryptoOp, type EngineSession, PENDING, RouterEngine } from "../../../src/engine/mod.ts";
import { SoftwareEngine } from "../../../src/engine/software/mod.ts";
import { Status } from "../../../src/spec/virtio_crypto.ts";
import { buildOp, hex, read, toHex } from "../../engine/_helpers.ts";
import { AES_SP800_38A } from "../../../src/selftest/vectors/aes_sp800_38a.ts";
import { FakeQatVf } from "../../_fixtures/fake_qat_vf.ts";

const F21 = AES_SP800_38A.find((v) => v.id === "SP 800-38A F.2.1 CBC-AES128")!;
const LOAD = 12;

interface Rig {
  readonly model: FakeQatVf;
  readonly qat: QatEngine;
  readonly router: RouterEngine;
}

function rig(): Rig {
  const model = new FakeQatVf();
  const qat = QatEngine.open(model, {
    completions: "caller",
    requestTimeoutMs: 40,
    watchdogMs: 5,
    retryMs: 0,
  });
  return { model, qat, router: new RouterEngine(qat, new SoftwareEngine()) };
}

function session(router: RouterEngine): EngineSession {
  return router.createSession({ service: "cipher", algo: F21.algo, key: hex(F21.key), direction: 1 });
}

function operation(s: EngineSession): CryptoOp {
  return buildOp(s, { iv: hex(F21.iv), src: hex(F21.plaintext), dstLen: F21.plaintext.length / 2 });
}

// Submits LOAD requests; resolves with each one's status/ciphertext once all completed.
function underLoad(router: RouterEngine, s: EngineSession): { ops: CryptoOp[]; done: Promise<string[]> } {
  const ops = Array.from({ length: LOAD }, () => operation(s));
  const done = Promise.all(ops.map((op) =>
    new Promise<string>((resolve) => {
      op.complete = (_op, status) => resolve(`${status}/${toHex(read(op.dst))}`);
      const status = router.submit(op);
      if (status !== PENDING) resolve(`${status}/${toHex(read(op.dst))}`);
    })
  ));
  return { ops, done };
}

// One request served by the device itself (the model executes it).
function onDevice(r: Rig, s: EngineSession): string {
  const op = operation(s);
  let result = "";
  op.complete = (_op, status) => result = `${status}/${toHex(read(op.dst))}`;
  assert.equal(r.router.submit(op), PENDING);
  for (let i = 0; result === "" && i < 100; i++) {
    r.model.pump();
    r.qat.poll();
  }
  return result;
}

// The driver's watchdog timer does not keep the process alive (unref'd), so the test does while it waits.
async function settled<T>(p: Promise<T>): Promise<T> {
  const keep = setInterval(() => {}, 5);
  try {
    return await p;
  } finally {
    clearInterval(keep);
  }
}

const RIGHT = `${Status.OK}/${F21.ciphertext}`;

async function recovers(r: Rig, failure: RegExp, before: number): Promise<void> {
  assert.equal(r.qat.state, "failed");
  assert.equal(r.qat.stats().failures, 1);
  assert.match(r.qat.stats().lastFailure!, failure);
  assert.equal(r.router.stats.fallbacks.failed, LOAD);
  assert.equal(r.router.stats.softwareRequests, LOAD);
  await new Promise((resolve) => setTimeout(resolve, 1));
  const s = session(r.router); // the next session restarts the device
  assert.equal(r.qat.state, "ready");
  assert.equal(r.qat.stats().epoch, 2);
  assert.equal(onDevice(r, s), RIGHT);
  assert.equal(r.model.counts.requests, before + 1);
  assert.equal(r.router.stats.accelSessions, 2);
}

Deno.test("QAT ring that stops answering: the watchdog re-runs every request in software, then restarts", async () => {
  const r = rig();
  try {
    const s = session(r.router);
    r.model.hung = true;
    const { done } = underLoad(r.router, s);
    assert.deepEqual(await settled(done), Array(LOAD).fill(RIGHT));
    assert.equal(r.model.counts.requests, 0);
    r.model.hung = false;
    await recovers(r, /stopped answering: a request got no response within 40 ms/, 0);
  } finally {
    r.router.close();
    r.model.close();
  }
});

Deno.test("QAT reset under load (the function vanishes, then comes back): none lost, restarted", async () => {
  const r = rig();
  try {
    const s = session(r.router);
    assert.equal(onDevice(r, s), RIGHT);
    const { done } = underLoad(r.router, s);
    r.model.vanish(); // before the device took any of them
    assert.deepEqual(await settled(done), Array(LOAD).fill(RIGHT));
    assert.equal(r.qat.state, "failed");
    session(r.router); // still gone: no restart, the session is made in software
    assert.equal(r.router.stats.fallbacks.unavailable, 1);
    r.model.comeBack();
    assert.equal(r.router.stats.accelRequests, 1);
    await recovers(r, /vanished/, 1);
  } finally {
    r.router.close();
    r.model.close();
  }
});

Deno.test("QAT function-level reset behind the driver, under load: none lost, restarted", async () => {
  const r = rig();
  try {
    const s = session(r.router);
    const { done } = underLoad(r.router, s);
    r.qat.injectReset(); // the ring registers are cleared before the device took any request
    assert.deepEqual(await settled(done), Array(LOAD).fill(RIGHT));
    await recovers(r, /the function was reset \(ring \d config reads 0x0\)/, 0);
  } finally {
    r.router.close();
    r.model.close();
  }
});
