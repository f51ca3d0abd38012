import assert from "node:assert/strict";
import { EngineSetupError, setUpEngines } from "../../src/daemon/engines.ts";
import { RouterEngine } from "../../src/engine/mod.ts";
import { Reactor } from "../../src/os/mod.ts";
import { FakeVirtioCrypto } from "../_fixtures/fake_virtio_crypto.ts";

const broken = (): never => {
  throw new Error("no such device");
};

Deno.test("setUpEngines() serves in software without a device, and ignores one with --engine software", () => {
  using reactor = new Reactor();
  for (
    const setup of [{ choice: "auto" } as const, { choice: "software", device: "0000:00:04.0" } as const]
  ) {
    const e = setUpEngines({ ...setup, reactor, openPort: broken });
    assert.equal(e.engine.name, "software");
    assert.equal(e.router, null);
    assert.equal(e.accel, null);
    e.engine.close();
  }
});

Deno.test("setUpEngines() puts the accelerator behind the router with the software engine", () => {
  using reactor = new Reactor();
  const fake = new FakeVirtioCrypto();
  const e = setUpEngines({ choice: "auto", device: "fake", reactor, openPort: () => fake });
  assert.ok(e.engine instanceof RouterEngine && e.engine === e.router);
  assert.equal(e.accel?.state, "ready");
  e.engine.close();
  assert.ok(fake.closed);
});

Deno.test("setUpEngines(): auto serves in software when the accelerator cannot start; accel fails", () => {
  using reactor = new Reactor();
  const auto = setUpEngines({ choice: "auto", device: "0000:00:04.0", reactor, openPort: broken });
  assert.ok(auto.router !== null && auto.accel === null, "router over software only");
  auto.engine.close();
  assert.throws(
    () => setUpEngines({ choice: "accel", device: "0000:00:04.0", reactor, openPort: broken }),
    /no such device/,
  );
  assert.throws(() => setUpEngines({ choice: "accel", reactor }), EngineSetupError);
  assert.throws(() => setUpEngines({ choice: "accel", device: "04.0.0", reactor }), /not a PCI address/);
});
