/**
 * `serve --route` on a router: the policy set, and under `fastest` the start-up calibration run in the background
 * (a VM's thread, before it serves its socket; or the daemon's for inline serving) with one log line per algorithm.
 * Its own requests go to the engines directly and are not counted.
 *
 * The calibration runs only under `fastest`, the one policy that uses it: the default keeps start-up free of
 * extra device traffic.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { formatCalibration } from "../engine/calibration.ts";
import type { RouterEngine } from "../engine/router.ts";
import type { RoutePolicy } from "../engine/route_policy.ts";

const log = getLogger(["cryptobridge", "route"]);

/**
 * Sets the router's policy; under `fastest` starts its calibration (on the next turn of the event loop, once the
 * thread's reactor runs) and logs what it found.
 *
 * @param router The router, or null (no accelerator: nothing to route).
 * @param policy The policy.
 * @param who Whose router, for the log (a VM's name).
 * @returns The calibration's end (it never rejects), or null when none runs.
 */
export function applyRoute(
  router: RouterEngine | null,
  policy: RoutePolicy,
  who: string,
): Promise<void> | null {
  if (router === null) return null;
  router.setPolicy(policy);
  if (policy !== "fastest") return null;
  return new Promise((resolve) => setTimeout(resolve, 0)).then(() => calibrateAndLog(router, who));
}

async function calibrateAndLog(router: RouterEngine, who: string): Promise<void> {
  try {
    const results = await router.calibrate();
    for (const r of results) log.info("{who}: route calibration {line}", { who, line: formatCalibration(r) });
  } catch (e) {
    log.warn("{who}: route calibration stopped ({error}): accelerator first for everything", {
      who,
      error: (e as Error).message,
    });
  }
}
