/**
 * Routing that is honest about speed (issue 11 item 7): the router's policies (`accel-first`, `fastest`,
 * `software`) with thresholds injected, and the start-up calibration on engines of known relative speed
 * (`TimedEngine`: a fake clock charged per request), so every assertion is about a decision, not a time. The
 * cryptography is real (OpenSSL) on both sides; answers are checked against NIST SP 800-38A F.2.1 (CBC-AES128).
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  allocHostMemory,
  CryptoOp,
  type EngineSession,
  formatCalibration,
  routeKey,
  RouterEngine,
  thresholdOf,
} from "../../src/engine/mod.ts";
import { SoftwareEngine } from "../../src/engine/software/mod.ts";
import { CipherAlgo, HashAlgo, MacAlgo, Status } from "../../src/spec/virtio_crypto.ts";
import { hex, toHex } from "./_helpers.ts";
import { type Cost, FakeClock, TimedEngine } from "./_timed_engine.ts";

// NIST SP 800-38A F.2.1 CBC-AES128.Encrypt.
const KEY = hex("2b7e151628aed2a6abf7158809cf4f3c");
const IV = hex("000102030405060708090a0b0c0d0e0f");
const PT = hex(
  "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710",
);
const CT = "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2" +
  "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7";

const CBC = "cipher/" + CipherAlgo.AES_CBC;

function cbcSession(router: RouterEngine): EngineSession {
  return router.createSession({ service: "cipher", algo: CipherAlgo.AES_CBC, key: KEY, direction: 1 });
}

// Encrypts the first `blocks` 16-byte blocks of F.2.1; returns status/ciphertext.
function encrypt(router: RouterEngine, session: EngineSession, blocks: number): string {
  const n = 16 * blocks;
  const put = (b: Uint8Array) => {
    const m = allocHostMemory(b.length);
    m.bytes.set(b);
    return m;
  };
  const op = new CryptoOp(4);
  op.session = session;
  op.iv.push(put(IV), 0, 16);
  op.src.push(put(PT.subarray(0, n)), 0, n);
  const dst = allocHostMemory(n);
  op.dst.push(dst, 0, n);
  const status = router.submit(op);
  if (status === -1) throw new Error("the test engines answer synchronously");
  return `${status}/${toHex(dst.bytes)}`;
}

const free: Cost = { fixedNs: 0, perByteNs: 0 };

interface Pair {
  readonly clock: FakeClock;
  readonly accel: TimedEngine;
  readonly router: RouterEngine;
}

function engines(clock = new FakeClock()): Pair {
  const accel = new TimedEngine("timed-accel", { clock, costs: {}, fallback: free, advertise: ["AES-CBC"] });
  return { clock, accel, router: new RouterEngine(accel, new SoftwareEngine(), { policy: "fastest" }) };
}

Deno.test("thresholdOf: the least size from which the accelerator wins at every larger size", () => {
  const p = (size: number, accelNs: number, softwareNs: number) => ({ size, accelNs, softwareNs });
  assert.equal(thresholdOf([p(64, 9, 1), p(1024, 9, 5), p(16384, 9, 50)]), 16384);
  assert.equal(thresholdOf([p(16384, 9, 50), p(64, 9, 1), p(1024, 9, 10)]), 1024); // order does not matter
  assert.equal(thresholdOf([p(64, 1, 9), p(1024, 1, 9)]), 0); // always the accelerator
  assert.equal(thresholdOf([p(64, 9, 1), p(1024, 9, 1)]), Infinity); // never
  assert.equal(thresholdOf([p(64, 1, 9), p(1024, 9, 1), p(4096, 1, 9)]), 4096); // a dip resets it
  assert.equal(thresholdOf([]), 0);
});

Deno.test("routeKey: single-algorithm services by id, chains and akcipher not calibrated", () => {
  assert.equal(routeKey({ service: "cipher", algo: CipherAlgo.AES_CBC, key: KEY, direction: 1 }), CBC);
  assert.equal(routeKey({ service: "hash", algo: HashAlgo.SHA_256, resultLen: 32 }), "hash/4");
  assert.equal(
    routeKey({ service: "akcipher", algo: 1, keyType: 1, key: KEY, padding: 0, hash: 0 }),
    null,
  );
});

Deno.test("fastest: below the threshold in software (counted), from it on the accelerator", () => {
  const { accel, router } = engines();
  router.setThresholds(new Map([[CBC, 48]]));
  try {
    const s = cbcSession(router);
    assert.equal(encrypt(router, s, 2), `${Status.OK}/${CT.slice(0, 64)}`);
    assert.deepEqual(accel.sizes, []); // 32 bytes < 48: software
    assert.equal(router.stats.fallbacks["software-faster"], 1);
    assert.equal(encrypt(router, s, 3), `${Status.OK}/${CT.slice(0, 96)}`);
    assert.equal(encrypt(router, s, 4), `${Status.OK}/${CT}`);
    assert.deepEqual(accel.sizes, [48, 64]);
    assert.equal(router.stats.accelRequests, 2);
    assert.equal(router.stats.softwareRequests, 1);
    assert.equal(router.stats.accelSessions, 1);
  } finally {
    router.close();
  }
});

Deno.test("fastest without a threshold for the algorithm, and accel-first with one: the accelerator", () => {
  const { accel, router } = engines();
  try {
    const s = cbcSession(router);
    assert.equal(encrypt(router, s, 1), `${Status.OK}/${CT.slice(0, 32)}`); // not calibrated yet
    router.setThresholds(new Map([[CBC, Infinity]]));
    router.setPolicy("accel-first");
    assert.equal(encrypt(router, s, 1), `${Status.OK}/${CT.slice(0, 32)}`);
    assert.deepEqual(accel.sizes, [16, 16]);
    assert.equal(router.stats.fallbacks["software-faster"], 0);
    router.setPolicy("fastest");
    assert.equal(encrypt(router, s, 4), `${Status.OK}/${CT}`); // Infinity: software at every size
    assert.deepEqual(accel.sizes, [16, 16]);
    assert.equal(router.stats.fallbacks["software-faster"], 1);
  } finally {
    router.close();
  }
});

Deno.test("software: every session in software, counted per session; the accelerator serves nothing", () => {
  const clock = new FakeClock();
  const accel = new TimedEngine("timed-accel", { clock, costs: {}, fallback: free, advertise: ["AES-CBC"] });
  const router = new RouterEngine(accel, new SoftwareEngine(), { policy: "software" });
  try {
    const s = cbcSession(router);
    assert.equal(encrypt(router, s, 4), `${Status.OK}/${CT}`);
    cbcSession(router);
    assert.deepEqual(accel.sizes, []);
    assert.equal(router.stats.fallbacks["policy-software"], 2);
    assert.equal(router.stats.accelSessions, 0);
    assert.equal(router.stats.policy, "software");
  } finally {
    router.close();
  }
  const alone = new RouterEngine(null, new SoftwareEngine(), { policy: "software" });
  cbcSession(alone);
  assert.equal(alone.stats.fallbacks["policy-software"], 0); // no accelerator: nothing was routed away
  alone.close();
});

// The accelerator has a large fixed cost and a small per-byte one; software the reverse for AES-CBC and SHA-256,
// and is cheaper at every size for HMAC-SHA256.
const ACCEL: Record<string, Cost> = {
  "AES-CBC": { fixedNs: 5000, perByteNs: 0.05 },
  "SHA-256": { fixedNs: 5000, perByteNs: 0.05 },
  "HMAC-SHA256": { fixedNs: 5000, perByteNs: 1 },
};
const SOFT: Record<string, Cost> = {
  "AES-CBC": { fixedNs: 100, perByteNs: 0.5 }, // 612 ns at 1 KiB, 8292 at 16 KiB: accel (5819) from 16 KiB
  "SHA-256": { fixedNs: 100, perByteNs: 8 }, // 8292 ns at 1 KiB: accel (5051) from 1 KiB
  "HMAC-SHA256": { fixedNs: 100, perByteNs: 0.5 },
};

function calibrated(async: boolean): Pair {
  const clock = new FakeClock();
  const advertise = ["AES-CBC", "SHA-256", "HMAC-SHA256"];
  const accel = new TimedEngine("timed-accel", { clock, costs: ACCEL, advertise, async });
  const soft = new TimedEngine("timed-soft", { clock, costs: SOFT });
  return { clock, accel, router: new RouterEngine(accel, soft, { policy: "fastest" }) };
}

for (const async of [false, true]) {
  Deno.test(`calibrate(): thresholds from engines of known speed (accelerator ${async ? "async" : "sync"})`, async () => {
    const { clock, accel, router } = calibrated(async);
    try {
      const results = await router.calibrate({ now: clock.now, sizes: [64, 1024, 16384], requests: 4 });
      assert.deepEqual(results.map((r) => [r.name, r.threshold, r.problem]), [
        ["AES-CBC", 16384, null],
        ["SHA-256", 1024, null],
        ["HMAC-SHA256", Infinity, null],
      ]);
      assert.deepEqual([...router.thresholds], [[CBC, 16384], ["hash/4", 1024], [
        "mac/" + MacAlgo.HMAC_SHA_256,
        Infinity,
      ]]);
      assert.deepEqual(router.stats.thresholds, { [CBC]: 16384, "hash/4": 1024, "mac/4": null });
      const cbc = results[0]!.points[1]!;
      assert.ok(Math.abs(cbc.accelNs - 5051.2) < 1e-6 && Math.abs(cbc.softwareNs - 612) < 1e-6);
      assert.match(
        formatCalibration(results[0]!),
        /^AES-CBC: 64 B accelerator 5\.0 us software 0\.1 us, .*software below 16 KiB$/,
      );
      assert.match(formatCalibration(results[2]!), /fastest: software at every size$/);
      assert.equal(router.stats.accelRequests + router.stats.softwareRequests, 0); // the run is not counted
      // warm-up (4) and timed (4) requests at each of the three sizes, per algorithm
      assert.equal(accel.sizes.filter((n) => n === 1024).length, 3 * 8);
      const s = cbcSession(router);
      encrypt(router, s, 4);
      assert.equal(router.stats.fallbacks["software-faster"], 1);
    } finally {
      router.close();
    }
  });
}

Deno.test("calibrate(): an accelerator that fails or never answers leaves its algorithms accelerator-first", async () => {
  for (const script of [{ fail: true }, { hang: true, async: true }]) {
    const clock = new FakeClock();
    const advertise = ["AES-CBC", "AES-CTR"];
    const accel = new TimedEngine("timed-accel", { clock, costs: {}, advertise, ...script });
    const router = new RouterEngine(accel, new SoftwareEngine(), { policy: "fastest" });
    try {
      const results = await router.calibrate({ now: clock.now, requests: 1, timeoutMs: 30 });
      const r = results[0];
      assert.equal(r!.threshold, 0);
      assert.match(
        r!.problem!,
        script.fail ? /timed-accel answered status -2/ : /did not answer within 30 ms/,
      );
      assert.match(formatCalibration(r!), /^AES-CBC: not measured \(.*\); accelerator first$/);
      assert.equal(router.thresholds.size, 0);
      // A failing accelerator is tried for each algorithm (one warm-up request each, which fails); a hung one
      // is not waited for again: AES-CTR was never submitted.
      assert.equal(accel.sizes.length, script.fail ? 2 : 1);
      assert.match(results[1]!.problem!, script.fail ? /answered status -2/ : /did not answer within 30 ms/);
    } finally {
      router.close();
    }
  }
});
