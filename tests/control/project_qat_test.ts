// A status report's QAT part, as the CLI reads it from the control socket (src/control/project.ts): a daemon
// from before `softwareVms` existed leaves it out, and its report must still read (null) and print, while a
// wrong type is still refused with the field's name.

import assert from "node:assert/strict";
import { projectAccelerator } from "../../src/control/project.ts";
import { formatAccelerator } from "../../src/cli/status.ts";

function report(qat: Record<string, unknown>): Record<string, unknown> {
  return {
    kind: "qat-gen4-vf",
    device: "0000:3d:00.1",
    name: "qat-gen4 0000:3d:00.1",
    state: "ready",
    epoch: 1,
    failures: 0,
    resets: 0,
    lastFailure: null,
    sessions: 2,
    inflight: 0,
    completed: 10,
    failed: 0,
    declined: 0,
    bounced: 0,
    refused: [],
    qat: { ringPairs: 2, services: ["sym", "asym", "sym", "dc"], doorbells: 3, interrupts: 2, ...qat },
  };
}

Deno.test("a QAT report without softwareVms (an older daemon) reads as null and prints", () => {
  const a = projectAccelerator(report({}));
  assert.equal(a.qat!.softwareVms, null);
  assert.match(formatAccelerator(a), /2 ring pairs in use \(VMs past them: not reported by this daemon\)/);
});

Deno.test("a QAT report's softwareVms: a count prints, zero says nothing, a string is refused by name", () => {
  assert.match(
    formatAccelerator(projectAccelerator(report({ softwareVms: 1 }))),
    /\(1 VM past them in software\)/,
  );
  assert.doesNotMatch(formatAccelerator(projectAccelerator(report({ softwareVms: 0 }))), /past them/);
  assert.throws(() => projectAccelerator(report({ softwareVms: "1" })), /accelerator\.qat\.softwareVms/);
});
