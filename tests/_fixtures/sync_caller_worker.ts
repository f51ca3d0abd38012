/**
 * Test fixture: a Worker that makes synchronous calls to the main thread (`tests/threads/threads_test.ts`) and
 * posts back what each one returned or threw.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { SyncCaller, SyncCallError } from "../../src/threads/mod.ts";

self.onmessage = (e: MessageEvent<{ buffer: SharedArrayBuffer; calls: [string, number][] }>) => {
  const caller = new SyncCaller(e.data.buffer, () => self.postMessage({ nudge: true }));
  const out: unknown[] = [];
  for (const [method, timeout] of e.data.calls) {
    try {
      out.push({ ok: caller.call(method, { n: 2 }, [new Uint8Array([7, 7, 7])], timeout) });
    } catch (err) {
      const fault = err instanceof SyncCallError ? err.fault : null;
      out.push({ error: (err as Error).message, kind: fault?.kind ?? null });
    }
  }
  self.postMessage({ out });
};
