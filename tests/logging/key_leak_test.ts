/**
 * No key bytes in any log line, at any level, in either format: the real daemon (software engine) at trace level,
 * a front-end creating sessions with known random keys every way the device takes them (vhost-user message 26,
 * the control queue, stateless requests carrying keys), using them, closing them, refusing a bad one, and
 * stopping. Every line printed is searched for every key as hex, base64, raw bytes and decimal lists.
 *
 * @module
 */

import assert from "node:assert/strict";
import { getLogger } from "@logtape/logtape";
import {
  AeadAlgo,
  AlgChainOrder,
  CipherAlgo,
  MacAlgo,
  Opcode,
  Status,
  SymHashMode,
  SymOpType,
} from "../../src/spec/virtio_crypto.ts";
import { aeadRequest, cipherRequest, macRequest, statelessRequest } from "../../src/frontend/mod.ts";
import { configureLogging, type LogFormat, resetLogging } from "../../src/logging/logging.ts";
import { ctrlSession, send, startRig } from "../integration/_daemon.ts";
import { spellings } from "./_spellings.ts";

function randomKey(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}

function leaks(lines: readonly string[], keys: Record<string, Uint8Array>): string[] {
  const found: string[] = [];
  for (const [name, key] of Object.entries(keys)) {
    for (const s of spellings(key)) {
      const line = lines.find((l) => l.includes(s));
      if (line !== undefined) {
        found.push(`${name} as ${JSON.stringify(s.slice(0, 24))} in: ${line.slice(0, 200)}`);
      }
    }
  }
  return found;
}

/** Captures everything written to the console while `body` runs. */
async function captureConsole(body: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const saved = { ...console };
  const take = (...a: unknown[]): void => void lines.push(a.map(String).join(" "));
  Object.assign(console, { log: take, error: take, warn: take, info: take, debug: take, trace: take });
  try {
    await body();
  } finally {
    Object.assign(console, saved);
  }
  return lines;
}

const KEYS = {
  vhostCipher: randomKey(16),
  ctrlMac: randomKey(32),
  ctrlAead: randomKey(32),
  chainCipher: randomKey(16),
  chainAuth: randomKey(32),
  statelessCipher: randomKey(16),
  refused: randomKey(17),
} as const;

type Driver = Awaited<ReturnType<typeof startRig>>["driver"];

/** Sessions with keys by message 26 and by the control queue, used and closed. */
async function keyedSessions(d: Driver, iv: Uint8Array): Promise<void> {
  const cbc = await d.createSessionVhost({
    service: "cipher",
    algo: CipherAlgo.AES_CBC,
    key: KEYS.vhostCipher,
    op: 1,
  });
  assert.equal(
    (await send(d, cipherRequest(cbc, true, iv, 64), { iv, src_data: randomKey(64) })).status,
    Status.OK,
  );
  await d.closeSessionVhost(cbc);
  const mac = await ctrlSession(d, {
    service: "mac",
    algo: MacAlgo.HMAC_SHA_256,
    resultLen: 32,
    key: KEYS.ctrlMac,
  });
  assert.equal((await send(d, macRequest(mac, 40, 32), { src_data: randomKey(40) })).status, Status.OK);
  await d.closeSessionCtrl("mac", mac);
  const gcm = await ctrlSession(d, {
    service: "aead",
    algo: AeadAlgo.GCM,
    key: KEYS.ctrlAead,
    tagLen: 16,
    aadLen: 8,
    op: 2,
  });
  const lengths = { ivLen: 12, aadLen: 8, srcLen: 48, dstLen: 32, tagLen: 16 };
  const bad = await send(d, aeadRequest(gcm, false, lengths), {
    iv: randomKey(12),
    aad: randomKey(8),
    src_data: randomKey(48),
  });
  assert.equal(bad.status, Status.BADMSG); // a wrong tag: logged at debug, without the key
  await d.closeSessionCtrl("aead", gcm);
  const chain = await ctrlSession(d, {
    service: "chain",
    order: AlgChainOrder.CIPHER_THEN_HASH,
    cipherAlgo: CipherAlgo.AES_CBC,
    key: KEYS.chainCipher,
    op: 1,
    hashMode: SymHashMode.AUTH,
    authAlgo: MacAlgo.HMAC_SHA_256,
    resultLen: 32,
    authKey: KEYS.chainAuth,
    aadLen: 0,
  });
  await d.closeSessionCtrl("chain", chain);
}

/** A stateless request carrying its key, a refused key, an unknown session, a slip. */
async function otherKeys(d: Driver, iv: Uint8Array): Promise<void> {
  const stateless = statelessRequest(Opcode.CIPHER_ENCRYPT, {
    opType: SymOpType.CIPHER,
    cipherAlgo: CipherAlgo.AES_CBC,
    keyLen: 16,
    op: 1,
    ivLen: 16,
    srcDataLen: 32,
    dstDataLen: 32,
  });
  const s = await send(d, stateless, { cipher_key: KEYS.statelessCipher, iv, src_data: randomKey(32) });
  assert.equal(s.status, Status.OK);
  const refused = await d.createSessionCtrl({
    service: "cipher",
    algo: CipherAlgo.AES_CBC,
    key: KEYS.refused,
    op: 1,
  });
  assert.notEqual(refused.status, Status.OK);
  assert.equal(
    await d.createSessionVhost({ service: "cipher", algo: CipherAlgo.AES_CBC, key: KEYS.refused, op: 1 }),
    -1n,
  );
  await d.closeSessionVhost(987654321n); // unknown: logged
  // A slip a future change could make: bytes handed to a logger are printed as their length only.
  getLogger(["cryptobridge", "test"]).debug("a slip: {key}", {
    key: KEYS.vhostCipher,
    nested: [KEYS.ctrlMac],
  });
}

async function scenario(): Promise<void> {
  await using rig = await startRig({ revision1: true });
  const iv = randomKey(16);
  await keyedSessions(rig.driver, iv);
  await otherKeys(rig.driver, iv);
}

for (const format of ["text", "json"] as const satisfies readonly LogFormat[]) {
  Deno.test(`no key bytes in any log line at trace level (--log-format ${format})`, async () => {
    const lines = await captureConsole(async () => {
      await configureLogging("trace", { format });
      try {
        await scenario();
      } finally {
        await resetLogging();
      }
    });
    assert.ok(lines.length >= 10, `the scenario should log (got ${lines.length} lines)`);
    assert.ok(
      lines.some((l) => l.includes("a slip") && l.includes("[16 bytes]")),
      "the slip was logged, redacted",
    );
    assert.ok(lines.some((l) => /stopped/.test(l)), "the daemon's stop was logged");
    if (format === "json") {
      for (const l of lines) {
        const o = JSON.parse(l);
        assert.ok(typeof o["@timestamp"] === "string" && typeof o.level === "string" && "message" in o, l);
      }
    }
    assert.deepEqual(leaks(lines, KEYS), []);
  });
}

Deno.test("the leak search finds a key written as hex, base64 or raw bytes", () => {
  const key = randomKey(16);
  const hex = [...key].map((b) => b.toString(16).padStart(2, "0")).join("");
  for (
    const line of [`k=${hex}`, `k=${btoa(String.fromCharCode(...key))}`, `k=${String.fromCharCode(...key)}`]
  ) {
    assert.equal(leaks([line], { key }).length > 0, true, line);
  }
  assert.deepEqual(leaks(["nothing here"], { key }), []);
});
