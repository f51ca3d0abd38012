import assert from "node:assert/strict";
import {
  CONTENT_TYPE,
  MetricsAddressError,
  MetricsRegistry,
  MetricsServer,
  parseMetricsAddress,
} from "../../src/metrics/mod.ts";
import { parseExposition } from "./_parse.ts";
import { SNAPSHOT } from "./_snapshot.ts";

Deno.test("parseMetricsAddress() reads HOST:PORT, [IPv6]:PORT and paths, and says what would do otherwise", () => {
  assert.deepEqual(parseMetricsAddress("127.0.0.1:9464"), { kind: "tcp", hostname: "127.0.0.1", port: 9464 });
  assert.deepEqual(parseMetricsAddress("[::1]:0"), { kind: "tcp", hostname: "::1", port: 0 });
  assert.deepEqual(parseMetricsAddress("localhost:80"), { kind: "tcp", hostname: "localhost", port: 80 });
  assert.deepEqual(parseMetricsAddress("/run/cryptobridge/m.sock"), {
    kind: "unix",
    path: "/run/cryptobridge/m.sock",
  });
  for (const bad of ["9464", "127.0.0.1", "127.0.0.1:70000", "example.com:80", ""]) {
    assert.throws(() => parseMetricsAddress(bad), MetricsAddressError, bad);
  }
});

Deno.test("MetricsServer on TCP: GET /metrics in format 0.0.4, HEAD, 404, 405, a failing scrape is 500", async () => {
  let fail = false;
  const registry = new MetricsRegistry(() => {
    if (fail) throw new Error("worker gone");
    return SNAPSHOT;
  });
  const server = await MetricsServer.listen({ address: parseMetricsAddress("127.0.0.1:0"), registry });
  try {
    assert.match(server.address, /^127\.0\.0\.1:\d+$/);
    const base = `http://${server.address}`;
    const r = await fetch(`${base}/metrics`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("content-type"), CONTENT_TYPE);
    assert.ok(parseExposition(await r.text()).has("cryptobridge_requests_total"));
    const head = await fetch(`${base}/metrics`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), "");
    const missing = await fetch(`${base}/other`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    const post = await fetch(`${base}/metrics`, { method: "POST" });
    assert.deepEqual([post.status, post.headers.get("allow")], [405, "GET, HEAD"]);
    await post.body?.cancel();
    fail = true;
    const broken = await fetch(`${base}/metrics`);
    assert.equal(broken.status, 500);
    assert.match(await broken.text(), /worker gone/);
  } finally {
    await server.close();
  }
});

Deno.test("MetricsServer on a Unix socket: mode 0600, a stale file replaced, a served one refused, removed on close", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "cb-metrics-" });
  const path = `${dir}/metrics.sock`;
  const registry = new MetricsRegistry(() => SNAPSHOT);
  try {
    const stale = Deno.listen({ transport: "unix", path });
    stale.close();
    const server = await MetricsServer.listen({ address: { kind: "unix", path }, registry });
    assert.equal((Deno.lstatSync(path).mode ?? 0) & 0o777, 0o600);
    await assert.rejects(
      () => MetricsServer.listen({ address: { kind: "unix", path }, registry }),
      /another process is serving it/,
    );
    const client = Deno.createHttpClient({ proxy: { transport: "unix", path } });
    try {
      const r = await fetch("http://localhost/metrics", { client });
      assert.equal(r.status, 200);
      assert.ok(parseExposition(await r.text()).has("cryptobridge_build_info"));
    } finally {
      client.close();
    }
    await server.close();
    assert.throws(() => Deno.lstatSync(path), Deno.errors.NotFound);
    Deno.writeTextFileSync(path, "not a socket");
    await assert.rejects(
      () => MetricsServer.listen({ address: { kind: "unix", path }, registry }),
      /not a socket/,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
