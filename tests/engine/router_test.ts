/**
 * RouterEngine: routing per session by capability, fallback to software by reason, re-run of failed requests.
 *
 * The "accelerator" here is `ScriptedAccelerator`, a test double around the real SoftwareEngine (real crypto)
 * that advertises a chosen subset and can refuse sessions, run out of them, fail requests or complete them
 * asynchronously, as a real device does (QEMU's built-in back-end advertises HASH and MAC yet refuses those
 * sessions and holds 256 sessions at most: guest-lab.md). It stands in only because no accelerator exists on
 * the host; the real virtio-pci accelerator is exercised in the guest (tests/guest).
 *
 * @module
 */

import assert from "node:assert/strict";
import { CipherAlgo, HashAlgo, MacAlgo, Status } from "../../src/spec/virtio_crypto.ts";
import {
  allocHostMemory,
  type Capabilities,
  type CryptoEngine,
  CryptoOp,
  ENGINE_FAILED,
  EngineError,
  type EngineSession,
  PENDING,
  RouterEngine,
  type SessionParams,
} from "../../src/engine/mod.ts";
import { SoftwareEngine } from "../../src/engine/software/mod.ts";
import { hex, toHex } from "./_helpers.ts";

// NIST SP 800-38A F.2.1 CBC-AES128.Encrypt, first block.
const KEY = hex("2b7e151628aed2a6abf7158809cf4f3c");
const IV = hex("000102030405060708090a0b0c0d0e0f");
const PT = hex("6bc1bee22e409f96e93d7e117393172a");
const CT = "7649abac8119b246cee98e9b12e9197d";

interface Script {
  advertise?: readonly number[];
  refuse?: readonly number[];
  maxSessions?: number;
  failNext?: number;
  async?: boolean;
}

class ScriptedAccelerator implements CryptoEngine {
  readonly name = "scripted-accelerator";
  readonly inner = new SoftwareEngine();
  readonly held: CryptoOp[] = [];
  open = 0;
  #script: Script;

  constructor(script: Script) {
    this.#script = script;
  }

