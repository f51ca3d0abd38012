/**
 * Commands from the main thread to a Worker whose thread may be blocked in `epoll_wait`: the command goes into a
 * shared `Mailbox`, then an eventfd in the Worker's epoll set is signalled, and the Worker's reactor reads the
 * mailbox synchronously. No `postMessage` on this path: its delivery needs the Worker's event loop, which a thread
 * serving a busy VM runs only now and then (design.md decision 2).
 *
 * @module
 */

import { EPOLLIN, EventFd, Fd, type Reactor } from "../os/mod.ts";
import { Mailbox } from "./mailbox.ts";

/** What a Worker needs to open its end: posted to it in its first message. */
export interface CommandChannelEnds {
  /** The mailbox's shared memory. */
  readonly mailbox: SharedArrayBuffer;
  /** The eventfd's number (the process's: valid in every thread). */
  readonly eventFd: number;
}

/** The main thread's end: owns the eventfd. */
export class CommandSender implements Disposable {
  readonly #mailbox = Mailbox.create();
  readonly #event = new EventFd();
  readonly #backlog: unknown[] = [];

  /** What to post to the Worker so it can open its end. */
  get ends(): CommandChannelEnds {
    return { mailbox: this.#mailbox.buffer, eventFd: this.#event.fd };
  }

  /**
   * Queues a command and wakes the Worker. A full mailbox (a Worker far behind) keeps the command here until the
   * next `send`, so commands keep their order.
   *
   * @param command A JSON value.
   */
  send(command: unknown): void {
    this.#backlog.push(command);
    while (this.#backlog.length > 0 && this.#mailbox.post(this.#backlog[0])) this.#backlog.shift();
    this.#event.signal();
  }

  /** Closes the eventfd (after the Worker has ended). */
  close(): void {
    this.#event.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** The Worker's end: the eventfd in its reactor, commands handed to `onCommand` as they arrive. */
export class CommandReceiver {
  readonly #mailbox: Mailbox;
  readonly #event: EventFd;
  readonly #reactor: Reactor;
  readonly #token: number;

  /**
   * @param ends From the main thread.
   * @param reactor The Worker's reactor.
   * @param onCommand Runs each command, in order, inside the reactor.
   */
  constructor(ends: CommandChannelEnds, reactor: Reactor, onCommand: (command: unknown) => void) {
    this.#mailbox = Mailbox.attach(ends.mailbox);
    this.#event = new EventFd(Fd.borrow(ends.eventFd)); // borrowed: never closed here (see close())
    this.#reactor = reactor;
    this.#token = reactor.add(this.#event.fd, EPOLLIN, () => {
      this.#event.consume();
      for (let c = this.#mailbox.take(); c !== undefined; c = this.#mailbox.take()) onCommand(c);
    });
  }

  /** Stops watching the eventfd (the main thread closes it). */
  close(): void {
    this.#reactor.remove(this.#token);
  }
}
