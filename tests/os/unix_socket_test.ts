import assert from "node:assert/strict";
import { expectNoLeak, fdsSettle, openFds } from "../_fixtures/fd_leaks.ts";
import {
  createMemfd,
  ErrnoError,
  EventFd,
  type Fd,
  Mapping,
  MAX_FDS,
  UnixConnection,
  UnixListener,
  UnixSocketError,
} from "../../src/os/mod.ts";

function withTempDir(fn: (dir: string) => void | Promise<void>): () => Promise<void> {
  return async () => {
    const dir = Deno.makeTempDirSync({ prefix: "cb-unix-" });
    try {
      await fn(dir);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  };
}

/** Receives exactly `length` bytes that are already queued (fails instead of waiting). */
function recvAll(conn: UnixConnection, length: number, fds: Fd[] = []): Uint8Array {
  const buf = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const n = conn.recv(buf, got, length - got, fds);
    assert.ok(n > 0, `expected queued data, recv returned ${n}`);
    got += n;
  }
  return buf;
}

function acceptOne(listener: UnixListener): UnixConnection {
  const conn = listener.accept();
  assert.ok(conn !== null, "a connection should be waiting");
  return conn;
}

/** A Worker that borrows a socket fd (the test owns it) and reads it slowly, to make the writer wait. */
const SLOW_READER = `
import { Fd, UnixConnection } from "MOD_URL";
self.onmessage = async (event) => {
  const { fd, size } = event.data;
  const conn = new UnixConnection(new Fd(fd)); // borrowed: never closed here
  const buf = new Uint8Array(new ArrayBuffer(64 << 10));
  let received = 0;
  let sum = 0;
  while (received < size) {
    const n = conn.recv(buf, 0, Math.min(buf.length, size - received), []);
    if (n === -1) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      continue;
    }
    if (n === 0) break;
    for (let i = 0; i < n; i++) sum = (sum + buf[i]) % 65521;
    received += n;
  }
  self.postMessage({ received, sum });
};
self.postMessage("ready");
`;

