import assert from "node:assert/strict";
import {
  effectiveUid,
  ErrnoError,
  peerCredentials,
  sendNow,
  UnixConnection,
  UnixDatagram,
  UnixListener,
} from "../../src/os/mod.ts";

// umask(2) straight from libc: Deno.umask needs --allow-sys, which the test tier does not have.
const umaskLib = Deno.dlopen("libc.so.6", { umask: { parameters: ["u32"], result: "u32" } });
const setUmask = (mask: number): number => umaskLib.symbols.umask(mask);

const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const bytes = (s: string): Uint8Array<ArrayBuffer> => new TextEncoder().encode(s) as Uint8Array<ArrayBuffer>;

function withDir(fn: (dir: string) => void | Promise<void>): () => Promise<void> {
  return async () => {
    const dir = Deno.makeTempDirSync({ prefix: "cb-dgram-" });
    try {
      await fn(dir);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  };
}

Deno.test(
  "UnixDatagram.sendTo() reaches a socket bound to a path, one datagram at a time",
  withDir((dir) => {
    using rx = UnixDatagram.bind(`${dir}/notify`);
    using tx = UnixDatagram.open();
    const buf = new Uint8Array(new ArrayBuffer(256));
    assert.equal(rx.recv(buf), -1);
    tx.sendTo(`${dir}/notify`, bytes("READY=1"));
    tx.sendTo(`${dir}/notify`, bytes("STATUS=two"));
    assert.equal(text(buf.subarray(0, rx.recv(buf))), "READY=1");
    assert.equal(text(buf.subarray(0, rx.recv(buf))), "STATUS=two");
    assert.equal(rx.recv(buf), -1);
    assert.equal((Deno.lstatSync(`${dir}/notify`).mode ?? 0) & 0o777, 0o600);
    rx.close();
    assert.throws(() => Deno.lstatSync(`${dir}/notify`), Deno.errors.NotFound);
  }),
);

Deno.test("UnixDatagram handles abstract names (@name: a leading NUL, exact address length)", () => {
  const name = `@cryptobridge-test-${Deno.pid}-${crypto.randomUUID()}`;
  using rx = UnixDatagram.bind(name);
  using tx = UnixDatagram.open();
  tx.sendTo(name, bytes("STOPPING=1"));
  const buf = new Uint8Array(new ArrayBuffer(64));
  assert.equal(text(buf.subarray(0, rx.recv(buf))), "STOPPING=1");
  // A name that is a prefix of the bound one is another address: the length is part of an abstract address.
  assert.throws(() => tx.sendTo(name.slice(0, -1), bytes("x")), ErrnoError);
});

Deno.test(
  "UnixDatagram.sendTo() to nobody throws ErrnoError naming the address",
  withDir((dir) => {
    using tx = UnixDatagram.open();
    assert.throws(() => tx.sendTo(`${dir}/missing`, bytes("READY=1")), /sendto.*missing.*ENOENT/);
  }),
);

Deno.test(
  "UnixListener.listen() creates the file 0600 whatever the umask, or the mode asked for",
  withDir((dir) => {
    for (const umask of [0o000, 0o022, 0o277]) {
      const old = setUmask(umask);
      try {
        using l = UnixListener.listen(`${dir}/s${umask}`);
        assert.equal((Deno.lstatSync(l.path).mode ?? 0) & 0o777, 0o600, `umask ${umask.toString(8)}`);
        using g = UnixListener.listen(`${dir}/g${umask}`, { mode: 0o660 });
        assert.equal((Deno.lstatSync(g.path).mode ?? 0) & 0o777, 0o660, `umask ${umask.toString(8)}`);
      } finally {
        setUmask(old);
      }
    }
  }),
);

Deno.test(
  "peerCredentials() names this process; sendNow() takes what fits and says 0 when full",
  withDir((dir) => {
    using l = UnixListener.listen(`${dir}/s`);
    using client = UnixConnection.connect(l.path);
    using server = l.accept()!;
    const cred = peerCredentials(server.fd);
    assert.equal(cred.pid, Deno.pid);
    assert.equal(cred.uid, effectiveUid());
    const chunk = new Uint8Array(new ArrayBuffer(1 << 16));
    let sent = 0;
    for (let i = 0; i < 1000; i++) {
      const n = sendNow(server.fd, chunk);
      if (n === 0) break;
      sent += n;
    }
    assert.ok(sent > 0 && sent < 1000 * chunk.length, `sent ${sent} bytes before the buffer filled`);
    assert.equal(sendNow(server.fd, chunk), 0);
    client.close();
    assert.throws(() => {
      for (let i = 0; i < 100; i++) sendNow(server.fd, chunk);
    }, /EPIPE|ECONNRESET/);
  }),
);