  capabilities(): Capabilities {
    const caps = this.inner.capabilities();
    const advertised = new Set(this.#script.advertise ?? [CipherAlgo.AES_CBC]);
    return {
      ...caps,
      cipher: new Map([...caps.cipher].filter(([id]) => advertised.has(id))),
      hash: new Map(),
      mac: new Map(),
      aead: new Map(),
    };
  }

  createSession(params: SessionParams): EngineSession {
    const algo = params.service === "chain" ? params.cipher.algo : params.algo;
    if (this.#script.refuse?.includes(algo)) throw new EngineError("notsupp", "refused by the device");
    if (this.open >= (this.#script.maxSessions ?? Infinity)) throw new EngineError("nospc", "device full");
    const s = this.inner.createSession(params);
    this.open++;
    return { params, engine: this, inner: s } as EngineSession & { inner: EngineSession };
  }

  closeSession(session: EngineSession): void {
    this.open--;
    this.inner.closeSession((session as EngineSession & { inner: EngineSession }).inner);
  }

  submit(op: CryptoOp): number {
    if ((this.#script.failNext ?? 0) > 0) {
      this.#script.failNext!--;
      if (!this.#script.async) return ENGINE_FAILED;
      this.held.push(op);
      setTimeout(() => op.complete(op, ENGINE_FAILED), 0);
      return PENDING;
    }
    const mine = op.session!;
    op.session = (mine as EngineSession & { inner: EngineSession }).inner;
    const status = this.inner.submit(op);
    op.session = mine;
    if (!this.#script.async) return status;
    setTimeout(() => op.complete(op, status), 0);
    return PENDING;
  }

  close(): void {
    this.inner.close();
  }
}

function cbc(router: RouterEngine): { op: CryptoOp; out: () => string } {
  const mem = allocHostMemory(64);
  mem.bytes.set(IV, 0);
  mem.bytes.set(PT, 16);
  const op = new CryptoOp(4);
  op.session = router.createSession({
    service: "cipher",
    algo: CipherAlgo.AES_CBC,
    key: KEY.slice(),
    direction: 1,
  });
  op.iv.push(mem, 0, 16);
  op.src.push(mem, 16, 16);
  op.dst.push(mem, 32, 16);
  return { op, out: () => toHex(mem.bytes.subarray(32, 48)) };
}

Deno.test("RouterEngine serves an advertised algorithm on the accelerator", () => {
  const accel = new ScriptedAccelerator({});
  const router = new RouterEngine(accel, new SoftwareEngine());
  const { op, out } = cbc(router);
  assert.equal(router.submit(op), Status.OK);
  assert.equal(out(), CT);
  assert.equal(router.stats.accelRequests, 1);
  assert.equal(router.stats.softwareRequests, 0);
  assert.equal(router.stats.accelSessions, 1);
  router.close();
});

Deno.test("RouterEngine creates sessions the accelerator does not advertise in software", () => {
  const router = new RouterEngine(new ScriptedAccelerator({}), new SoftwareEngine());
  const s = router.createSession({ service: "hash", algo: HashAlgo.SHA_256, resultLen: 32 });
  assert.equal(router.stats.fallbacks["not-advertised"], 1);
  router.closeSession(s);
  router.close();
});

Deno.test("RouterEngine falls back to software when the accelerator refuses an advertised session", () => {
  const router = new RouterEngine(
    new ScriptedAccelerator({ refuse: [CipherAlgo.AES_CBC] }),
    new SoftwareEngine(),
  );
  const { op, out } = cbc(router);
  assert.equal(router.submit(op), Status.OK);
  assert.equal(out(), CT);
  assert.equal(router.stats.fallbacks.refused, 1);
  assert.equal(router.stats.softwareRequests, 1);
  router.close();
});

Deno.test("RouterEngine puts sessions beyond the accelerator's limit in software", () => {
  const accel = new ScriptedAccelerator({ maxSessions: 2 });
  const router = new RouterEngine(accel, new SoftwareEngine());
  const params: SessionParams = { service: "cipher", algo: CipherAlgo.AES_CBC, key: KEY, direction: 1 };
  const sessions = [0, 1, 2, 3].map(() => router.createSession({ ...params, key: KEY.slice() }));
  assert.equal(router.stats.accelSessions, 2);
  assert.equal(router.stats.fallbacks.nospc, 2);
  for (const s of sessions) router.closeSession(s);
  assert.equal(accel.open, 0, "closing a routed session closes its accelerator session");
  router.close();
});

Deno.test("RouterEngine re-runs a request the accelerator failed in software: the caller sees OK", () => {
  const router = new RouterEngine(new ScriptedAccelerator({ failNext: 1 }), new SoftwareEngine());
  const { op, out } = cbc(router);
  assert.equal(router.submit(op), Status.OK);
  assert.equal(out(), CT);
  assert.equal(router.stats.fallbacks.failed, 1);
  assert.equal(router.stats.softwareRequests, 1);
  assert.equal(router.submit(op), Status.OK, "the next request goes to the accelerator again");
  assert.equal(router.stats.accelRequests, 1);
  router.close();
});

Deno.test("RouterEngine re-runs an asynchronously failed request and completes it through the caller's callback", async () => {
  const router = new RouterEngine(
    new ScriptedAccelerator({ failNext: 1, async: true }),
    new SoftwareEngine(),
  );
  const { op, out } = cbc(router);
  const session = op.session;
  const done = new Promise<number>((resolve) => op.complete = (_op, status) => resolve(status));
  assert.equal(router.submit(op), PENDING);
  assert.equal(await done, Status.OK);
  assert.equal(out(), CT);
  assert.equal(op.session, session, "the caller's session is restored");
  assert.equal(router.stats.fallbacks.failed, 1);
  router.close();
});

Deno.test("RouterEngine advertises the union of both engines' algorithms", () => {
  const router = new RouterEngine(new ScriptedAccelerator({}), new SoftwareEngine());
  const caps = router.capabilities();
  assert.equal(caps.cipher.get(CipherAlgo.AES_CBC)?.name, "AES-CBC");
  assert.ok(caps.mac.has(MacAlgo.HMAC_SHA_256), "software-only algorithms are advertised too");
  router.close();
});

Deno.test("RouterEngine gives the caller its callback back when the accelerator answers at once (regression)", () => {
  // An op answered ENGINE_FAILED synchronously kept the router's callback: the next asynchronous completion of
  // the same (reused) op went to the router instead of its owner, and that request was never answered.
  const router = new RouterEngine(new ScriptedAccelerator({ failNext: 1 }), new SoftwareEngine());
  const { op, out } = cbc(router);
  const owner = (_op: CryptoOp, _status: number): void => {};
  op.complete = owner;
  assert.equal(router.submit(op), Status.OK, "failed at once, re-run in software");
  assert.equal(out(), CT);
  assert.equal(op.complete, owner);
  router.close();
});

Deno.test("RouterEngine passes the guest memory table to the accelerator only", () => {
  const seen: unknown[] = [];
  const accel = Object.assign(new ScriptedAccelerator({}), {
    setGuestMemory: (regions: unknown) => seen.push(regions),
  });
  const router = new RouterEngine(accel, new SoftwareEngine());
  const regions = [{ gpa: 0x1000, size: 0x1000, address: 0x7000_0000n }];
  router.setGuestMemory(regions);
  assert.deepEqual(seen, [regions]);
  router.close();
});
