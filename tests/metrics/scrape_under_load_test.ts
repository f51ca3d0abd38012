/**
 * A scrape taken under load: the daemon (its VM on its own Worker, metered there, as `serve --metrics` runs it)
 * serves AES-CBC requests from a load generator in this process while the metrics endpoint is scraped over HTTP;
 * every scrape must parse, pass `promtool check metrics`, and show counters that only grow, ending at what the load
 * generator completed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ReferenceSession } from "../../src/cli/bench_verify.ts";
import { runDaemon } from "../../src/daemon/daemon.ts";
import { startHostServices } from "../../src/daemon/host_services.ts";
import { SoftwareEngine } from "../../src/engine/software/mod.ts";
import type { WorkloadRequest } from "../../src/frontend/mod.ts";
import { benchWorkload, LoadGenerator, VirtioCryptoDriver } from "../../src/frontend/mod.ts";
import { hasPromtool, parseExposition, promtoolCheck, valueOf } from "./_parse.ts";

Deno.test("a scrape under load parses, passes promtool, and its counters grow to what was served", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cryptobridge-metrics-" });
  const daemon = runDaemon({
    vms: [{ name: "vm1", socket: `${dir}/vhost.sock` }],
    engine: "software",
    logLevel: "warning",
  });
  await daemon.ready;
  const services = await startHostServices(daemon, {
    control: null,
    metrics: "127.0.0.1:0",
    device: null,
    logLevel: "warning",
    configureMainLogging: () => Promise.resolve(),
    notifier: null,
  });
  const metrics = { address: services.metrics! };
  const driver = await VirtioCryptoDriver.open({ path: daemon.socket, queueSize: 256 });
  const reference = new SoftwareEngine();
  try {
    const workload = benchWorkload("aes-128-cbc", 256);
    const id = await driver.createSessionVhost(workload.session, "C");
    using ref = new ReferenceSession(reference, workload.session);
    const requests: WorkloadRequest[] = [];
    const areaSize = 1 << 20;
    const generator = new LoadGenerator({
      ram: driver.ram,
      queue: driver.claimQueue(0),
      reactor: driver.reactor,
      area: driver.reserveRam(areaSize),
      areaSize,
      depth: 16,
      completion: "event",
      verifyEvery: 1 << 20,
      indirect: false,
      request: (slot) => (requests[slot] = workload.request(id, driver.layout, slot)),
      expected: (slot) => ref.expected(requests[slot]!),
    });
    const ok = { vm: "vm1", service: "cipher", algorithm: "AES-CBC", path: "software", status: "ok" };
    const scrapes: string[] = [];
    let running = true;
    const run = generator.run({ count: 4000 }).finally(() => running = false);
    while (running || scrapes.length < 3) {
      scrapes.push(await (await fetch(`http://${metrics.address}/metrics`)).text());
    }
    const result = await run;
    const final = await (await fetch(`http://${metrics.address}/metrics`)).text();
    let last = 0;
    for (const text of [...scrapes, final]) {
      const p = parseExposition(text);
      const n = valueOf(p, "cryptobridge_requests_total", "cryptobridge_requests_total", ok) ?? 0;
      assert.ok(n >= last, `requests_total went from ${last} to ${n}`);
      last = n;
      const count = valueOf(
        p,
        "cryptobridge_request_duration_seconds",
        "cryptobridge_request_duration_seconds_count",
        { vm: "vm1" },
      );
      assert.equal(count, n, "one latency observation per request");
    }
    assert.equal(last, result.completed);
    assert.equal((await daemon.snapshot()).vms[0]!.device["ok"], result.completed);
    const p = parseExposition(final);
    assert.equal(
      valueOf(p, "cryptobridge_request_bytes_total", "cryptobridge_request_bytes_total", ok),
      256 * 4000,
    );
    assert.ok(
      scrapes.some((t) => {
        const v =
          valueOf(parseExposition(t), "cryptobridge_requests_total", "cryptobridge_requests_total", ok) ?? 0;
        return v > 0 && v < 4000;
      }),
      "at least one scrape was taken while requests were being served",
    );
    if (hasPromtool()) {
      const mid = scrapes[Math.floor(scrapes.length / 2)]!;
      assert.equal(await promtoolCheck(mid), "");
      assert.equal(await promtoolCheck(final), "");
    } else {
      console.warn("promtool is absent (Debian package prometheus): the scrapes were parsed, not linted");
    }
  } finally {
    await driver.close();
    await services.close("test done");
    await daemon.stop();
    reference.close();
    await Deno.remove(dir, { recursive: true });
  }
});
