/**
 * Fixtures for hostile-input tests: a daemon on a temporary socket with its log captured, a raw vhost-user peer
 * that packs messages by hand (libvfio-user's `struct.pack` tests, style.md §1.3), and the proof that a daemon
 * still serves: a fresh connection, an AES-CBC session through message 26 and NIST SP 800-38A F.2.1. The raw guest
 * (descriptors written by hand) is in `_raw_guest.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { openFds } from "../_fixtures/fd_leaks.ts";
import { configure, type LogRecord, reset } from "@logtape/logtape";
import { CipherAlgo, Status } from "../../src/spec/virtio_crypto.ts";
import { encodeVhostSession, type VhostSessionRequest } from "../../src/crypto/mod.ts";
import { type Daemon, runDaemon } from "../../src/daemon/daemon.ts";
import { buildRequest, cipherRequest, VirtioCryptoDriver } from "../../src/frontend/mod.ts";
import { Errno, ErrnoError, UnixConnection, type UnixConnectionOptions } from "../../src/os/mod.ts";
import {
  Flags,
  HEADER_SIZE,
  MAX_PAYLOAD,
  ProtocolFeature,
  Request,
  requestName,
  u64Payload,
  VHOST_USER_F_PROTOCOL_FEATURES,
} from "../../src/vhost_user/mod.ts";
import { readU32, readU64, writeU32 } from "../../src/virtio/mod.ts";

// NIST SP 800-38A, F.2.1 CBC-AES128.Encrypt.
export const KEY: Uint8Array = hex("2b7e151628aed2a6abf7158809cf4f3c");
export const IV: Uint8Array = hex("000102030405060708090a0b0c0d0e0f");
export const PT: Uint8Array = hex(
  "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710",
);
export const CT: Uint8Array = hex(
  "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b273bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7",
);

/** How long any wait in these tests may take before it counts as a hang. */
export const TIMEOUT_MS = 2000;

/** Hex string to bytes. */
export function hex(s: string): Uint8Array {
  return new Uint8Array(s.match(/../g)!.map((b) => parseInt(b, 16)));
}

