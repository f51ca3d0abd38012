import assert from "node:assert/strict";
import { expectNoLeak, fdsSettle, openFds } from "../_fixtures/fd_leaks.ts";
import { EventFd, Reactor, UnixConnection, UnixListener } from "../../src/os/mod.ts";

// Reactor.run() keeps one nonblocking FFI epoll_wait pending; every test awaits run() after stop(), so that call
// has returned before the test ends and the default op/resource sanitizers stay on.

const EPOLLIN = 0x001;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

Deno.test("Reactor dispatches an eventfd signal to its handler and nothing leaks", async () => {
  await expectNoLeak(async () => {
    const before = openFds();
    {
      using reactor = new Reactor();
      using kick = new EventFd();
      const seen: number[] = [];
      const token = reactor.add(kick.fd, EPOLLIN, (events) => {
        seen.push(events);
        assert.equal(kick.consume(), 3n);
        reactor.stop();
      });
      assert.ok(token > 0);
      assert.equal(reactor.size, 1);
      const done = reactor.run();
      assert.ok(reactor.isRunning);
      setTimeout(() => kick.signal(3n), 5);
      await done;
      assert.deepEqual(seen, [EPOLLIN]);
      assert.equal(reactor.isRunning, false);
      reactor.remove(token);
    }
    return await fdsSettle(before);
  });
});

Deno.test("Reactor.stop() wakes a pending wait promptly", async () => {
  using reactor = new Reactor();
  const done = reactor.run();
  await delay(20); // the nonblocking epoll_wait is now sleeping on its pool thread
  const t0 = performance.now();
  reactor.stop();
  await done;
  const ms = performance.now() - t0;
  assert.ok(ms < 100, `stop() took ${ms} ms`);
  reactor.stop(); // not running: nothing to do
});

Deno.test("Reactor.run() can run again after stop(), and a second concurrent run() is refused", async () => {
  using reactor = new Reactor();
  for (let i = 0; i < 3; i++) {
    const done = reactor.run();
    await assert.rejects(reactor.run(), /already running/);
    reactor.stop();
    await done;
  }
});

Deno.test("Reactor.add() while a wait is pending is seen by that wait", async () => {
  using reactor = new Reactor();
  using kick = new EventFd();
  const done = reactor.run();
  await delay(10);
  reactor.add(kick.fd, EPOLLIN, () => {
    kick.consume();
    reactor.stop();
  });
  kick.signal();
  await done;
});

Deno.test("Reactor.remove() of a closed fd is harmless and idempotent", async () => {
  using reactor = new Reactor();
  const kick = new EventFd();
  const token = reactor.add(kick.fd, EPOLLIN, () => assert.fail("removed handler ran"));
  kick.signal();
  kick.close();
  reactor.remove(token);
  reactor.remove(token);
  assert.equal(reactor.size, 0);
  const done = reactor.run();
  await delay(10);
  reactor.stop();
  await done;
});

Deno.test("Reactor drops a stale event of a closed fd whose number a new registration reused", async () => {
  using reactor = new Reactor();
  const a = new EventFd();
  const b = new EventFd();
  const reused: { fd: number; old: number; ran: number } = { fd: -1, old: -1, ran: 0 };
  let replacement: EventFd | undefined;
  // Both are ready, so one wait returns both events. Whichever runs first closes the other and registers a new
  // eventfd, which gets the lowest free number: the closed one's. The other's event is still in the batch.
  const swap = (self: EventFd, other: EventFd, otherToken: () => number) => () => {
    if (replacement !== undefined) {
      assert.equal(self.fd, -1, "the closed fd's event reached a handler");
      return;
    }
    self.consume();
    reused.old = other.fd;
    reactor.remove(otherToken());
    other.close();
    replacement = new EventFd();
    reused.fd = replacement.fd;
    reactor.add(replacement.fd, EPOLLIN, () => reused.ran++);
    setTimeout(() => reactor.stop(), 10);
  };
  let tokenA = 0;
  let tokenB = 0;
  tokenA = reactor.add(a.fd, EPOLLIN, swap(a, b, () => tokenB));
  tokenB = reactor.add(b.fd, EPOLLIN, swap(b, a, () => tokenA));
  a.signal();
  b.signal();
  await reactor.run();
  assert.equal(reused.fd, reused.old, "the new eventfd should reuse the closed fd's number");
  assert.equal(reused.ran, 0, "a stale event was dispatched to the new registration");
  a.close();
  b.close();
  replacement?.close();
});