function messageQueue(worker: Worker): { next(): Promise<MessageEvent> } {
  const queued: MessageEvent[] = [];
  const waiting: ((e: MessageEvent) => void)[] = [];
  worker.onmessage = (e) => {
    const w = waiting.shift();
    if (w) w(e);
    else queued.push(e);
  };
  return {
    next: () => {
      const e = queued.shift();
      return e ? Promise.resolve(e) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);

Deno.test(
  "UnixListener and UnixConnection.connect(): bytes go both ways and nothing leaks",
  withTempDir(async (dir) => {
    const path = `${dir}/vhost.sock`;
    await expectNoLeak(async () => {
      const before = openFds();
      {
        using listener = UnixListener.listen(path);
        assert.equal(listener.path, path);
        assert.ok(Deno.lstatSync(path).isSocket);
        assert.equal(listener.accept(), null);
        using client = UnixConnection.connect(path);
        using server = acceptOne(listener);
        client.send(bytes(1, 2, 3));
        assert.deepEqual(recvAll(server, 3), bytes(1, 2, 3));
        server.send(bytes(9));
        assert.deepEqual(recvAll(client, 1), bytes(9));
        assert.equal(server.recv(new Uint8Array(4), 0, 4, []), -1);
      }
      assert.throws(() => Deno.lstatSync(path), Deno.errors.NotFound);
      return await fdsSettle(before);
    });
  }),
);

Deno.test("UnixConnection passes an EventFd and a memfd: both work on the receiving side", () => {
  const [a, b] = UnixConnection.pair();
  using _a = a;
  using _b = b;
  using kick = new EventFd();
  using ram = createMemfd("test-guest-ram", 4096);
  a.send(bytes(7, 7), [kick.fd, ram.raw]);

  const fds: Fd[] = [];
  assert.deepEqual(recvAll(b, 2, fds), bytes(7, 7));
  assert.equal(fds.length, 2);
  using received = new EventFd(fds[0]!);
  using receivedRam = fds[1]!;
  assert.notEqual(received.fd, kick.fd);

  received.signal(5n);
  assert.equal(kick.consume(), 5n);

  using mine = Mapping.fromFd(ram.raw, 4096);
  using theirs = Mapping.fromFd(receivedRam.raw, 4096);
  theirs.bytes[100] = 0x5a;
  assert.equal(mine.bytes[100], 0x5a);
});

Deno.test("UnixConnection.recv() takes several fds from one message, all close-on-exec", () => {
  const [a, b] = UnixConnection.pair();
  using _a = a;
  using _b = b;
  const sent = Array.from({ length: 8 }, () => new EventFd());
  a.send(bytes(1), sent.map((e) => e.fd));
  const fds: Fd[] = [];
  recvAll(b, 1, fds);
  assert.equal(fds.length, 8);
  for (const [i, fd] of fds.entries()) {
    assert.ok(fd.isCloseOnExec());
    using e = new EventFd(fd);
    e.signal(BigInt(i + 1));
    assert.equal(sent[i]!.consume(), BigInt(i + 1));
  }
  for (const e of sent) e.close();
});

Deno.test("UnixConnection.recv() closes every received fd on MSG_CTRUNC", async () => {
  await expectNoLeak(async () => {
    // Room for 2 fds: the kernel installs 2 of the 4, drops the others and sets MSG_CTRUNC.
    const [a, b] = UnixConnection.pair({ controlSize: 24 });
    using _a = a;
    using _b = b;
    const sent = Array.from({ length: 4 }, () => new EventFd());
    a.send(bytes(1, 2), sent.map((e) => e.fd));
    const before = openFds();
    const fds: Fd[] = [];
    assert.throws(
      () => b.recv(new Uint8Array(2), 0, 2, fds),
      (e: unknown) =>
        e instanceof UnixSocketError && e.kind === "control-truncated" &&
        /closed the 2 received/.test(e.message),
    );
    assert.equal(fds.length, 0);
    const settled = await fdsSettle(before);
    for (const e of sent) e.close();
    return settled;
  });
});

Deno.test("UnixConnection.recv() with no control buffer reports MSG_CTRUNC when fds arrive", async () => {
  await expectNoLeak(async () => {
    const [a, b] = UnixConnection.pair({ controlSize: 0 });
    using _a = a;
    using _b = b;
    using e = new EventFd();
    a.send(bytes(1), [e.fd]);
    const before = openFds();
    assert.throws(() => b.recv(new Uint8Array(1), 0, 1, []), /MSG_CTRUNC/);
    const settled = await fdsSettle(before);
    a.send(bytes(2));
    assert.deepEqual(recvAll(b, 1), bytes(2)); // without fds, a message still gets through
    return settled;
  });
});

Deno.test("UnixConnection.recv() keeps MAX_FDS fds of one message and closes the rest", async () => {
  await expectNoLeak(async () => {
    const [a, b] = UnixConnection.pair({ controlSize: 16 + 4 * 40 });
    using _a = a;
    using _b = b;
    using e = new EventFd();
    a.send(bytes(1), Array.from({ length: 40 }, () => e.fd));
    const before = openFds();
    const fds: Fd[] = [];
    recvAll(b, 1, fds);
    assert.equal(fds.length, MAX_FDS);
    const kept = await fdsSettle(before, fds.map((fd) => fd.raw));
    for (const fd of fds) fd.close();
    return kept && await fdsSettle(before);
  });
});

Deno.test("UnixConnection.recv() returns what arrived of a message sent in two pieces", async () => {
  const [a, b] = UnixConnection.pair();
  using _a = a;
  using _b = b;
  using e = new EventFd();
  const buf = new Uint8Array(8);
  const fds: Fd[] = [];
  assert.equal(b.recv(buf, 0, 8, fds), -1);
  a.send(bytes(1, 2, 3), [e.fd]);
  await new Promise((resolve) => setTimeout(resolve, 20));
  a.send(bytes(4, 5, 6, 7, 8));
  assert.equal(b.recv(buf, 0, 8, fds), 3); // a read stops at the piece that carried fds
  assert.equal(fds.length, 1);
  assert.equal(b.recv(buf, 3, 5, fds), 5);
  assert.deepEqual(buf, bytes(1, 2, 3, 4, 5, 6, 7, 8));
  assert.equal(fds.length, 1);
  fds[0]!.close();
});

Deno.test("UnixConnection.recv() returns 0 at end of stream; send() to a closed peer throws EPIPE", () => {
  const [a, b] = UnixConnection.pair();
  using _b = b;
  a.send(bytes(1));
  a.close();
  assert.deepEqual(recvAll(b, 1), bytes(1));
  assert.equal(b.recv(new Uint8Array(4), 0, 4, []), 0);
  assert.throws(() => b.send(bytes(1)), (e: unknown) => e instanceof ErrnoError && e.code === "EPIPE");
});

Deno.test("UnixConnection.shutdown() ends the peer's stream", () => {
  const [a, b] = UnixConnection.pair();
  using _a = a;
  using _b = b;
  a.shutdown();
  assert.equal(b.recv(new Uint8Array(1), 0, 1, []), 0);
});

Deno.test("UnixConnection.send() gives up when the peer reads nothing for sendTimeoutMs", () => {
  const [a, b] = UnixConnection.pair({ sendTimeoutMs: 20 });
  using _a = a;
  using _b = b;
  const big = new Uint8Array(16 << 20);
  const t0 = performance.now();
  assert.throws(
    () => a.send(big),
    (e: unknown) =>
      e instanceof UnixSocketError && e.kind === "send-timeout" && /read nothing for 20 ms/.test(e.message),
  );
  assert.ok(performance.now() - t0 < 2000);
});

Deno.test("UnixConnection.send() loops on partial writes while a slow peer reads", async () => {
  const [a, b] = UnixConnection.pair({ sendTimeoutMs: 5000 });
  using _a = a;
  using _b = b;
  const size = 4 << 20;
  const code = SLOW_READER.replace("MOD_URL", new URL("../../src/os/mod.ts", import.meta.url).href);
  const url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
  const worker = new Worker(url, { type: "module" });
  try {
    const messages = messageQueue(worker);
    assert.equal((await messages.next()).data, "ready");
    worker.postMessage({ fd: b.fd, size });
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i++) data[i] = i * 7;
    a.send(data); // far more than the socket buffer: partial writes and poll(POLLOUT) while the worker reads
    const result = (await messages.next()).data as { received: number; sum: number };
    assert.equal(result.received, size);
    assert.equal(result.sum, data.reduce((s, v) => (s + v) % 65521, 0));
  } finally {
    worker.terminate();
    URL.revokeObjectURL(url);
  }
});

Deno.test(
  "UnixListener.listen() replaces a stale socket file",
  withTempDir((dir) => {
    const path = `${dir}/stale.sock`;
    // A socket file nobody accepts on, as a crashed daemon leaves behind: bind elsewhere, rename, close.
    const old = UnixListener.listen(`${dir}/old.sock`);
    Deno.renameSync(`${dir}/old.sock`, path);
    old.close();
    assert.ok(Deno.lstatSync(path).isSocket);
    using listener = UnixListener.listen(path);
    using client = UnixConnection.connect(path);
    using server = acceptOne(listener);
    client.send(bytes(42));
    assert.deepEqual(recvAll(server, 1), bytes(42));
  }),
);

Deno.test(
  "UnixListener.listen() refuses a path another process is serving",
  withTempDir(async (dir) => {
    const path = `${dir}/busy.sock`;
    using first = UnixListener.listen(path);
    await expectNoLeak(async () => {
      const before = openFds();
      assert.throws(
        () => UnixListener.listen(path),
        (e: unknown) =>
          e instanceof UnixSocketError && e.kind === "in-use" &&
          e.message === `Cannot listen on ${path}: another process is serving it`,
      );
      return await fdsSettle(before);
    });
    for (let c = first.accept(); c !== null; c = first.accept()) c.close(); // the probes' connections
    assert.ok(Deno.lstatSync(path).isSocket);
  }),
);

Deno.test(
  "UnixListener.listen() refuses a path that is not a socket and leaves the file alone",
  withTempDir((dir) => {
    const path = `${dir}/file`;
    Deno.writeTextFileSync(path, "keep me");
    assert.throws(() => UnixListener.listen(path), /Cannot listen on .*: it exists and is not a socket/);
    assert.equal(Deno.readTextFileSync(path), "keep me");
  }),
);

Deno.test("UnixListener.listen() rejects a path longer than 107 bytes", async () => {
  const path = `/tmp/${"x".repeat(103)}`; // 108 bytes
  await expectNoLeak(async () => {
    const before = openFds();
    assert.throws(
      () => UnixListener.listen(path),
      (e: unknown) => e instanceof RangeError && /at most 107 bytes: current length is 108/.test(e.message),
    );
    assert.throws(() => UnixConnection.connect(path), RangeError);
    return await fdsSettle(before);
  });
});

Deno.test(
  "UnixListener.close() leaves a socket file that another listener put in its place",
  withTempDir((dir) => {
    const path = `${dir}/replaced.sock`;
    const first = UnixListener.listen(path);
    Deno.removeSync(path);
    using second = UnixListener.listen(path);
    first.close();
    first.close();
    using _client = UnixConnection.connect(path);
    acceptOne(second).close();
  }),
);

Deno.test(
  "UnixConnection.connect() to a missing path throws ENOENT with the path",
  withTempDir((dir) => {
    assert.throws(
      () => UnixConnection.connect(`${dir}/none.sock`),
      (e: unknown) => e instanceof ErrnoError && e.message === `Cannot connect to ${dir}/none.sock: ENOENT`,
    );
  }),
);

Deno.test("UnixConnection rejects bad spans and options with std-style messages", () => {
  const [a, b] = UnixConnection.pair();
  using _a = a;
  using _b = b;
  assert.throws(() => a.recv(new Uint8Array(4), 2, 3, []), /current end is 5/);
  assert.throws(() => a.recv(new Uint8Array(4), 0, 0, []), RangeError);
  assert.throws(() => a.send(new Uint8Array(0), [0]), /the data is empty/);
  const fd = createMemfd("test-options", 1);
  assert.throws(() => new UnixConnection(fd, { controlSize: -1 }), /current value is -1/);
  assert.equal(fd.isOpen, false); // the constructor took ownership, so it closed the fd
});
