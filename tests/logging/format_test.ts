import assert from "node:assert/strict";
import type { LogRecord } from "@logtape/logtape";
import { logFormatter, parseLogFormat, redact } from "../../src/logging/format.ts";

const record = (properties: Record<string, unknown>): LogRecord => ({
  category: ["cryptobridge", "crypto"],
  level: "info",
  message: ["session ", properties["id"], " created"],
  rawMessage: "session {id} created",
  timestamp: Date.UTC(2026, 0, 2, 3, 4, 5),
  properties,
});

Deno.test("logFormatter('json') writes one JSON object per line: time, level, logger, message, properties", () => {
  const line = logFormatter("json")(record({ id: 7, path: "/run/x.sock" }));
  assert.ok(line.endsWith("\n") && !line.slice(0, -1).includes("\n"));
  const o = JSON.parse(line);
  assert.equal(o["@timestamp"], "2026-01-02T03:04:05.000Z");
  assert.equal(o.level, "INFO");
  assert.equal(o.logger, "cryptobridge.crypto");
  assert.equal(o.message, "session 7 created");
  assert.deepEqual(o.properties, { id: 7, path: "/run/x.sock" });
  assert.equal(JSON.parse(logFormatter("json", { vm: "vm1" })(record({ id: 1 }))).properties.vm, "vm1");
});

Deno.test("logFormatter('text') names the VM in the category; both formats print bytes as their length", () => {
  const text = logFormatter("text", { vm: "vm1" })(record({ id: new Uint8Array([1, 2, 3]) }));
  assert.match(text, /\[INF\] cryptobridge·vm1·crypto: session "\[3 bytes\]" created/);
  const json = JSON.parse(
    logFormatter("json")(record({ id: 1, key: new Uint8Array(32), deep: { k: [new ArrayBuffer(5)] } })),
  );
  assert.deepEqual([json.properties.key, json.properties.deep.k[0]], ["[32 bytes]", "[5 bytes]"]);
});

Deno.test("redact() keeps plain values and errors, replaces bytes and class instances", () => {
  class Session {
    key = new Uint8Array(16);
  }
  assert.deepEqual(redact({ a: 1, b: "x", c: [true, null], d: new DataView(new ArrayBuffer(4)) }), {
    a: 1,
    b: "x",
    c: [true, null],
    d: "[4 bytes]",
  });
  assert.equal(redact(new Session()), "[Session]");
  assert.deepEqual(redact(new Error("boom", { cause: new Uint8Array(2) })), {
    name: "Error",
    message: "boom",
    cause: "[2 bytes]",
  });
  assert.equal(parseLogFormat("json"), "json");
  assert.throws(() => parseLogFormat("xml"), /use one of text, json/);
});
