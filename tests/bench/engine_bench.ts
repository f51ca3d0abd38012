/**
 * `deno bench` cases for the software engine: AES-128-CBC, AES-256-GCM and HMAC-SHA256 requests of 64 B, 1 KiB,
 * 4 KiB and 16 KiB through `engine.submit` (see `engine_cases.ts`). `scripts/bench_engine.ts` measures the same
 * cases against `openssl speed` in one run.
 *
 * Run: `deno task bench`.
 *
 * @module
 */

import { Status } from "../../src/spec/virtio_crypto.ts";
import { SoftwareEngine } from "../../src/engine/software/mod.ts";
import { ALGORITHMS, benchOp, SIZES } from "./engine_cases.ts";

const engine = new SoftwareEngine();

for (const { name } of ALGORITHMS) {
  for (const size of SIZES) {
    const op = benchOp(engine, name, size);
    Deno.bench({
      name: `SoftwareEngine ${name} ${size} B`,
      group: `${name}`,
      baseline: size === 64,
      fn: () => {
        if (engine.submit(op) !== Status.OK) throw new Error(`${name} failed`);
      },
    });
  }
}
