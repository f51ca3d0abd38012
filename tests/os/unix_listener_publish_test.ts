import assert from "node:assert/strict";
import { UnixConnection, UnixListener } from "../../src/os/mod.ts";

function withTempDir(fn: (dir: string) => void | Promise<void>): () => Promise<void> {
  return async () => {
    const dir = Deno.makeTempDirSync({ prefix: "cb-publish-" });
    try {
      await fn(dir);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  };
}

function entries(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

Deno.test(
  "UnixListener.listen() publishes the socket with its final mode and leaves no staging file",
  withTempDir((dir) => {
    const path = `${dir}/vm1.sock`;
    using listener = UnixListener.listen(path, { mode: 0o660 });
    assert.deepEqual(entries(dir), ["vm1.sock"]);
    assert.equal((Deno.lstatSync(path).mode ?? 0) & 0o777, 0o660);
    using _client = UnixConnection.connect(path);
    assert.ok(listener.accept() !== null, "the published path reaches the listener");
  }),
);

Deno.test(
  "UnixListener.listen() binds in place when a staging name would not fit in sockaddr_un",
  withTempDir((dir) => {
    const path = `${dir}/${"s".repeat(107 - dir.length - 1)}`; // exactly 107 bytes
    using listener = UnixListener.listen(path);
    assert.deepEqual(entries(dir), [path.slice(dir.length + 1)]);
    using _client = UnixConnection.connect(path);
    assert.ok(listener.accept() !== null);
  }),
);

Deno.test(
  "UnixListener.listen() over a live socket refuses and leaves no staging file",
  withTempDir((dir) => {
    const path = `${dir}/live.sock`;
    using _first = UnixListener.listen(path);
    assert.throws(() => UnixListener.listen(path), /another process is serving it/);
    assert.deepEqual(entries(dir), ["live.sock"]);
  }),
);

Deno.test(
  "UnixListener.listen(): a client that connects as soon as the file appears is never refused",
  withTempDir(async (dir) => {
    const path = `${dir}/race.sock`;
    const flags = new Int32Array(new SharedArrayBuffer(16));
    const worker = new Worker(new URL("./_connect_spinner.ts", import.meta.url), { type: "module" });
    const done = new Promise((resolve) => worker.onmessage = resolve);
    worker.postMessage({ path, flags: flags.buffer });
    try {
      // Wait until the client spins (a cold worker start can outlast many publishes), then publish at least
      // 300 times and until the client has connected once, so the test cannot pass without racing.
      while (Atomics.load(flags, 3) === 0) await new Promise((r) => setTimeout(r, 1));
      for (let i = 0; i < 300 || (Atomics.load(flags, 2) === 0 && i < 100_000); i++) {
        UnixListener.listen(path, { mode: 0o640 }).close();
        if (i % 50 === 0) await new Promise((r) => setTimeout(r, 0));
      }
    } finally {
      Atomics.store(flags, 0, 1);
      await done;
      worker.terminate();
    }
    assert.equal(Atomics.load(flags, 1), 0, "connections refused by a socket file seen before listen(2)");
    assert.ok(
      Atomics.load(flags, 2) > 0,
      "the client connected at least once, so it ran while sockets appeared",
    );
  }),
);
