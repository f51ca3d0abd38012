import assert from "node:assert/strict";
import { ReferenceSession } from "../../src/cli/bench_verify.ts";
import { Status } from "../../src/spec/virtio_crypto.ts";
import { runDaemon } from "../../src/daemon/daemon.ts";
import type {
  Capabilities,
  CryptoEngine,
  CryptoOp,
  EngineSession,
  SessionParams,
  SgList,
} from "../../src/engine/mod.ts";
import { SoftwareEngine } from "../../src/engine/software/mod.ts";
import {
  type BenchAlgorithm,
  benchWorkload,
  type CompletionMode,
  LoadError,
  LoadGenerator,
  VirtioCryptoDriver,
  type WorkloadRequest,
} from "../../src/frontend/mod.ts";

/**
 * The software engine, wrong on purpose for chosen operations (numbered from 0 in the order the device submits
 * them): one output byte flipped, or an error status. The device cannot tell; the load generator must.
 */
class FaultyEngine implements CryptoEngine {
  readonly name = "faulty";
  readonly inner = new SoftwareEngine();
  readonly flip = new Set<number>();
  readonly fail = new Set<number>();
  ops = 0;

  capabilities(): Capabilities {
    return this.inner.capabilities();
  }
  createSession(params: SessionParams): EngineSession {
    return this.inner.createSession(params);
  }
  closeSession(session: EngineSession): void {
    this.inner.closeSession(session);
  }
  submit(op: CryptoOp): number {
    const n = this.ops++;
    if (this.fail.has(n)) return Status.ERR;
    const status = this.inner.submit(op);
    if (status === Status.OK && this.flip.has(n)) flipFirstByte(op.dst.count > 0 ? op.dst : op.digest);
    return status;
  }
  close(): void {
    this.inner.close();
  }
}

function flipFirstByte(list: SgList): void {
  list.memory[0]!.bytes[list.offset[0]!]! ^= 0x01;
}

interface LoadRig extends AsyncDisposable {
  readonly engine: FaultyEngine;
  generator(
    o: {
      algorithm: BenchAlgorithm;
      size: number;
      depth: number;
      completion?: CompletionMode;
      verifyEvery?: number;
      indirect?: boolean;
    },
  ): Promise<LoadGenerator>;
}

