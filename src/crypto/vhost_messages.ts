/**
 * vhost-user messages 26 and 27 (CREATE/CLOSE_CRYPTO_SESSION): QEMU's way of forwarding the guest's control
 * queue (interop.md §1.3, §1.4, §6 items 1-3).
 *
 * - CREATE always gets a reply, of the same size as the request, with the session id (>= 0) or -1.
 * - CLOSE never gets one (QEMU does not read it: a reply would desynchronise the next request), and an unknown
 *   id is logged, never fatal (DPDK drops the connection; we do not).
 * - A payload that cannot be decoded at all (wrong size, key lengths past their buffers: CVE-2020-10724 class)
 *   is thrown, and the handler drops the connection; an algorithm the engines lack is an ordinary -1.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { buildVhostSessionReply, decodeVhostSession, detectVhostSessionLayout } from "./vhost_session.ts";
import { paramsFromVhost, SessionParamsError } from "./session_params.ts";
import type { SessionManager } from "./sessions.ts";
import { CryptoWireError } from "./wire.ts";
import { readU64 } from "../virtio/le.ts";

const log = getLogger(["cryptobridge", "crypto"]);

/** vhost-user request codes of the crypto session messages. */
export const CREATE_CRYPTO_SESSION = 26;
export const CLOSE_CRYPTO_SESSION = 27;

/** Decoding problems that mean the message itself is broken (drop the connection) rather than refused. */
const MALFORMED = new Set([
  "short-buffer",
  "bad-payload-size",
  "key-too-long",
  "invalid-length",
  "length-overflow",
]);

/**
 * Handles message 26 or 27.
 *
 * @param sessions The device's sessions.
 * @param request 26 or 27.
 * @param payload The message payload.
 * @returns The reply payload for 26, null for 27.
 * @throws CryptoWireError for a malformed payload; Error for another request code.
 */
export function handleSessionMessage(
  sessions: SessionManager,
  request: number,
  payload: Uint8Array,
): Uint8Array | null {
  if (request === CREATE_CRYPTO_SESSION) return createSession(sessions, payload);
  if (request === CLOSE_CRYPTO_SESSION) return closeSession(sessions, payload);
  throw new Error(`Cannot handle device request ${request}: the crypto device knows 26 and 27`);
}

function createSession(sessions: SessionManager, payload: Uint8Array): Uint8Array {
  let id = -1;
  try {
    const layout = detectVhostSessionLayout(payload);
    const result = sessions.create(paramsFromVhost(decodeVhostSession(payload, layout)));
    id = result.id;
    // Which QEMU generation the front-end is (interop.md §1.3): the guest tests check that QEMU >= 8.1 sent C.
    log.debug("CREATE_CRYPTO_SESSION in layout {layout}: session {id}", { layout, id });
  } catch (e) {
    if (e instanceof CryptoWireError && MALFORMED.has(e.kind)) throw e;
    if (!(e instanceof CryptoWireError) && !(e instanceof SessionParamsError)) throw e;
    // QEMU maps any negative id to ERR for the guest (interop.md §1.3): the reason only reaches our log.
    sessions.log.info(log, "create-session-refused", "CREATE_CRYPTO_SESSION refused: {reason}", {
      reason: e.message,
    });
  }
  return buildVhostSessionReply(payload, BigInt(id));
}

function closeSession(sessions: SessionManager, payload: Uint8Array): null {
  if (payload.length !== 8) {
    throw new CryptoWireError(
      "bad-payload-size",
      `Cannot close session: payload must be 8 bytes: current value is ${payload.length}`,
    );
  }
  const id = readU64(payload, 0);
  const closed = id <= BigInt(Number.MAX_SAFE_INTEGER) && sessions.close(Number(id));
  if (!closed) {
    sessions.log.warn(
      log,
      "close-unknown-session",
      "CLOSE_CRYPTO_SESSION for unknown session {id}: ignored",
      {
        id: id.toString(),
      },
    );
  }
  return null;
}
