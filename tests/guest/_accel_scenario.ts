/**
 * The full path of the accelerator issue, as one scenario run against a daemon with an accelerator and a
 * `VirtioCryptoDriver` connected to it (the guest side of vhost-user): what the tier-4 guest runs on QEMU's
 * virtio-crypto-pci through VFIO (`_accel_guest.ts`), and what `tests/integration/accel_path_test.ts` runs on the
 * host model of the device.
 *
 * 1. Known answers, sessions through the control queue: AES-128-CBC encrypt and decrypt (advertised: served by
 *    the device), SHA-256, HMAC-SHA256, AES-GCM and AES-CBC then HMAC-SHA256 chaining (not advertised: software).
 * 2. 300 AES-CBC sessions: more than the device holds; the surplus goes to software, every request is right.
 * 3. The device is reset behind the engine's back while requests are in flight: none is lost, every answer is
 *    right (re-run in software); a session created a little later runs on the restarted device.
 *
 * Nothing throws on a wrong answer: each check is recorded, with the counters after each part, and the caller
 * asserts (the guest writes them to its results share).
 *
 * @module
 */

import { createHmac } from "node:crypto";
import {
  AeadAlgo,
  AlgChainOrder,
  CipherAlgo,
  HashAlgo,
  MacAlgo,
  SymHashMode,
} from "../../src/spec/virtio_crypto.ts";
import type { Daemon, DaemonStats } from "../../src/daemon/daemon.ts";
import {
  aeadRequest,
  buildRequest,
  chainRequest,
  cipherRequest,
  hashRequest,
  macRequest,
  type PartBytes,
  type SessionSpec,
  type VirtioCryptoDriver,
} from "../../src/frontend/mod.ts";
import type { DataRequest, VlfRole } from "../../src/crypto/mod.ts";
import { AES_SP800_38A } from "../../src/selftest/vectors/aes_sp800_38a.ts";
import { GCM_VECTORS } from "../../src/selftest/vectors/gcm_sp800_38d.ts";
import { HMAC_RFC4231 } from "../../src/selftest/vectors/hmac_rfc4231.ts";
import { SHA_FIPS180 } from "../../src/selftest/vectors/sha_fips180.ts";

/** One check's outcome. */
export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** What the scenario saw. */
export interface ScenarioReport {
  readonly checks: Check[];
  /** Counters after each part: `kats`, `sessions`, `reset`, `restart`. */
  readonly stats: Record<string, DaemonStats>;
  /** Milliseconds per part. */
  readonly ms: Record<string, number>;
}

const byId = <T extends { readonly id: string }>(list: readonly T[], id: string): T =>
  list.find((v) => v.id === id)!;
/** The AES-128-CBC known answer every path is checked with. */
export const CBC = byId(AES_SP800_38A, "SP 800-38A F.2.1 CBC-AES128");
const SHA256 = byId(SHA_FIPS180, "FIPS 180-4 SHA-256 one-block (abc)");
const HMAC = byId(HMAC_RFC4231, "RFC 4231 HMAC-SHA256 test case 2");
const GCM = byId(GCM_VECTORS, "GCM spec test case 4");
const SESSIONS = 300;

function hex(s: string): Uint8Array {
  return new Uint8Array((s.match(/../g) ?? []).map((b) => parseInt(b, 16)));
}

