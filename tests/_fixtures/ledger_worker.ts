/**
 * A Worker for tests/os/ledger_test.ts: installs the ledger it is given, opens an eventfd and a mapping of its
 * own, wraps a borrowed descriptor, reports the numbers, and dies of an uncaught error without closing anything.
 */

/// <reference lib="deno.worker" />

import { EventFd, Fd, installLedger, Mapping, ResourceLedger } from "../../src/os/mod.ts";

self.onmessage = (e: MessageEvent<{ ledger: SharedArrayBuffer; borrowed: number }>) => {
  installLedger(new ResourceLedger(e.data.ledger));
  const own = new EventFd();
  const mapping = Mapping.anonymous(1 << 20);
  const closedAgain = new EventFd();
  const closedFd = closedAgain.fd;
  closedAgain.close(); // closed by its owner: out of the ledger again
  Fd.borrow(e.data.borrowed);
  self.postMessage({ own: own.fd, closed: closedFd, mapped: mapping.length });
  setTimeout(() => {
    throw new Error("the test worker dies here, leaving its eventfd and mapping open");
  }, 0);
};
