/**
 * Issue 11 item 3 on the gen4 VF model with memfd guest RAM: the QAT engine maps a VM's regions as the virtio-pci
 * driver does for each VM (`VmDmaMap`: IOVA = the daemon's host address of the region, so several VMs' RAM never
 * collides, not IOVA = GPA) and translates each buffer GPA -> IOVA through `GuestIovaMap`. A request whose buffers
 * lie in guest RAM goes to the device by IOVA, with a scatter-gather list when its destination crosses from one
 * region into the next, and nothing bounces; a buffer outside guest RAM bounces, counted. After a reset the
 * regions are mapped again at the same IOVAs. Answers: NIST SP 800-38A F.2.1 (CBC-AES128).
 *
 * @module
 */

import assert from "node:assert/strict";
import { QatEngine } from "../../../src/accel/qat/mod.ts";
import {
  allocHostMemory,
  CryptoOp,
  type DmaRegion,
  type EngineSession,
  type HostMemory,
  PENDING,
} from "../../../src/engine/mod.ts";
import { createMemfd, Mapping } from "../../../src/os/mod.ts";
import { Status } from "../../../src/spec/virtio_crypto.ts";
import { hex, toHex } from "../../engine/_helpers.ts";
import { AES_SP800_38A } from "../../../src/selftest/vectors/aes_sp800_38a.ts";
import { FakeQatVf } from "../../_fixtures/fake_qat_vf.ts";

const F21 = AES_SP800_38A.find((v) => v.id === "SP 800-38A F.2.1 CBC-AES128")!;
const REGION = 0x1_0000;
const GPA = [0x1_0000_0000, 0x1_0000_0000 + REGION]; // adjacent in the guest, apart in the host

interface Ram {
  readonly maps: Mapping[];
  readonly memory: HostMemory[];
  readonly regions: DmaRegion[];
}

function guestRam(): Ram {
  const maps = GPA.map((_, i) => {
    const fd = createMemfd(`qat-guest-${i}`, REGION);
    try {
      return Mapping.fromFd(fd.raw, REGION);
    } finally {
      fd.close();
    }
  });
  return {
    maps,
    memory: maps.map((m) => ({ bytes: m.bytes, address: m.address })),
    regions: maps.map((m, i) => ({ gpa: GPA[i]!, size: REGION, address: m.address })),
  };
}

// Runs an op on the engine, stepping the model, and returns status/ciphertext.
function run(qat: QatEngine, model: FakeQatVf, op: CryptoOp, out: () => Uint8Array): string {
  let status = -100;
  op.complete = (_op, s) => status = s;
  const first = qat.submit(op);
  if (first !== PENDING) return `${first}/`;
  for (let i = 0; status === -100 && i < 100; i++) {
    model.pump();
    qat.poll();
  }
  return `${status}/${toHex(out())}`;
}

function cbc(qat: QatEngine): EngineSession {
  return qat.createSession({ service: "cipher", algo: F21.algo, key: hex(F21.key), direction: 1 });
}

Deno.test("QAT zero copy: guest buffers by IOVA (an SGL across two regions), outside ones bounced and counted", () => {
  const model = new FakeQatVf();
  const qat = QatEngine.open(model, { completions: "caller", retryMs: 0 });
  const ram = guestRam();
  try {
    qat.setGuestMemory(ram.regions);
    const mapped = qat.guestMappings;
    assert.deepEqual(mapped, ram.regions.map((r) => [r.gpa, r.gpa + REGION, Number(r.address)]));
    const session = cbc(qat);
    const [a, b] = ram.memory as [HostMemory, HostMemory];
    const pt = hex(F21.plaintext);
    a.bytes.set(hex(F21.iv), 0);
    a.bytes.set(pt, 0x100);
    const op = new CryptoOp(4);
    op.session = session;
    op.iv.push(a, 0, 16, GPA[0]!);
    op.src.push(a, 0x100, 64, GPA[0]! + 0x100);
    op.dst.push(a, REGION - 24, 24, GPA[0]! + REGION - 24); // the destination crosses into the next region
    op.dst.push(b, 0, 40, GPA[1]!);
    const out = () => Uint8Array.from([...a.bytes.subarray(REGION - 24), ...b.bytes.subarray(0, 40)]);
    assert.equal(run(qat, model, op, out), `${Status.OK}/${F21.ciphertext}`);
    assert.equal(qat.stats().bounced, 0);
    assert.equal(model.counts.requests, 1);

    const host = allocHostMemory(64); // engine memory, no guest address: bounced
    const op2 = new CryptoOp(4);
    op2.session = session;
    op2.iv.push(a, 0, 16, GPA[0]!);
    op2.src.push(a, 0x100, 64, GPA[0]! + 0x100);
    op2.dst.push(host, 0, 64);
    assert.equal(run(qat, model, op2, () => host.bytes), `${Status.OK}/${F21.ciphertext}`);
    assert.equal(qat.stats().bounced, 1);
    assert.equal(model.counts.requests, 2);

    qat.injectReset(); // seen by the next session's health check; the one after restarts the device
    assert.throws(() => cbc(qat), /was reset/);
    assert.equal(qat.guestMappings.length, 0, "unmapped while the device is down");
    op.session = cbc(qat); // sessions of the old incarnation are gone with it (the router re-runs theirs)
    assert.equal(qat.stats().epoch, 2);
    assert.deepEqual(qat.guestMappings, mapped, "mapped again at the same IOVAs");
    b.bytes.fill(0, 0, 40);
    assert.equal(run(qat, model, op, out), `${Status.OK}/${F21.ciphertext}`);
    assert.equal(qat.stats().bounced, 1);
  } finally {
    qat.close();
    model.close();
    for (const m of ram.maps) m.unmap();
  }
});