/** A daemon in this process on a faulty engine, a driver, and generators on its data queue. */
async function loadRig(): Promise<LoadRig> {
  const dir = await Deno.makeTempDir({ prefix: "cryptobridge-load-" });
  const engine = new FaultyEngine();
  const daemon = runDaemon({ socket: `${dir}/vhost.sock`, engine });
  const driver = await VirtioCryptoDriver.open({ path: daemon.socket, queueSize: 256 });
  const reference = new SoftwareEngine();
  const areaSize = 1 << 20;
  const area = driver.reserveRam(areaSize);
  const cleanups: (() => Promise<void> | void)[] = [];
  let claimed: ReturnType<VirtioCryptoDriver["claimQueue"]> | null = null;
  return {
    engine,
    async generator(o): Promise<LoadGenerator> {
      const workload = benchWorkload(o.algorithm, o.size);
      const id = workload.needsControlQueue
        ? (await driver.createSessionCtrl(workload.session)).id
        : await driver.createSessionVhost(workload.session, "C");
      assert.ok(id >= 0n);
      const ref = new ReferenceSession(reference, workload.session);
      cleanups.push(() => ref.close());
      const requests: WorkloadRequest[] = [];
      if (claimed !== null) driver.releaseQueue(claimed); // the previous generator's run is over
      claimed = driver.claimQueue(0);
      return new LoadGenerator({
        ram: driver.ram,
        queue: claimed,
        reactor: driver.reactor,
        area,
        areaSize,
        depth: o.depth,
        completion: o.completion ?? "event",
        verifyEvery: o.verifyEvery ?? 64,
        indirect: o.indirect ?? false,
        request: (slot) => (requests[slot] = workload.request(id, driver.layout, slot)),
        expected: (slot) => ref.expected(requests[slot]!),
      });
    },
    async [Symbol.asyncDispose](): Promise<void> {
      for (const c of cleanups) await c();
      await driver.close();
      await daemon.stop();
      reference.close();
      engine.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("LoadGenerator runs a count of AES-CBC requests and checks the first output of every slot", async () => {
  await using rig = await loadRig();
  const g = await rig.generator({ algorithm: "aes-128-cbc", size: 256, depth: 8, verifyEvery: 16 });
  const r = await g.run({ count: 200 });
  assert.equal(r.completed, 200);
  assert.equal(r.latency.count, 200);
  // the first 8 (one per slot), then every 16th of the others: 16, 32, ... 192
  assert.equal(r.verified, 8 + 12);
  assert.ok(r.latency.p50Us <= r.latency.p99Us && r.latency.p99Us <= r.latency.maxUs);
  assert.equal(rig.engine.ops, 200);
  // A second run on the same slots (as after a warm-up) starts its counts afresh.
  const again = await g.run({ count: 50 });
  assert.equal(again.completed, 50);
});

Deno.test("LoadGenerator verifies every algorithm of the bench against the software engine, direct and indirect", async () => {
  await using rig = await loadRig();
  for (const algorithm of ["aes-256-gcm", "hmac-sha256", "aes-128-cbc-hmac-sha256"] as const) {
    for (const indirect of [false, true]) {
      const g = await rig.generator({ algorithm, size: 1024, depth: 4, verifyEvery: 1, indirect });
      const r = await g.run({ count: 20 });
      assert.equal(r.verified, 20, `${algorithm} indirect=${indirect}`);
    }
  }
});

Deno.test("LoadGenerator stops on a wrong output in the first round (a fast wrong answer cannot win)", async () => {
  await using rig = await loadRig();
  rig.engine.flip.add(3);
  const g = await rig.generator({ algorithm: "aes-128-cbc", size: 64, depth: 8 });
  await assert.rejects(g.run({ count: 1000 }), (e: unknown) => {
    assert.ok(e instanceof LoadError);
    assert.equal(e.kind, "mismatch");
    assert.match(e.message, /^Request 3 \(slot 3\): output differs from the expected one at byte 0 of 64/);
    return true;
  });
});

Deno.test("LoadGenerator catches a wrong MAC later in the run when that request is in the sample", async () => {
  await using rig = await loadRig();
  rig.engine.flip.add(40);
  const g = await rig.generator({ algorithm: "hmac-sha256", size: 64, depth: 4, verifyEvery: 1 });
  await assert.rejects(
    g.run({ count: 100 }),
    (e: unknown) => e instanceof LoadError && e.kind === "mismatch",
  );
});

Deno.test("LoadGenerator stops on an error status", async () => {
  await using rig = await loadRig();
  rig.engine.fail.add(5);
  const g = await rig.generator({ algorithm: "aes-128-cbc", size: 64, depth: 4 });
  await assert.rejects(g.run({ count: 100 }), (e: unknown) => {
    assert.ok(e instanceof LoadError);
    assert.equal(e.kind, "status");
    assert.match(e.message, /completed with status ERR \(1\)/);
    return true;
  });
});

Deno.test("LoadGenerator in poll completion mode (busy-polling the used ring, no call notifications)", async () => {
  await using rig = await loadRig();
  const g = await rig.generator({
    algorithm: "aes-128-cbc",
    size: 64,
    depth: 4,
    completion: "poll",
    verifyEvery: 1,
  });
  const r = await g.run({ count: 40 });
  assert.equal(r.completed, 40);
  assert.equal(r.verified, 40);
});

Deno.test("LoadGenerator refuses a depth whose direct chains do not fit the queue", async () => {
  await using rig = await loadRig();
  // An AES-CBC request is 5 descriptors (header, iv, src, dst, status): 64 × 5 > 256.
  await assert.rejects(
    rig.generator({ algorithm: "aes-128-cbc", size: 64, depth: 64 }),
    /depth 64 × 5 descriptors exceeds the queue size 256/,
  );
});

Deno.test("VirtioCryptoDriver.claimQueue() hands a queue out once; reserveRam() refuses more than there is", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cryptobridge-load-" });
  const daemon = runDaemon({ socket: `${dir}/vhost.sock` });
  const driver = await VirtioCryptoDriver.open({ path: daemon.socket });
  try {
    const claimed = driver.claimQueue(0);
    assert.throws(() => driver.claimQueue(0), /claimed already/);
    driver.releaseQueue(claimed);
    driver.releaseQueue(driver.claimQueue(0));
    assert.throws(() => driver.reserveRam(1 << 30), /Cannot reserve/);
    const a = driver.reserveRam(100);
    const b = driver.reserveRam(100);
    assert.equal(b - a, 4096);
  } finally {
    await driver.close();
    await daemon.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