Deno.test("Reactor keeps dispatching when a handler throws, reporting to onError", async () => {
  const reported: [unknown, number][] = [];
  using reactor = new Reactor({ onError: (e, token) => reported.push([e, token]) });
  using bad = new EventFd();
  using good = new EventFd();
  const badToken = reactor.add(bad.fd, EPOLLIN, () => {
    bad.consume();
    throw new Error("boom");
  });
  let goodRuns = 0;
  reactor.add(good.fd, EPOLLIN, () => {
    good.consume();
    if (++goodRuns === 3) reactor.stop();
    else setTimeout(() => (bad.signal(), good.signal()), 1);
  });
  bad.signal();
  good.signal();
  await reactor.run();
  assert.equal(goodRuns, 3);
  assert.ok(reported.length >= 2);
  for (const [e, token] of reported) {
    assert.equal((e as Error).message, "boom");
    assert.equal(token, badToken);
  }
  assert.equal(reactor.size, 2); // with onError, the registration stays
});

Deno.test("Reactor reports a rejected async handler to onError", async () => {
  const reported: unknown[] = [];
  using reactor = new Reactor({
    onError: (e) => {
      reported.push(e);
      reactor.stop();
    },
  });
  using kick = new EventFd();
  reactor.add(kick.fd, EPOLLIN, async () => {
    kick.consume();
    await delay(1);
    throw new Error("late boom");
  });
  kick.signal();
  await reactor.run();
  assert.equal((reported[0] as Error).message, "late boom");
});

Deno.test("Reactor without onError removes a throwing registration, serves the others, and run() rejects", async () => {
  using reactor = new Reactor();
  using bad = new EventFd();
  using good = new EventFd();
  let badRuns = 0;
  // Never consumed: without the removal this level-triggered fd would fire on every wait.
  reactor.add(bad.fd, EPOLLIN, () => {
    badRuns++;
    throw new Error("broken handler");
  });
  let goodRuns = 0;
  reactor.add(good.fd, EPOLLIN, () => {
    good.consume();
    if (++goodRuns === 3) reactor.stop();
    else setTimeout(() => good.signal(), 1);
  });
  bad.signal();
  good.signal();
  await assert.rejects(reactor.run(), /broken handler/);
  assert.equal(badRuns, 1);
  assert.equal(goodRuns, 3);
  assert.equal(reactor.size, 1);
});

Deno.test("Reactor stops and run() rejects when onError itself throws", async () => {
  using reactor = new Reactor({
    onError: () => {
      throw new Error("onError failed");
    },
  });
  using kick = new EventFd();
  reactor.add(kick.fd, EPOLLIN, () => {
    throw new Error("handler failed");
  });
  kick.signal();
  await assert.rejects(reactor.run(), /onError failed/);
});

Deno.test("Reactor poll mode calls idle() every round and still dispatches fd events", async () => {
  using kick = new EventFd();
  let rounds = 0;
  using reactor = new Reactor({
    yieldEvery: 8,
    idle: () => {
      if (++rounds === 100) kick.signal();
      return true;
    },
  });
  let timerRan = false;
  setTimeout(() => (timerRan = true), 0);
  reactor.add(kick.fd, EPOLLIN, () => {
    kick.consume();
    setTimeout(() => reactor.stop(), 5); // the loop yields to timers while polling
  });
  await reactor.run();
  assert.ok(rounds > 100);
  assert.ok(timerRan);
});