/** One event-loop turn (lets the in-process daemon's reactor run). */
export function tick(ms = 1): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until `done()` is true; fails the test with `what` after `TIMEOUT_MS`. */
export async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + TIMEOUT_MS;
  while (!done()) {
    if (Date.now() > deadline) assert.fail(`Timed out after ${TIMEOUT_MS} ms waiting for ${what}`);
    await tick();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The daemon

/** A daemon on a temporary socket, with every `cryptobridge.*` log line it wrote. */
export interface TestDaemon extends AsyncDisposable {
  readonly daemon: Daemon;
  readonly socket: string;
  /** Log lines, rendered ("warning: dropping front-end connection: ..."). */
  readonly logs: string[];
  /** The records behind `logs` (levels, properties). */
  readonly records: LogRecord[];
}

/**
 * Starts a daemon (software engine) on a socket in a new temporary folder and captures its log.
 *
 * @param options Daemon options (the socket is filled in).
 */
export async function startDaemon(options: Parameters<typeof runDaemon>[0] = {}): Promise<TestDaemon> {
  const logs: string[] = [];
  const records: LogRecord[] = [];
  const sink = (r: LogRecord): void => {
    records.push(r);
    logs.push(`${r.level}: ${r.message.map((p) => typeof p === "string" ? p : String(p)).join("")}`);
  };
  await configure({
    reset: true,
    sinks: { memory: sink },
    loggers: [
      { category: ["cryptobridge"], lowestLevel: "info", sinks: ["memory"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["memory"] },
    ],
  });
  const dir = await Deno.makeTempDir({ prefix: "cryptobridge-hostile-" });
  const socket = `${dir}/vhost.sock`;
  const daemon = runDaemon({ placement: "inline", ...options, socket });
  // These tests read the line each hostile input causes; the rate limit has tests of its own.
  daemon.device.logLimit.burst = Infinity;
  return {
    daemon,
    socket,
    logs,
    records,
    async [Symbol.asyncDispose](): Promise<void> {
      await daemon.stop();
      await Deno.remove(dir, { recursive: true });
      await reset();
    },
  };
}

/** Asserts that the daemon wrote a log line matching `pattern` (among the lines from index `since` on). */
export function assertLogged(t: TestDaemon, pattern: RegExp, since = 0): void {
  const lines = t.logs.slice(since);
  assert.ok(
    lines.some((l) => pattern.test(l)),
    `expected a log line matching ${pattern}; got:\n${lines.join("\n")}`,
  );
}

/** Waits until the daemon has no front-end (it dropped the last one). */
export async function waitIdle(t: TestDaemon): Promise<void> {
  await until(() => t.daemon.server.handler === null, "the daemon to drop its front-end");
}

/**
 * The proof that the daemon survived: it has no front-end and no session left over, and a brand-new connection
 * (QEMU 7.2's way: message 26 in layout B, an indirect Linux-shaped chain) encrypts SP 800-38A F.2.1 correctly.
 */
export async function assertServesFresh(t: TestDaemon): Promise<void> {
  await waitIdle(t);
  assert.equal(t.daemon.device.sessions.table.size, 0, "sessions of the dropped connection are closed");
  const accepted = t.daemon.server.connections;
  const driver = await VirtioCryptoDriver.open({ path: t.socket, qemuFeatures: true, queueSize: 64 });
  try {
    assert.equal(t.daemon.server.connections, accepted + 1);
    const id = await driver.createSessionVhost({
      service: "cipher",
      algo: CipherAlgo.AES_CBC,
      key: KEY,
      op: 1,
    });
    assert.ok(id >= 0n, `session refused: ${id}`);
    const parts = buildRequest(cipherRequest(id, true, IV, PT.length), driver.layout, {
      iv: IV,
      src_data: PT,
    });
    const c = await driver.submit(0, parts.out, parts.in, { indirect: true });
    assert.equal(c.status, Status.OK);
    assert.deepEqual(c.in[0], CT);
    assert.equal(c.usedLen, PT.length + 1);
  } finally {
    await driver.close();
  }
}

export { openFds } from "../_fixtures/fd_leaks.ts";

/** Descriptors open now that were not in `before`, once closes have settled (up to 200 ms). */
async function newFds(before: ReadonlySet<number>): Promise<number[]> {
  let added: number[] = [];
  for (const t0 = Date.now(); Date.now() - t0 < 200; await tick(10)) {
    added = [...openFds()].filter((fd) => !before.has(fd));
    if (added.length === 0) break;
  }
  return added;
}

/**
 * Runs `send` on a new connection and checks that the daemon drops it (or, with `peerCloses`, that `send` closing
 * the connection itself is survived), logs `why`, and closes every fd the message carried: no descriptor is open
 * afterwards that was not open before. Under `deno test --parallel` other test files share the fd table, so the
 * scenario is tried up to 3 times: a leak repeats every time, a neighbour's fds do not.
 */
export async function assertDroppedClosingFds(
  t: TestDaemon,
  send: (peer: RawPeer) => void | Promise<void>,
  why: RegExp,
  o: { peerCloses?: boolean } = {},
): Promise<void> {
  let leaked: number[] = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    const peer = await connect(t);
    const since = t.logs.length;
    const before = openFds();
    await send(peer);
    if (!o.peerCloses) await peer.expectDropped();
    peer.close();
    await waitIdle(t);
    assertLogged(t, why, since);
    leaked = await newFds(before);
    if (leaked.length === 0) return;
  }
  assert.fail(`descriptors leaked (3 attempts): ${leaked.join(", ")}`);
}

// ---------------------------------------------------------------------------------------------------------------
// A raw vhost-user peer

/** A received message. */
export interface RawReply {
  readonly request: number;
  readonly flags: number;
  readonly payload: Uint8Array;
}

/** Options of `RawPeer.send`. */
export interface SendOptions {
  /** Header flags; default VERSION (0x1). */
  readonly flags?: number;
  /** Header size; default the payload's length. */
  readonly size?: number;
  /** Fds to pass with the message. */
  readonly fds?: readonly number[];
}

/** A vhost-user front-end that writes headers by hand and reads whatever comes back. */
export class RawPeer implements Disposable {
  readonly conn: UnixConnection;
  readonly #buf = new Uint8Array(HEADER_SIZE + MAX_PAYLOAD + 4096);

  private constructor(conn: UnixConnection) {
    this.conn = conn;
  }

  /** Connects to the daemon's socket. */
  static connect(path: string, options?: UnixConnectionOptions): RawPeer {
    return new RawPeer(UnixConnection.connect(path, options));
  }

  /** Sends a header (as given) and a payload in one write. */
  send(request: number, payload: Uint8Array = new Uint8Array(0), o: SendOptions = {}): void {
    const bytes = new Uint8Array(HEADER_SIZE + payload.length);
    writeU32(bytes, 0, request);
    writeU32(bytes, 4, o.flags ?? Flags.VERSION);
    writeU32(bytes, 8, o.size ?? payload.length);
    bytes.set(payload, HEADER_SIZE);
    this.conn.send(bytes, o.fds ?? []);
  }

  /** Sends raw bytes. */
  sendBytes(bytes: Uint8Array, fds: readonly number[] = []): void {
    this.conn.send(bytes, fds);
  }

  // Reads exactly `n` bytes into #buf; "eof" when the daemon closed the connection (or reset it).
  async #read(n: number): Promise<"ok" | "eof"> {
    const deadline = Date.now() + TIMEOUT_MS;
    let have = 0;
    while (have < n) {
      let got: number;
      try {
        got = this.conn.recv(this.#buf, have, n - have, []);
      } catch (e) {
        if (e instanceof ErrnoError && e.errno === Errno.ECONNRESET) return "eof";
        throw e;
      }
      if (got === 0) return "eof";
      if (got > 0) {
        have += got;
        continue;
      }
      if (Date.now() > deadline) assert.fail(`Timed out after ${TIMEOUT_MS} ms waiting for the daemon`);
      await tick();
    }
    return "ok";
  }

  /** Reads one message; fails when the daemon closes the connection instead. */
  async reply(): Promise<RawReply> {
    if (await this.#read(HEADER_SIZE) === "eof") {
      assert.fail("the daemon closed the connection; a reply was due");
    }
    const request = readU32(this.#buf, 0);
    const flags = readU32(this.#buf, 4);
    const size = readU32(this.#buf, 8);
    assert.ok(size <= MAX_PAYLOAD, `reply payload of ${size} bytes`);
    if (size > 0 && await this.#read(size) === "eof") {
      assert.fail("the daemon closed the connection mid-reply");
    }
    return { request, flags, payload: this.#buf.slice(0, size) };
  }

  /** Sends a request that has a reply and checks the reply's header (request echoed, flags exactly 0x5). */
  async request(request: number, payload?: Uint8Array, o: SendOptions = {}): Promise<Uint8Array> {
    this.send(request, payload, o);
    const r = await this.reply();
    assert.equal(r.request, request, `reply to ${requestName(request)} is for ${requestName(r.request)}`);
    assert.equal(r.flags, Flags.VERSION | Flags.REPLY);
    return r.payload;
  }

  /** GET_FEATURES, a request every state answers: proves the connection is alive and replies line up. */
  async features(): Promise<bigint> {
    return readU64(await this.request(Request.GET_FEATURES), 0);
  }

  /** Waits for the daemon to close the connection; fails if anything arrives instead. */
  async expectDropped(): Promise<void> {
    const r = await this.#read(1);
    if (r === "ok") {
      assert.fail(`the daemon sent data (first byte 0x${this.#buf[0]!.toString(16)}) instead of closing`);
    }
  }

  /** The QEMU start-up negotiation, up to SET_FEATURES (bit 30 only, as QEMU 7.2's crypto path sends). */
  async negotiate(protocol = 1n << BigInt(ProtocolFeature.CRYPTO_SESSION)): Promise<void> {
    const offered = await this.features();
    assert.ok((offered & (1n << BigInt(VHOST_USER_F_PROTOCOL_FEATURES))) !== 0n);
    await this.request(Request.GET_PROTOCOL_FEATURES);
    this.send(Request.SET_PROTOCOL_FEATURES, u64Payload(protocol));
    this.send(Request.SET_OWNER);
    this.send(Request.SET_FEATURES, u64Payload(1n << BigInt(VHOST_USER_F_PROTOCOL_FEATURES)));
    await this.features();
  }

  close(): void {
    this.conn.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Connects a raw peer and waits until the daemon has accepted it (so its later drop can be told apart). */
export async function connect(t: TestDaemon): Promise<RawPeer> {
  const accepted = t.daemon.server.connections;
  const peer = RawPeer.connect(t.socket);
  await until(() => t.daemon.server.connections > accepted, "the daemon to accept the connection");
  return peer;
}

/**
 * The reaction to a malformed vhost-user message: the peer sees end of stream (no reply), the daemon logs why,
 * keeps listening, and serves a new connection from a clean state.
 */
export async function assertDropped(t: TestDaemon, peer: RawPeer, why: RegExp): Promise<void> {
  await peer.expectDropped();
  peer.close();
  await waitIdle(t);
  assertLogged(t, why);
  await assertServesFresh(t);
}

/** Message 26 in QEMU 7.2's layout (B): an AES-128-CBC encrypt session unless told otherwise. */
export function sessionPayload(req: Partial<VhostSessionRequest> = {}): Uint8Array {
  const full = { kind: "cipher", cipherAlg: CipherAlgo.AES_CBC, direction: 1, key: KEY, ...req };
  return encodeVhostSession(full as VhostSessionRequest, "B");
}
