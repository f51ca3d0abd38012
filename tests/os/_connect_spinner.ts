/**
 * Worker for unix_listener_publish_test.ts: until told to stop, connects to a path whenever a file is there and
 * counts the ECONNREFUSED answers (a socket file seen before its listen(2)).
 *
 * @module
 */

import { Errno, ErrnoError } from "../../ffi/errno.ts";
import { UnixConnection } from "../../src/os/mod.ts";

self.onmessage = (e: MessageEvent<{ path: string; flags: SharedArrayBuffer }>) => {
  const flags = new Int32Array(e.data.flags); // [0]: stop, [1]: refused, [2]: connected, [3]: running
  Atomics.store(flags, 3, 1);
  while (Atomics.load(flags, 0) === 0) {
    try {
      UnixConnection.connect(e.data.path).close();
      Atomics.add(flags, 2, 1);
    } catch (err) {
      if (err instanceof ErrnoError && err.errno === Errno.ECONNREFUSED) Atomics.add(flags, 1, 1);
    }
  }
  self.postMessage("done");
};
