/**
 * `deno bench` cases for the device path in one thread (`device_path_cases.ts`): AES-128-CBC encryption at 64 B,
 * 4 KiB and 16 KiB, 32 requests per round, indirect chains as DPDK's vhost_crypto needs and direct chains as
 * Linux sends. Each case's time is one round of 32 requests; divide by 32 for the cost of one. The `ring` case is
 * the virtqueue alone (pop, complete, publish, reap), so `device - ring` is the request's parse, engine call and
 * status write; the engine alone is in `engine_bench.ts`.
 *
 * Run: `deno task bench`.
 *
 * @module
 */

import { DevicePath } from "./device_path_cases.ts";

const DEPTH = 32;

for (const indirect of [true, false]) {
  const chains = indirect ? "indirect" : "direct";
  const ring = new DevicePath({ size: 64, depth: DEPTH, indirect });
  Deno.bench({
    name: `ring only, ${chains}, ${DEPTH} requests`,
    group: `device path ${chains}`,
    fn: () => {
      ring.ringRound();
    },
  });
  for (const size of [64, 4096, 16384]) {
    const path = new DevicePath({ size, depth: DEPTH, indirect });
    Deno.bench({
      name: `device AES-128-CBC ${size} B, ${chains}, ${DEPTH} requests`,
      group: `device path ${chains}`,
      baseline: size === 64,
      fn: () => {
        path.round();
      },
    });
  }
}
