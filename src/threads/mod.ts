/**
 * Talking across threads inside the daemon: a shared-memory `Mailbox`, the command channel that wakes a Worker
 * blocked in `epoll_wait` (`CommandSender`/`CommandReceiver`), and the Worker's synchronous calls to the main
 * thread (`SyncCaller`/`SyncCallee`). Device-neutral: nothing here knows what a VM or a crypto session is.
 *
 * @module
 */

export { Mailbox, MailboxError } from "./mailbox.ts";
export { type CommandChannelEnds, CommandReceiver, CommandSender } from "./command_channel.ts";
export {
  type CallFault,
  createCallBuffer,
  faultOf,
  type IncomingCall,
  SyncCallee,
  SyncCaller,
  SyncCallError,
} from "./sync_call.ts";
export { SpscRing } from "./spsc_ring.ts";
