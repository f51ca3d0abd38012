/**
 * `VirtioPciEngine` as a state machine, on the host model of a virtio-crypto function: MSI-X completions through
 * the reactor and batched kicks, the backlog, poll mode, guest RAM mapped at IOVA = GPA, sessions closed with
 * requests in flight, the full session table, and every way a device fails (hung, reset behind the engine's
 * back, DEVICE_NEEDS_RESET, vanished) with the restart that follows.
 *
 * @module
 */

import assert from "node:assert/strict";
import { VirtioPciEngine, type VirtioPciEngineOptions } from "../../src/accel/virtio_pci/mod.ts";
import { CipherAlgo, Status } from "../../src/spec/virtio_crypto.ts";
import { CryptoOp, ENGINE_FAILED, EngineError, type EngineSession, PENDING } from "../../src/engine/mod.ts";
import { Mapping, Reactor } from "../../src/os/mod.ts";
import { type FakeOptions, FakeVirtioCrypto } from "../_fixtures/fake_virtio_crypto.ts";
import { buildOp, hex, read, toHex } from "../engine/_helpers.ts";
import { AES_SP800_38A } from "../../src/selftest/vectors/aes_sp800_38a.ts";

const CBC = AES_SP800_38A.find((v) => v.algo === CipherAlgo.AES_CBC && v.key.length === 32)!;

interface Rig extends AsyncDisposable {
  readonly fake: FakeVirtioCrypto;
  readonly engine: VirtioPciEngine;
  readonly session: EngineSession;
  /** Submits a known-answer encryption; resolves with its status and output. */
  run(op?: CryptoOp): { op: CryptoOp; done: Promise<{ status: number; out: string }> };
}

function rig(fakeOptions: FakeOptions = {}, options: VirtioPciEngineOptions = {}): Rig {
  const fake = new FakeVirtioCrypto(fakeOptions);
  const reactor = new Reactor();
  const running = reactor.run();
  const engine = VirtioPciEngine.open(fake, { reactor, ...options });
  const session = engine.createSession({
    service: "cipher",
    algo: CBC.algo,
    key: hex(CBC.key),
    direction: 1,
  });
  const run = (given?: CryptoOp) => {
    const op = given ??
      buildOp(session, { iv: hex(CBC.iv), src: hex(CBC.plaintext), dstLen: CBC.plaintext.length / 2 });
    const done = new Promise<{ status: number; out: string }>((resolve) => {
      op.complete = (o, status) => resolve({ status, out: toHex(read(o.dst)) });
    });
    const status = engine.submit(op);
    if (status !== PENDING) op.complete(op, status);
    return { op, done };
  };
  return {
    fake,
    engine,
    session,
    run,
    async [Symbol.asyncDispose](): Promise<void> {
      engine.close();
      reactor.stop();
      await running;
      reactor.close();
    },
  };
}

Deno.test("VirtioPciEngine completes through the MSI-X eventfd in the reactor, with one kick per batch", async () => {
  await using r = rig();
  const runs = Array.from({ length: 10 }, () => r.run());
  const results = await Promise.all(runs.map((x) => x.done));
  assert.ok(results.every((x) => x.status === Status.OK && x.out === CBC.ciphertext));
  assert.equal(r.fake.notifications[0], 1, "ten requests submitted together: one notification");
  assert.equal(r.engine.stats().completed, 10);
});

Deno.test("VirtioPciEngine keeps requests beyond its slots in a backlog, in order, and completes them all", async () => {
  await using r = rig({}, { slots: 4 });
  const results = await Promise.all(Array.from({ length: 25 }, () => r.run().done));
  assert.equal(results.filter((x) => x.status === Status.OK && x.out === CBC.ciphertext).length, 25);
});

