/**
 * The measuring part of `cryptobridge bench`: connects to a vhost-user crypto back-end as QEMU and a guest would
 * (`src/frontend/`), opens each algorithm's session (message 26 in the chosen payload layout, or the control
 * queue for sessions message 26 cannot express), and runs every size at a fixed depth with the load generator,
 * checking a sample of outputs against the software engine.
 *
 * @module
 */

import type { VhostSessionLayout } from "../crypto/mod.ts";
import { SoftwareEngine } from "../engine/software/mod.ts";
import {
  type BenchAlgorithm,
  benchSession,
  benchWorkload,
  type ClaimedQueue,
  type CompletionMode,
  type Departure,
  type HeadOrder,
  type LatencySummary,
  LoadError,
  LoadGenerator,
  type LoadLimit,
  type LoadResult,
  type SessionSpec,
  VirtioCryptoDriver,
  type WorkloadRequest,
} from "../frontend/mod.ts";
import type { Reactor } from "../os/mod.ts";
import type { BenchPeer } from "./bench_peer.ts";
import { closeSession, openSession } from "./bench_sessions.ts";
import { ReferenceSession } from "./bench_verify.ts";

/** What to measure and how. */
export interface BenchConfig {
  /** The back-end's socket. */
  readonly socket: string;
  readonly algorithms: readonly BenchAlgorithm[];
  /** Payload bytes per request. */
  readonly sizes: readonly number[];
  /** Requests in flight. */
  readonly depth: number;
  /** Per case: stop submitting after this long (and/or after `count`). */
  readonly durationMs?: number;
  /** Per case: requests to send. */
  readonly count?: number;
  /** Per case, before measuring: run (and verify) this long, unrecorded. */
  readonly warmupMs: number;
  readonly indirect: boolean;
  /** How head descriptors are handed out (`avail-order` for a device that writes used elements at slot = head). */
  readonly heads: HeadOrder;
  /** Send SET_VRING_ENABLE(i, 1) for each ring after setting them up (DPDK's vhost_crypto waits for it). */
  readonly vringEnable: boolean;
  /** Sizes above this are skipped with a message, not sent (a peer that would never complete them). */
  readonly maxSize?: number;
  /** The `--peer` preset the flags came from, for the report. */
  readonly peer?: BenchPeer;
  /** QEMU's message 26 payload layout for cipher and chaining sessions. */
  readonly sessionLayout: VhostSessionLayout;
  readonly completion: CompletionMode;
  /** Compare every n-th output (and the first of each slot) with the software engine's. */
  readonly verifyEvery: number;
  /** Set up the control queue (sessions message 26 cannot express); false skips those algorithms. */
  readonly controlQueue: boolean;
  /** Ring size. */
  readonly queueSize: number;
  /** Called a few times a second while a case runs. */
  readonly onProgress?: (p: BenchProgress) => void;
  /** The reactor to wait in (several VMs' generators share one); default: the driver's own. */
  readonly reactor?: Reactor;
}

/** Where a run is. */
export interface BenchProgress {
  readonly algorithm: BenchAlgorithm;
  readonly size: number;
  /** 1-based case number and the number of cases. */
  readonly index: number;
  readonly cases: number;
  readonly completed: number;
  readonly elapsedMs: number;
  /** Whether this is the warm-up phase. */
  readonly warmup: boolean;
}

/** The outcome of one algorithm at one size. */
export interface BenchCaseResult {
  readonly algorithm: BenchAlgorithm;
  readonly size: number;
  /** `stalled`: nothing completed for the stall time; `neverCompleted` requests were left in flight. */
  readonly status: "ok" | "skipped" | "stalled";
  /** Why it was skipped. */
  readonly reason?: string;
  /** How the session was created. */
  readonly session?: "message-26" | "control-queue";
  readonly requests?: number;
  readonly seconds?: number;
  readonly opsPerSec?: number;
  readonly bytesPerSec?: number;
  readonly latencyUs?: Omit<LatencySummary, "count">;
  /** Outputs compared with the software engine's (all equal, or the run failed). */
  readonly verified?: number;
  /** Departures from the virtio and vhost-user specs seen in the case (warm-up included); empty: none. */
  readonly departures?: readonly Departure[];
  /** With `stalled`: requests the back-end never completed. */
  readonly neverCompleted?: number;
}

/** No completion for this long ends a case as stalled (its requests reported as never completed). */
const STALL_MS = 2000;
/** Guest RAM besides the load area: rings, indirect tables, the driver's own request buffers. */
const BASE_RAM = 16 << 20;

