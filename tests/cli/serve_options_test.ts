import assert from "node:assert/strict";
import { UsageError } from "../../src/cli/errors.ts";
import { main } from "../../src/cli/main.ts";
import { engineOptions, formatStats } from "../../src/cli/serve.ts";
import { daemonOptions, hostEndpoints, logFormatOption, routeOption } from "../../src/cli/serve_options.ts";

Deno.test("engineOptions() checks --engine and --device with usage errors that say what to do", () => {
  assert.deepEqual(engineOptions(undefined, undefined), { engine: "auto", device: undefined });
  assert.deepEqual(engineOptions("accel", "00:04.0"), { engine: "accel", device: "0000:00:04.0" });
  assert.throws(
    () => engineOptions("gpu", undefined),
    (e: unknown) => e instanceof UsageError && /auto, software, accel/.test(e.message),
  );
  assert.throws(() => engineOptions("accel", undefined), /--engine accel needs --device BDF/);
  assert.throws(() => engineOptions("auto", "vfio-pci"), /is not a PCI address/);
});

Deno.test("--route: accel-first by default, the config file's unless given, and a usage error naming the three", () => {
  assert.equal(routeOption(undefined), "accel-first");
  assert.equal(routeOption("fastest"), "fastest");
  assert.equal(routeOption(undefined, "software"), "software");
  assert.throws(
    () => routeOption("quickest"),
    (e: unknown) =>
      e instanceof UsageError &&
      /--route must be one of accel-first, fastest, software: got "quickest"/.test(e.message),
  );
  assert.equal(daemonOptions({}, ["/x/a.sock"]).route, "accel-first");
  assert.equal(daemonOptions({ route: "software" }, ["/x/a.sock"]).route, "software");
});

Deno.test("cryptobridge serve --route with an unknown policy exits 2, and --help documents it", async () => {
  const errors: string[] = [];
  const logged: string[] = [];
  const [error, out] = [console.error, console.log];
  console.error = (m: string) => errors.push(m);
  console.log = (m: string) => logged.push(m);
  try {
    assert.equal(await main(["serve", "--route", "turbo", "--socket", "/nonexistent/a.sock"]), 2);
    assert.equal(await main(["serve", "--help"]), 0);
  } finally {
    [console.error, console.log] = [error, out];
  }
  assert.match(errors.join("\n"), /--route must be one of accel-first, fastest, software/);
  assert.match(logged.join("\n"), /--route POLICY +accel-first \(default\), fastest or software/);
});

Deno.test("cryptobridge serve --engine accel without --device exits 2 before doing anything", async () => {
  const errors: string[] = [];
  const original = console.error;
  console.error = (m: string) => errors.push(m);
  try {
    assert.equal(await main(["serve", "--engine", "accel"]), 2);
  } finally {
    console.error = original;
  }
  assert.match(errors.join("\n"), /--engine accel needs --device/);
});

Deno.test("formatStats() says which path served requests and why sessions went to software", () => {
  const text = formatStats({
    device: { requests: 10, ok: 10, err: 0, badmsg: 0, notsupp: 0, invsess: 0, nospc: 0, bytes: 640 },
    router: {
      accelRequests: 7,
      softwareRequests: 3,
      accelSessions: 2,
      fallbacks: {
        "not-advertised": 1,
        refused: 0,
        nospc: 1,
        quota: 0,
        unavailable: 0,
        failed: 1,
        "software-faster": 5,
        "policy-software": 0,
      },
      policy: "fastest",
      thresholds: { "cipher/3": 4096 },
    },
    accelerator: {
      state: "ready",
      epoch: 1,
      sessions: 2,
      inflight: 0,
      completed: 7,
      failed: 1,
      declined: 0,
      bounced: 0,
      failures: 1,
      lastFailure: "the device was reset (status 0x0)",
      refused: ["SHA1"],
    },
  });
  assert.match(text, /served by the accelerator: 7 requests, 2 sessions; in software: 3 requests/);
  assert.match(
    text,
    /not advertised 1, refused 0, no space 1, accelerator unavailable 0 \(sessions\); accelerator failed 1/,
  );
  assert.match(text, /route fastest: software faster 5 \(requests\), policy software 0 \(sessions\)/);
  assert.match(
    text,
    /accelerator: ready, 1 failures \(last: the device was reset \(status 0x0\)\), refused when probed: SHA1/,
  );
  assert.ok(!/accelerator/.test(formatStats({ device: { requests: 0 }, router: null, accelerator: null })));
});

Deno.test("--control, --no-control, --metrics and --log-format: defaults and usage errors", () => {
  assert.deepEqual(hostEndpoints({}, "/run/cryptobridge/vm1.sock"), {
    control: "/run/cryptobridge/cryptobridge-control.sock",
    metrics: null,
  });
  assert.deepEqual(hostEndpoints({ control: "/x/c.sock", metrics: "127.0.0.1:9464" }, "/run/a.sock"), {
    control: "/x/c.sock",
    metrics: "127.0.0.1:9464",
  });
  assert.equal(hostEndpoints({ "no-control": true }, "/run/a.sock").control, null);
  assert.throws(() => hostEndpoints({ "no-control": true, control: "/x" }, "/a.sock"), /not both/);
  assert.throws(
    () => hostEndpoints({ metrics: "9464" }, "/a.sock"),
    (e: unknown) => e instanceof UsageError && /use 127\.0\.0\.1:9464/.test(e.message),
  );
  assert.equal(logFormatOption(undefined), "text");
  assert.equal(logFormatOption("json"), "json");
  assert.throws(() => logFormatOption("xml"), /--log-format: .*use one of text, json/);
});