Deno.test("Reactor poll mode ends when idle() returns false; setIdle() turns it back on", async () => {
  using reactor = new Reactor();
  using kick = new EventFd();
  let rounds = 0;
  const idle = (): boolean => ++rounds < 10;
  reactor.setIdle(idle);
  reactor.add(kick.fd, EPOLLIN, () => {
    kick.consume();
    reactor.stop();
  });
  const done = reactor.run();
  await delay(20);
  assert.equal(rounds, 10); // then it went back to the blocking wait
  rounds = 0;
  reactor.setIdle(idle); // wakes the blocking wait and polls again
  await delay(50);
  assert.equal(rounds, 10);
  kick.signal();
  await done;
});

Deno.test("Reactor dispatches events of many fds, more than maxEvents per wait", async () => {
  using reactor = new Reactor({ maxEvents: 16, drainRounds: 2 });
  const kicks = Array.from({ length: 200 }, () => new EventFd());
  const counts = new Array<number>(kicks.length).fill(0);
  let total = 0;
  kicks.forEach((kick, i) =>
    reactor.add(kick.fd, EPOLLIN, () => {
      counts[i]! += Number(kick.consume());
      if (++total === kicks.length) reactor.stop();
    })
  );
  kicks.forEach((kick, i) => kick.signal(BigInt(i + 1)));
  await reactor.run();
  assert.deepEqual(counts, kicks.map((_, i) => i + 1));
  for (const kick of kicks) kick.close();
});

Deno.test("Reactor serves a UnixListener and its connections", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "cb-reactor-" });
  try {
    using reactor = new Reactor();
    using listener = UnixListener.listen(`${dir}/s.sock`);
    const served: UnixConnection[] = [];
    reactor.add(listener.fd, EPOLLIN, () => {
      for (let conn = listener.accept(); conn !== null; conn = listener.accept()) {
        const c = conn;
        served.push(c);
        const token = reactor.add(c.fd, EPOLLIN, () => {
          const buf = new Uint8Array(16);
          const n = c.recv(buf, 0, 16, []);
          if (n > 0) c.send(buf.subarray(0, n)); // echo
          if (n === 0) reactor.remove(token);
        });
      }
    });
    const done = reactor.run();
    using client = UnixConnection.connect(`${dir}/s.sock`);
    client.send(new Uint8Array([1, 2, 3]));
    const reply = new Uint8Array(3);
    for (let got = 0; got < 3;) {
      await delay(1);
      const n = client.recv(reply, got, 3 - got, []);
      if (n > 0) got += n;
    }
    assert.deepEqual(reply, new Uint8Array([1, 2, 3]));
    reactor.stop();
    await done;
    for (const c of served) c.close();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("Reactor.close() while running stops it, then closes its descriptors", async () => {
  await expectNoLeak(async () => {
    const before = openFds();
    const reactor = new Reactor();
    const done = reactor.run();
    await delay(5);
    reactor.close();
    await done;
    assert.throws(() => reactor.add(0, EPOLLIN, () => {}), /reactor: it is closed/);
    await assert.rejects(reactor.run(), /Cannot run reactor: it is closed/);
    reactor.close();
    return await fdsSettle(before);
  });
});

Deno.test("Reactor.modify() changes the events; unknown tokens and bad options are refused", async () => {
  using reactor = new Reactor();
  const [a, b] = UnixConnection.pair();
  using _a = a;
  using _b = b;
  const EPOLLOUT = 0x004;
  const seen: number[] = [];
  const token = reactor.add(a.fd, EPOLLIN, (events) => {
    seen.push(events);
    reactor.stop();
  });
  reactor.modify(token, EPOLLOUT); // nothing to read, but the socket is writable
  await reactor.run();
  assert.deepEqual(seen, [EPOLLOUT]);
  assert.throws(() => reactor.modify(12345, EPOLLIN), /registration 12345: it is not registered/);
  assert.throws(
    () => new Reactor({ maxEvents: 0 }),
    /maxEvents must be an integer in \[1, 65536\]: current value is 0/,
  );
});
