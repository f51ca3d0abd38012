/**
 * The probe at start: one session per algorithm the device advertises, created and destroyed at once, because a
 * device may advertise more than it serves (QEMU's built-in back-end advertises SHA-1 and refuses hash sessions).
 * What it refuses is not claimed, so sessions for it go to software without a failed round trip each time.
 *
 * @module
 */

import { type Capabilities, EngineError, type SessionParams } from "../../engine/mod.ts";
import { chainProbe, type Probe, probeList, withoutRefused } from "./device_caps.ts";

/** What the probe found. */
export interface ProbeResult {
  /** The capabilities without what was refused. */
  readonly caps: Capabilities;
  /** Labels of the refused claims (`AES-CBC/16`, `SHA1`). */
  readonly refused: string[];
}

/**
 * Probes every advertised claim, then chaining over what is left.
 *
 * @param advertised What the configuration space says.
 * @param tryCreate Creates and destroys a session; throws EngineError when the device refuses it.
 * @returns The capabilities to claim and what was refused.
 * @throws EngineError `unavailable` (the device failed during the probe), or any non-engine error.
 */
export function probeDevice(
  advertised: Capabilities,
  tryCreate: (params: SessionParams) => void,
): ProbeResult {
  const refused: Probe[] = [];
  const tryProbe = (p: Probe): boolean => {
    try {
      tryCreate(p.params);
      return true;
    } catch (e) {
      if (!(e instanceof EngineError) || e.kind === "unavailable") throw e;
      return false;
    }
  };
  for (const p of probeList(advertised)) if (!tryProbe(p)) refused.push(p);
  const caps = withoutRefused(advertised, refused);
  const chain = chainProbe(caps);
  let result = chain === null ? caps : { ...caps, chaining: true };
  if (chain !== null && !tryProbe(chain)) {
    refused.push(chain);
    result = caps;
  }
  return { caps: result, refused: refused.map((p) => p.label) };
}