Deno.test("VirtioPciEngine in poll mode needs no interrupt", async () => {
  const fake = new FakeVirtioCrypto();
  const engine = VirtioPciEngine.open(fake, { completions: "poll" });
  try {
    const session = engine.createSession({
      service: "cipher",
      algo: CBC.algo,
      key: hex(CBC.key),
      direction: 1,
    });
    const op = buildOp(session, {
      iv: hex(CBC.iv),
      src: hex(CBC.plaintext),
      dstLen: CBC.plaintext.length / 2,
    });
    const done = new Promise<number>((resolve) => op.complete = (_o, s) => resolve(s));
    assert.equal(engine.submit(op), PENDING);
    assert.equal(await done, Status.OK);
    assert.equal(toHex(read(op.dst)), CBC.ciphertext);
  } finally {
    engine.close();
  }
});

Deno.test("VirtioPciEngine maps guest RAM at an IOVA of its own, so guest buffers go to the device without copies", async () => {
  await using r = rig();
  using ram = Mapping.anonymous(0x10000);
  const gpa = 0x4000_0000;
  const before = r.fake.mappings.length;
  r.engine.setGuestMemory([{ gpa, size: 0x10000, address: ram.address }]);
  // The model's IOMMU has 39 bits (QEMU's intel-iommu): the host address does not fit, so an IOVA is allocated.
  const [mapped] = r.fake.mappings.slice(before);
  assert.equal(mapped?.[1], 0x10000);
  const guest = { bytes: ram.bytes, address: ram.address };
  const op = new CryptoOp(4);
  op.session = r.session;
  guest.bytes.set(hex(CBC.iv), 0);
  guest.bytes.set(hex(CBC.plaintext), 0x100);
  op.iv.push(guest, 0, 16, gpa);
  op.src.push(guest, 0x100, 64, gpa + 0x100);
  op.dst.push(guest, 0x100, 64, gpa + 0x100); // in place
  const result = await r.run(op).done;
  assert.equal(result.status, Status.OK);
  assert.equal(toHex(ram.bytes.subarray(0x100, 0x140)), CBC.ciphertext);
  assert.equal(r.engine.stats().bounced, 0, "the device wrote guest RAM itself");
  await r.run().done; // engine-owned buffers: bounced
  assert.equal(r.engine.stats().bounced, 1);
  r.engine.setGuestMemory([]);
  assert.ok(!r.fake.mappings.some(([iova]) => iova === mapped![0]), "unmapped when the table goes");
});

Deno.test("VirtioPciEngine destroys a session closed with requests in flight once they complete", async () => {
  await using r = rig({ serve: "manual" });
  const sessions = r.fake.sessions;
  const x = r.run();
  await new Promise((resolve) => setTimeout(resolve, 0));
  r.engine.closeSession(r.session);
  assert.equal(r.fake.sessions, sessions, "still on the device: a request uses it");
  r.fake.process();
  assert.equal((await x.done).status, Status.OK);
  assert.equal(r.fake.sessions, sessions - 1);
  assert.equal(r.engine.submit(buildOp(r.session, {})), Status.INVSESS);
});

Deno.test("VirtioPciEngine calls a device answering ERR for parameters it took before full: nospc", async () => {
  await using r = rig({ maxSessions: 3 });
  const params = { service: "cipher", algo: CBC.algo, key: hex(CBC.key), direction: 1 } as const;
  r.engine.createSession(params);
  r.engine.createSession(params);
  assert.throws(
    () => r.engine.createSession(params),
    (e: unknown) => e instanceof EngineError && e.kind === "nospc",
  );
  const other = { ...params, key: new Uint8Array(16).fill(1) };
  assert.throws(
    () => r.engine.createSession(other),
    (e: unknown) => e instanceof EngineError && e.kind === "nospc",
  );
});

/** Submits `n` requests on a device that does not answer, breaks it with `breakIt`, awaits them all. */
async function failUnderLoad(
  breakIt: (r: Rig) => void,
  options: VirtioPciEngineOptions = {},
): Promise<{ statuses: number[]; r: Rig }> {
  const r = rig({ serve: "manual" }, { watchdogMs: 10, requestTimeoutMs: 200, ...options });
  const runs = Array.from({ length: 6 }, () => r.run());
  await new Promise((resolve) => setTimeout(resolve, 0)); // published
  breakIt(r);
  const statuses = (await Promise.all(runs.map((x) => x.done))).map((x) => x.status);
  return { statuses, r };
}

