/**
 * The peer of `wake_cost.ts`, on its own Worker (its own OS thread): pinned to its CPU, it waits for `ping` and
 * answers on `pong`, either asleep in a synchronous `epoll_wait` or polling the eventfd.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { EpollSet } from "../src/os/epoll_set.ts";
import { EventFd } from "../src/os/eventfd.ts";
import { Fd } from "../src/os/fd.ts";
import { EPOLLIN } from "../src/os/mod.ts";
import { pinThread } from "../src/os/thread.ts";

/** What the peer is started with. */
export interface WakePeerInit {
  /** Descriptor numbers of the two eventfds (the main thread owns them). */
  readonly ping: number;
  readonly pong: number;
  readonly cpu: number;
  /** `sleep`: block in epoll_wait; `poll`: read the eventfd in a loop. */
  readonly wait: "sleep" | "poll";
  /** Set to 1 to end. */
  readonly stop: Int32Array;
}

self.onmessage = (e: MessageEvent<WakePeerInit>) => {
  const o = e.data;
  pinThread([o.cpu]);
  const ping = new EventFd(Fd.borrow(o.ping));
  const pong = new EventFd(Fd.borrow(o.pong));
  const epoll = new EpollSet(4);
  epoll.add(o.ping, EPOLLIN, () => {});
  self.postMessage("ready");
  while (Atomics.load(o.stop, 0) === 0) {
    if (o.wait === "sleep") epoll.waitHere(100);
    if (ping.consume() !== 0n) pong.signal();
  }
  epoll.close();
  self.postMessage("done");
};
