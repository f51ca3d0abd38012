/**
 * The fuzzer's batches: mutated vhost-user messages (with fds) on a raw connection, and mutated data and
 * control-queue requests on a driver's rings, with a canary area of guest RAM no request points to.
 *
 * @module
 */

import type { VirtioCryptoDriver } from "../../src/frontend/mod.ts";
import { createMemfd, EventFd, UnixConnection } from "../../src/os/mod.ts";
import { CipherAlgo } from "../../src/spec/virtio_crypto.ts";
import { encodeMessage, Request } from "../../src/vhost_user/mod.ts";
import { mutateHeader, mutateMessage, type Rng } from "./mutate.ts";
import { closeSessions, fuzzRequest, type FuzzSession, openSessions } from "./requests.ts";
import { openDriver, withTimeout } from "./target.ts";

/** What a batch found. */
export interface BatchResult {
  readonly inputs: number;
  readonly hangs: number;
  readonly strayWrites: number;
}

const HANDSHAKE = [Request.GET_FEATURES, Request.GET_PROTOCOL_FEATURES, Request.SET_OWNER];

/**
 * Mutated vhost-user messages on one connection (after a plausible start), then the connection closes.
 *
 * @param socket The daemon's socket.
 * @param rng The batch's PRNG.
 * @param count Messages.
 * @returns The count sent.
 */
export async function messageBatch(socket: string, rng: Rng, count: number): Promise<BatchResult> {
  const conn = UnixConnection.connect(socket, { sendTimeoutMs: 200 });
  using efd = new EventFd();
  using memfd = createMemfd("fuzz", 1 << 16);
  let sent = 0;
  try {
    for (const r of HANDSHAKE) conn.send(encodeMessage(r, 1));
    for (; sent < count; sent++) {
      const m = mutateMessage(rng);
      const bytes = encodeMessage(m.request, m.flags, m.payload);
      new DataView(bytes.buffer).setUint32(8, m.size, true);
      const fds = m.withFd ? [rng.below(2) === 0 ? efd.fd : memfd.raw] : [];
      conn.send(m.truncateAt === null ? bytes : bytes.subarray(0, Math.max(1, m.truncateAt)), fds);
      if (m.truncateAt !== null) break; // a truncated message: the rest would be read as its payload
      if (sent % 16 === 15) await new Promise((r) => setTimeout(r, 0));
    }
  } catch {
    // dropped by the daemon (EPIPE, ECONNRESET): what a protocol error does
  } finally {
    conn.close();
  }
  return { inputs: sent + 1, hangs: 0, strayWrites: 0 };
}

/**
 * Mutated data requests (cipher and hash, direct, indirect and split chains) and control-queue session
 * create/destroy pairs on a driver, with a canary area checked afterwards.
 *
 * @param socket The daemon's socket.
 * @param rng The batch's PRNG.
 * @param o Inputs and data queues.
 * @returns Inputs, hangs and stray writes.
 */
export async function dataBatch(
  socket: string,
  rng: Rng,
  o: { count: number; queues: number },
): Promise<BatchResult> {
  const driver = await openDriver({
    path: socket,
    dataQueues: o.queues,
    queueSize: rng.pick([16, 64, 256]), // ring layouts: the three rings at sizes (and so offsets) that differ
    ramSize: 24 << 20,
    slotSize: 16 << 10,
    revision1: rng.below(2) === 0,
  });
  let hangs = 0;
  // UNSAFE: a view of guest RAM; read only while the driver is open.
  const canaryGpa = driver.reserveRam(64 << 10);
  const canary = driver.ram.view(canaryGpa, 64 << 10);
  for (let i = 0; i < canary.length; i++) canary[i] = (i * 131 + 7) & 0xff;
  const snapshot = canary.slice();
  try {
    const sessions = await openSessions(driver, rng);
    for (let i = 0; i < o.count; i++) {
      if (!await oneRequest(driver, rng, sessions, o.queues)) hangs++;
    }
    await closeSessions(driver, sessions);
    // Before close: the view is of guest RAM, which close unmaps.
    let stray = 0;
    for (let i = 0; i < canary.length; i++) if (canary[i] !== snapshot[i]) stray++;
    return { inputs: o.count, hangs, strayWrites: stray };
  } finally {
    await driver.close();
  }
}

async function oneRequest(
  driver: VirtioCryptoDriver,
  rng: Rng,
  sessions: readonly FuzzSession[],
  queues: number,
): Promise<boolean> {
  const kind = rng.below(3);
  if (kind === 2) {
    // A session made and destroyed, with a mutated key length, so the table never fills.
    const r = await driver.createSessionCtrl({
      service: "cipher",
      algo: rng.pick([CipherAlgo.AES_CBC, CipherAlgo.AES_CTR, CipherAlgo.AES_ECB, rng.below(40)]),
      key: rng.bytes(rng.pick([16, 24, 32, 7, 64])),
      op: rng.pick([1, 2] as const),
    });
    if (r.id > 0n) await driver.closeSessionCtrl("cipher", r.id);
    return true;
  }
  const parts = fuzzRequest(driver, rng, sessions);
  if (parts === null) return true;
  const out = parts.out.map((p, i) => i === 0 ? { bytes: mutateHeader(rng, p.bytes) } : p);
  const shape = {
    indirect: rng.below(2) === 0,
    ...(rng.below(3) === 0 ? { maxDescriptor: 1 + rng.below(64) } : {}),
  };
  try {
    const c = await withTimeout(driver.submit(rng.below(queues), out, parts.in, shape), 5000);
    return c !== null;
  } catch {
    return true; // the driver refused the shape (queue full): not an input
  }
}