/**
 * Bytes of guest RAM one slot of the largest request can take: parts are 64-byte aligned, source and destination
 * are separate, plus header, IV, AAD, tag, digest and status.
 */
function slotBytes(size: number): number {
  return 2 * size + 512;
}

/**
 * Runs every case against the back-end.
 *
 * @param config What and how.
 * @returns One result per algorithm and size, in order.
 * @throws Error (a `LoadError` cause) when a request fails or an output differs from the software engine's.
 */
export async function runBench(config: BenchConfig): Promise<BenchCaseResult[]> {
  const maxSize = Math.max(...config.sizes);
  const areaSize = config.depth * slotBytes(maxSize);
  const { driver, area } = await connect(config, areaSize);
  const engine = new SoftwareEngine();
  const results: BenchCaseResult[] = [];
  const cases = config.algorithms.length * config.sizes.length;
  const run: BenchRun = { driver, config, engine, area, areaSize, cases, results };
  try {
    for (const algorithm of config.algorithms) await runAlgorithm(run, algorithm);
  } finally {
    engine.close();
    await run.driver.close();
  }
  return results;
}

/** Connects to the back-end and reserves the load area. */
async function connect(
  config: BenchConfig,
  areaSize: number,
): Promise<{ driver: VirtioCryptoDriver; area: number }> {
  const driver = await VirtioCryptoDriver.open({
    path: config.socket,
    queueSize: config.queueSize,
    controlQueue: config.controlQueue,
    headOrder: config.heads,
    vringEnable: config.vringEnable,
    ramSize: align(BASE_RAM + areaSize, 1 << 20),
    ...(config.reactor === undefined ? {} : { reactor: config.reactor }),
  });
  try {
    return { driver, area: driver.reserveRam(areaSize) };
  } catch (e) {
    await driver.close();
    throw e;
  }
}

/**
 * After a stalled case the queue still has requests in flight the back-end will not answer: the connection is
 * closed (the back-end forgets them with it) and a new one made for the cases left.
 */
async function reconnect(run: BenchRun): Promise<void> {
  await run.driver.close();
  const { driver, area } = await connect(run.config, run.areaSize);
  run.driver = driver;
  run.area = area;
}

/** What every case of a run shares. */
interface BenchRun {
  /** The connection (replaced after a stalled case). */
  driver: VirtioCryptoDriver;
  readonly config: BenchConfig;
  readonly engine: SoftwareEngine;
  /** The load area in guest RAM, and its size. */
  area: number;
  readonly areaSize: number;
  /** Cases in the whole run (for progress). */
  readonly cases: number;
  /** Results so far; each case appends its own. */
  readonly results: BenchCaseResult[];
}

/** Every size of one algorithm in one session, or a skipped result per size when the session cannot be made. */
async function runAlgorithm(run: BenchRun, algorithm: BenchAlgorithm): Promise<void> {
  const { config, results } = run;
  const { session, needsControlQueue } = benchSession(algorithm);
  if (needsControlQueue && !config.controlQueue) {
    const reason =
      "needs a control-queue session (message 26 cannot express it) and --no-control-queue was given";
    for (const size of config.sizes) results.push({ algorithm, size, status: "skipped", reason });
    return;
  }
  using reference = new ReferenceSession(run.engine, session);
  await runSizes(run, { algorithm, session, needsControlQueue, reference });
}

interface AlgorithmRun {
  readonly algorithm: BenchAlgorithm;
  readonly session: SessionSpec;
  readonly needsControlQueue: boolean;
  readonly reference: ReferenceSession;
}

/**
 * Every size of one algorithm in one session; a size over `maxSize` is skipped, not sent. After a stalled case
 * the connection is made again, and the session with it, for the sizes left.
 */
async function runSizes(run: BenchRun, a: AlgorithmRun): Promise<void> {
  const { config, results } = run;
  const { algorithm, session, needsControlQueue } = a;
  let opened: bigint | string = await openSession(
    run.driver,
    session,
    needsControlQueue,
    config.sessionLayout,
  );
  try {
    for (const size of config.sizes) {
      if (typeof opened === "string") {
        results.push({ algorithm, size, status: "skipped", reason: opened });
        continue;
      }
      if (config.maxSize !== undefined && size > config.maxSize) {
        const by = config.peer === undefined ? "--max-size" : `--peer ${config.peer}`;
        const reason =
          `${size} B is over the ${config.maxSize} B the peer takes per request (${by}): not sent`;
        results.push({ algorithm, size, status: "skipped", reason });
        continue;
      }
      const input = {
        config,
        algorithm,
        size,
        id: opened,
        reference: a.reference,
        area: run.area,
        areaSize: run.areaSize,
      };
      const measured = await runCase(run.driver, input, { index: results.length + 1, cases: run.cases });
      results.push({ ...measured, session: needsControlQueue ? "control-queue" : "message-26" });
      if (measured.status === "stalled") {
        await reconnect(run);
        opened = await openSession(run.driver, session, needsControlQueue, config.sessionLayout);
      }
    }
  } finally {
    if (typeof opened !== "string") await closeSession(run.driver, session, needsControlQueue, opened);
  }
}

