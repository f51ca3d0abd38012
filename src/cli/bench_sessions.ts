/**
 * Opening and closing `bench`'s sessions: through vhost-user message 26 in the chosen payload layout, or through
 * the control queue for the sessions message 26 cannot express (with a time limit: a back-end without a control
 * queue never answers there).
 *
 * @module
 */

import type { VhostSessionLayout } from "../crypto/mod.ts";
import type { SessionSpec, VirtioCryptoDriver } from "../frontend/mod.ts";

/** How long to wait for a control-queue answer before deciding the back-end has no control queue. */
const CONTROL_QUEUE_TIMEOUT_MS = 3000;

/** Opens a session; returns its id, or why the algorithm is skipped. */
export async function openSession(
  driver: VirtioCryptoDriver,
  session: SessionSpec,
  viaControlQueue: boolean,
  layout: VhostSessionLayout,
): Promise<bigint | string> {
  if (!viaControlQueue) {
    const id = await driver.createSessionVhost(session, layout);
    return id >= 0n ? id : `the back-end refused the session (message 26, layout ${layout}: id ${id})`;
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), CONTROL_QUEUE_TIMEOUT_MS);
  });
  try {
    const answer = await Promise.race([driver.createSessionCtrl(session), timeout]);
    if (answer === null) {
      return `the back-end did not answer on the control queue within ${CONTROL_QUEUE_TIMEOUT_MS} ms (one without a control queue, such as DPDK's vhost_crypto, needs --no-control-queue)`;
    }
    return answer.status === 0
      ? answer.id
      : `the back-end refused the session (control queue: status ${answer.status})`;
  } finally {
    clearTimeout(timer);
  }
}

/** Closes a session the way it was opened. */
export async function closeSession(
  driver: VirtioCryptoDriver,
  session: SessionSpec,
  viaControlQueue: boolean,
  id: bigint,
): Promise<void> {
  if (viaControlQueue) await driver.closeSessionCtrl(session.service, id);
  else await driver.closeSessionVhost(id);
}