function toHex(b: Uint8Array | undefined): string {
  return b === undefined ? "(none)" : Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Runs the scenario. */
export async function runAccelScenario(daemon: Daemon, driver: VirtioCryptoDriver): Promise<ScenarioReport> {
  const report: ScenarioReport = { checks: [], stats: {}, ms: {} };
  const part = async (name: string, body: () => Promise<void>): Promise<void> => {
    const t0 = performance.now();
    try {
      await body();
    } catch (e) {
      check(
        report,
        `${name}: ran to the end`,
        false,
        e instanceof Error ? `${e.name}: ${e.message}` : String(e),
      );
    }
    report.ms[name] = Math.round(performance.now() - t0);
    report.stats[name] = await daemon.stats();
  };
  const io = new Io(driver);
  await part("kats", () => knownAnswers(report, io));
  await part("sessions", () => manySessions(report, io));
  await part("reset", () => resetUnderLoad(report, io, daemon));
  await part("restart", () => restart(report, io, daemon));
  return report;
}

function check(report: ScenarioReport, name: string, ok: boolean, detail = ""): void {
  report.checks.push({ name, ok, detail });
}

/** Sessions and requests through a driver (also used by `_accel_two_vms.ts`). */
export class Io {
  readonly driver: VirtioCryptoDriver;

  constructor(driver: VirtioCryptoDriver) {
    this.driver = driver;
  }

  async session(spec: SessionSpec): Promise<bigint> {
    const r = await this.driver.createSessionCtrl(spec);
    if (r.status !== 0) throw new Error(`${spec.service} session refused with status ${r.status}`);
    return r.id;
  }

  /** Sends a request; returns its status and the bytes of one device-written role. */
  async send(req: DataRequest, bytes: PartBytes, role: VlfRole): Promise<{ status: number; out: string }> {
    const parts = buildRequest(req, this.driver.layout, bytes);
    const c = await this.driver.submit(0, parts.out, parts.in);
    const i = parts.inIndex[role];
    return { status: c.status, out: toHex(i === undefined ? undefined : c.in[i]) };
  }

  cbcSpec(op: 1 | 2): SessionSpec {
    return { service: "cipher", algo: CipherAlgo.AES_CBC, key: hex(CBC.key), op };
  }

  /** Encrypts (or decrypts) the CBC vector in session `id`. */
  cbc(id: bigint, encrypt: boolean): Promise<{ status: number; out: string }> {
    const input = hex(encrypt ? CBC.plaintext : CBC.ciphertext);
    const iv = hex(CBC.iv);
    return this.send(cipherRequest(id, encrypt, iv, input.length), { iv, src_data: input }, "dst_data");
  }
}

function expect(
  report: ScenarioReport,
  name: string,
  got: { status: number; out: string },
  want: string,
): void {
  const ok = got.status === 0 && got.out === want;
  check(report, name, ok, ok ? "" : `status ${got.status}, got ${got.out}, want ${want}`);
}

async function knownAnswers(report: ScenarioReport, io: Io): Promise<void> {
  expect(
    report,
    "AES-CBC encrypt (SP 800-38A F.2.1)",
    await io.cbc(await io.session(io.cbcSpec(1)), true),
    CBC.ciphertext,
  );
  expect(
    report,
    "AES-CBC decrypt (SP 800-38A F.2.2)",
    await io.cbc(await io.session(io.cbcSpec(2)), false),
    CBC.plaintext,
  );
  const sha = await io.session({ service: "hash", algo: HashAlgo.SHA_256, resultLen: 32 });
  const msg = hex(SHA256.message);
  expect(
    report,
    "SHA-256 (FIPS 180-4 abc)",
    await io.send(hashRequest(sha, msg.length, 32), { src_data: msg }, "hash_result"),
    SHA256.digest,
  );
  const mac = await io.session({
    service: "mac",
    algo: MacAlgo.HMAC_SHA_256,
    resultLen: 32,
    key: hex(HMAC.key),
  });
  const data = hex(HMAC.message);
  expect(
    report,
    "HMAC-SHA256 (RFC 4231 case 2)",
    await io.send(macRequest(mac, data.length, 32), { src_data: data }, "hash_result"),
    HMAC.mac,
  );
  await gcm(report, io);
  await chain(report, io);
}

async function gcm(report: ScenarioReport, io: Io): Promise<void> {
  const id = await io.session({
    service: "aead",
    algo: AeadAlgo.GCM,
    key: hex(GCM.key),
    tagLen: 16,
    aadLen: 20,
    op: 1,
  });
  const [iv, aad, pt] = [hex(GCM.nonce), hex(GCM.aad), hex(GCM.plaintext)];
  const lengths = {
    ivLen: iv.length,
    aadLen: aad.length,
    srcLen: pt.length,
    dstLen: pt.length + 16,
    tagLen: 16,
  };
  const got = await io.send(aeadRequest(id, true, lengths), { iv, aad, src_data: pt }, "dst_data");
  expect(report, "AES-GCM encrypt (GCM spec test case 4)", got, GCM.ciphertext + GCM.tag);
}

async function chain(report: ScenarioReport, io: Io): Promise<void> {
  const authKey = hex(HMAC.key);
  const id = await io.session({
    service: "chain",
    order: AlgChainOrder.CIPHER_THEN_HASH,
    cipherAlgo: CipherAlgo.AES_CBC,
    key: hex(CBC.key),
    op: 1,
    hashMode: SymHashMode.AUTH,
    authAlgo: MacAlgo.HMAC_SHA_256,
    resultLen: 32,
    authKey,
    aadLen: 0,
  });
  const [iv, pt] = [hex(CBC.iv), hex(CBC.plaintext)];
  const l = {
    ivLen: 16,
    srcLen: 64,
    cipherStart: 0,
    cipherLen: 64,
    hashStart: 0,
    hashLen: 64,
    aadLen: 0,
    resultLen: 32,
  };
  const req = chainRequest(id, true, l);
  const parts = buildRequest(req, io.driver.layout, { iv, src_data: pt });
  const c = await io.driver.submit(0, parts.out, parts.in);
  const ct = toHex(c.in[parts.inIndex.dst_data!]);
  const tag = toHex(c.in[parts.inIndex.hash_result!]);
  // The MAC of the ciphertext, computed independently (node:crypto) over the vector's known ciphertext.
  const want = createHmac("sha256", authKey).update(hex(CBC.ciphertext)).digest("hex");
  const ok = c.status === 0 && ct === CBC.ciphertext && tag === want;
  check(
    report,
    "AES-CBC then HMAC-SHA256 chain",
    ok,
    ok ? "" : `status ${c.status}, ct ${ct}, mac ${tag}, want ${want}`,
  );
}

async function manySessions(report: ScenarioReport, io: Io): Promise<void> {
  const ids: bigint[] = [];
  for (let i = 0; i < SESSIONS; i++) ids.push(await io.session(io.cbcSpec(1)));
  const results: { status: number; out: string }[] = [];
  for (let i = 0; i < ids.length; i += 32) { // the driver's ring holds about 50 such requests
    results.push(...await Promise.all(ids.slice(i, i + 32).map((id) => io.cbc(id, true))));
  }
  const right = results.filter((r) => r.status === 0 && r.out === CBC.ciphertext).length;
  check(
    report,
    `${SESSIONS} AES-CBC sessions: every request right`,
    right === SESSIONS,
    `${right}/${SESSIONS} right`,
  );
  for (const id of ids) await io.driver.closeSessionCtrl("cipher", id);
}

/** What the scenario pokes at, wherever the daemon serves its VM (its Worker, or this thread). */
function faults(daemon: Daemon): { inflight(): number; injectReset(): void; state(): string } {
  const shared = daemon.accelerator;
  if (shared !== null) {
    return {
      inflight: () => shared.stats().vms[0]?.inflight ?? 0,
      injectReset: () => shared.injectReset(),
      state: () => shared.state,
    };
  }
  const accel = daemon.accel;
  if (accel === null) throw new Error("the daemon has no accelerator");
  return {
    inflight: () => accel.stats().inflight,
    injectReset: () => accel.injectReset(),
    state: () => accel.state,
  };
}

async function resetUnderLoad(report: ScenarioReport, io: Io, daemon: Daemon): Promise<void> {
  const accel = faults(daemon);
  const id = await io.session(io.cbcSpec(1));
  const results: { status: number; out: string }[] = [];
  let injectedAt = -1;
  for (let round = 0; round < 40 && injectedAt < 0; round++) {
    let settled = false;
    const batch = Promise.all(Array.from({ length: 32 }, () => io.cbc(id, true))).finally(() =>
      settled = true
    );
    while (!settled && injectedAt < 0) {
      if (accel.inflight() > 0) {
        injectedAt = accel.inflight();
        accel.injectReset();
      }
      await new Promise((r) => setTimeout(r, 0));
    }
    results.push(...await batch);
  }
  results.push(...await Promise.all(Array.from({ length: 32 }, () => io.cbc(id, true)))); // after: software
  const right = results.filter((r) => r.status === 0 && r.out === CBC.ciphertext).length;
  check(
    report,
    "device reset with requests in flight",
    injectedAt > 0,
    `${injectedAt} in flight at the reset`,
  );
  check(
    report,
    "reset under load: no request lost, every answer right",
    right === results.length,
    `${right}/${results.length} right`,
  );
}

async function restart(report: ScenarioReport, io: Io, daemon: Daemon): Promise<void> {
  await new Promise((r) => setTimeout(r, 1100)); // the engine retries a failed device at most once a second
  const before = (await daemon.stats()).router?.accelRequests ?? 0;
  const id = await io.session(io.cbcSpec(1));
  expect(report, "AES-CBC after the restart", await io.cbc(id, true), CBC.ciphertext);
  const served = ((await daemon.stats()).router?.accelRequests ?? 0) - before;
  const state = faults(daemon).state();
  check(
    report,
    "the restarted device serves new sessions",
    served === 1 && state === "ready",
    `${served} served, ${state}`,
  );
}

/**
 * What is wrong with a report: failed checks, and counters that do not prove which path served what.
 *
 * @param report The scenario's report.
 * @param deviceSessions How many sessions the device holds (QEMU's built-in back-end: 256).
 * @returns The problems (empty when everything holds).
 */
export function scenarioProblems(report: ScenarioReport, deviceSessions = 256): string[] {
  const problems = report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
  const r = (name: string) => report.stats[name]?.router;
  const [kats, sessions, reset, restarted] = [r("kats"), r("sessions"), r("reset"), r("restart")];
  if (!kats || !sessions || !reset || !restarted) return [...problems, "the daemon has no router counters"];
  const want = (ok: boolean, what: string) => ok || problems.push(what);
  want(
    kats.accelRequests >= 2 && kats.accelSessions >= 2,
    `AES-CBC not served by the device: ${JSON.stringify(kats)}`,
  );
  want(
    kats.fallbacks["not-advertised"] >= 4,
    `SHA-256, HMAC, GCM, chain not sent to software: ${JSON.stringify(kats)}`,
  );
  const onDevice = sessions.accelSessions - kats.accelSessions;
  const nospc = sessions.fallbacks.nospc - kats.fallbacks.nospc;
  want(
    onDevice + nospc === SESSIONS,
    `${onDevice} on the device + ${nospc} for lack of space is not ${SESSIONS}`,
  );
  want(nospc >= SESSIONS - deviceSessions, `only ${nospc} sessions went to software for lack of space`);
  want(
    reset.fallbacks.failed > sessions.fallbacks.failed,
    "no request was re-run in software after the reset",
  );
  const accel = report.stats["restart"]?.accelerator;
  want(
    accel !== null && accel !== undefined && accel.failures >= 1 && accel.epoch === 2,
    `accelerator: ${JSON.stringify(accel)}`,
  );
  return problems;
}