interface CaseInput {
  readonly config: BenchConfig;
  readonly algorithm: BenchAlgorithm;
  readonly size: number;
  readonly id: bigint;
  readonly reference: ReferenceSession;
  readonly area: number;
  readonly areaSize: number;
}

async function runCase(
  driver: VirtioCryptoDriver,
  c: CaseInput,
  position: { index: number; cases: number },
): Promise<BenchCaseResult> {
  const { config, algorithm, size } = c;
  const claimed = driver.claimQueue(0);
  const generator = loadGenerator(driver, claimed, c);
  const report = config.onProgress;
  const tick = (warmup: boolean): (() => void) | undefined =>
    report === undefined ? undefined : () =>
      report({
        algorithm,
        size,
        ...position,
        completed: generator.completed,
        elapsedMs: generator.elapsedMs,
        warmup,
      });
  try {
    if (config.warmupMs > 0) {
      const warmup = { durationMs: config.warmupMs, ...(config.count ? { count: config.count } : {}) };
      const w = await runTicking(generator, warmup, tick(true));
      if (w.stalled) return caseResult(algorithm, size, w);
    }
    const r = await runTicking(generator, {
      ...(config.durationMs !== undefined ? { durationMs: config.durationMs } : {}),
      ...(config.count !== undefined ? { count: config.count } : {}),
    }, tick(false));
    // A stalled queue keeps requests in flight: it stays claimed, and the connection is made again.
    if (!r.stalled) driver.releaseQueue(claimed);
    return caseResult(algorithm, size, r);
  } catch (e) {
    throw explain(e, `${algorithm} ${size} B`);
  }
}

/** A load generator on the claimed queue, its slots filled with the workload's requests. */
function loadGenerator(driver: VirtioCryptoDriver, claimed: ClaimedQueue, c: CaseInput): LoadGenerator {
  const { config } = c;
  const workload = benchWorkload(c.algorithm, c.size);
  const requests: WorkloadRequest[] = [];
  return new LoadGenerator({
    ram: driver.ram,
    queue: claimed,
    reactor: driver.reactor,
    area: c.area,
    areaSize: c.areaSize,
    depth: config.depth,
    indirect: config.indirect,
    completion: config.completion,
    verifyEvery: config.verifyEvery,
    stallMs: STALL_MS,
    request: (slot) => (requests[slot] = workload.request(c.id, driver.layout, slot)),
    expected: (slot) => c.reference.expected(requests[slot]!),
  });
}

/** Runs the generator to `limit`, calling `tick` every 250 ms meanwhile (when given). */
async function runTicking(
  generator: LoadGenerator,
  limit: LoadLimit,
  tick: (() => void) | undefined,
): Promise<LoadResult> {
  const ticker = tick === undefined ? undefined : setInterval(tick, 250);
  try {
    return await generator.run(limit);
  } finally {
    clearInterval(ticker);
  }
}

function caseResult(algorithm: BenchAlgorithm, size: number, r: LoadResult): BenchCaseResult {
  const seconds = r.elapsedMs / 1000;
  const opsPerSec = seconds > 0 ? r.completed / seconds : 0;
  const { count: _count, ...latencyUs } = r.latency;
  return {
    algorithm,
    size,
    status: r.stalled ? "stalled" : "ok",
    requests: r.completed,
    seconds,
    opsPerSec,
    bytesPerSec: opsPerSec * size,
    latencyUs,
    verified: r.verified,
    departures: r.departures,
    ...(r.stalled ? { neverCompleted: r.neverCompleted } : {}),
  };
}

/** A load failure said as the case it stopped, and whether a request failed or an output was wrong. */
function explain(e: unknown, what: string): unknown {
  if (!(e instanceof LoadError)) return e;
  const verb = e.kind === "mismatch" ? "verification against the software engine failed" : "a request failed";
  return new Error(`${what}: ${verb}: ${e.message}`, { cause: e });
}

function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}