Deno.test("VirtioPciEngine notices a reset behind its back and gives every request in flight back (ENGINE_FAILED)", async () => {
  const { statuses, r } = await failUnderLoad((x) => x.engine.injectReset());
  await using _ = r;
  assert.deepEqual(statuses, Array(6).fill(ENGINE_FAILED));
  assert.equal(r.engine.state, "failed");
  assert.match(r.engine.stats().lastFailure!, /reset/);
  assert.throws(
    () => r.engine.createSession({ service: "cipher", algo: CBC.algo, key: hex(CBC.key), direction: 1 }),
    (e: unknown) => e instanceof EngineError && e.kind === "unavailable",
  );
});

Deno.test("VirtioPciEngine fails a hung device after the request timeout", async () => {
  const { statuses, r } = await failUnderLoad((x) => x.fake.hang());
  await using _ = r;
  assert.deepEqual(statuses, Array(6).fill(ENGINE_FAILED));
  assert.match(r.engine.stats().lastFailure!, /no answer within 200 ms/);
});

Deno.test("VirtioPciEngine fails at once on DEVICE_NEEDS_RESET signalled on the configuration vector", async () => {
  const { statuses, r } = await failUnderLoad((x) => x.fake.needsReset(), { watchdogMs: 60_000 });
  await using _ = r;
  assert.deepEqual(statuses, Array(6).fill(ENGINE_FAILED));
  assert.match(r.engine.stats().lastFailure!, /DEVICE_NEEDS_RESET/);
});

Deno.test("VirtioPciEngine restarts a failed device for new sessions; old sessions stay in software", async () => {
  const { r } = await failUnderLoad((x) => x.engine.injectReset(), { retryMs: 0 });
  await using _ = r;
  const fresh = r.engine.createSession({
    service: "cipher",
    algo: CBC.algo,
    key: hex(CBC.key),
    direction: 1,
  });
  assert.equal(r.engine.state, "ready");
  assert.equal(r.engine.stats().epoch, 2);
  assert.equal(r.engine.submit(buildOp(r.session, {})), ENGINE_FAILED, "the device forgot the old session");
  const op = buildOp(fresh, { iv: hex(CBC.iv), src: hex(CBC.plaintext), dstLen: 64 });
  const x = r.run(op);
  await new Promise((resolve) => setTimeout(resolve, 0)); // published
  r.fake.process();
  assert.deepEqual(await x.done, { status: Status.OK, out: CBC.ciphertext });
});

Deno.test("VirtioPciEngine never restarts a vanished device", async () => {
  const { statuses, r } = await failUnderLoad((x) => x.fake.vanish(), { retryMs: 0 });
  await using _ = r;
  assert.deepEqual(statuses, Array(6).fill(ENGINE_FAILED));
  assert.match(r.engine.stats().lastFailure!, /vanished/);
  assert.throws(
    () => r.engine.createSession({ service: "cipher", algo: CBC.algo, key: hex(CBC.key), direction: 1 }),
    (e: unknown) => e instanceof EngineError && e.kind === "unavailable",
  );
});

Deno.test("VirtioPciEngine abandons requests in flight when guest memory goes, and close() releases everything", async () => {
  const r = rig({ serve: "manual" });
  let completed = 0;
  const x = r.run();
  x.op.complete = () => completed++;
  await new Promise((resolve) => setTimeout(resolve, 0));
  r.engine.setGuestMemory([]);
  assert.equal(r.engine.state, "failed");
  assert.equal(completed, 0, "their memory is going away: never completed");
  await r[Symbol.asyncDispose]();
  assert.equal(r.engine.state, "closed");
  assert.ok(r.fake.closed);
  assert.deepEqual(r.fake.mappings, [], "DMA areas freed");
});
