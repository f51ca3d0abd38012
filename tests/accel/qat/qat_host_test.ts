/**
 * `QatHost` and `QatClient` on one thread, against the gen4 VF model (the daemon runs each client on its VM's
 * Worker; here the calls and events are direct, so each step can be looked at): a ring pair per VM, each VM's
 * guest RAM at IOVAs of its own though both guests use the same guest-physical addresses, a VM past the ring
 * pairs served in software, a failure told to every VM with no restart before all let go (then epoch 2 for
 * both), and a VM's ring pair reset for the next VM. Outputs are NIST SP 800-38A F.2.1 (CBC-AES128).
 *
 * @module
 */

import assert from "node:assert/strict";
import { type QatAccelEvent, QatClient, QatHost, type QatVmTicket } from "../../../src/accel/qat/mod.ts";
import {
  CryptoOp,
  ENGINE_FAILED,
  EngineError,
  type EngineSession,
  PENDING,
} from "../../../src/engine/mod.ts";
import { createMemfd, Mapping } from "../../../src/os/mod.ts";
import { Status } from "../../../src/spec/virtio_crypto.ts";
import { AES_SP800_38A } from "../../../src/selftest/vectors/aes_sp800_38a.ts";
import { hex, toHex } from "../../engine/_helpers.ts";
import { FakeQatVf } from "../../_fixtures/fake_qat_vf.ts";

const F21 = AES_SP800_38A.find((v) => v.id === "SP 800-38A F.2.1 CBC-AES128")!;
const GPA = 0x1_0000_0000; // both guests' RAM starts here
const SIZE = 0x1_0000;
const RIGHT = `${Status.OK}/${F21.ciphertext}`;

/** A VM on the host: its ticket, its client, its guest RAM, the events it was sent (delivered on `deliver()`). */
interface Vm {
  readonly ticket: QatVmTicket;
  readonly client: QatClient;
  readonly ram: Mapping;
  readonly events: QatAccelEvent[];
  deliver(): void;
}

function attach(host: QatHost, name: string, quota: number | null = null): Vm {
  const events: QatAccelEvent[] = [];
  const ticket = host.attach(name, (e) => events.push(e), quota);
  const client = new QatClient(ticket, host.control(ticket.vm), null);
  const fd = createMemfd(`qat-host-${name}`, SIZE);
  const ram = Mapping.fromFd(fd.raw, SIZE);
  fd.close();
  client.setGuestMemory([{ gpa: GPA, size: SIZE, address: ram.address }]);
  return {
    ticket,
    client,
    ram,
    events,
    deliver: () => {
      for (const e of events.splice(0)) client.onEvent(e);
    },
  };
}

function session(vm: Vm): EngineSession {
  return vm.client.createSession({ service: "cipher", algo: F21.algo, key: hex(F21.key), direction: 1 });
}

// F.2.1 in the VM's own RAM by guest-physical address; steps the model until it completes: status/ciphertext.
function encrypt(vm: Vm, s: EngineSession, model: FakeQatVf): string {
  const memory = { bytes: vm.ram.bytes, address: vm.ram.address };
  vm.ram.bytes.set(hex(F21.iv), 0);
  vm.ram.bytes.set(hex(F21.plaintext), 0x100);
  vm.ram.bytes.fill(0, 0x200, 0x240);
  const op = new CryptoOp(4);
  op.session = s;
  op.iv.push(memory, 0, 16, GPA);
  op.src.push(memory, 0x100, 64, GPA + 0x100);
  op.dst.push(memory, 0x200, 64, GPA + 0x200);
  let status = -100;
  op.complete = (_op, st) => status = st;
  const first = vm.client.submit(op);
  if (first !== PENDING) return `${first}/`;
  vm.client.flush();
  for (let i = 0; status === -100 && i < 100; i++) {
    model.pump();
    vm.client.poll();
  }
  return `${status}/${toHex(vm.ram.bytes.subarray(0x200, 0x240))}`;
}

function rig(idleHealthMs?: number): { model: FakeQatVf; host: QatHost; vms: Vm[] } {
  const model = new FakeQatVf();
  const options = { poll: true, retryMs: 0, watchdogMs: 5, requestTimeoutMs: 40 };
  const host = QatHost.open(model, idleHealthMs === undefined ? options : { ...options, idleHealthMs });
  return { model, host, vms: [] };
}

function close(r: { model: FakeQatVf; host: QatHost; vms: Vm[] }): void {
  for (const vm of r.vms) {
    vm.client.close();
    r.host.detach(vm.ticket.vm);
    vm.ram.unmap();
  }
  r.host.close();
  r.model.close();
}

Deno.test("QatHost: a ring pair per VM, each VM's RAM at IOVAs of its own, a VM past the ring pairs in software", () => {
  const r = rig();
  try {
    const [a, b, c] = ["a", "b", "c"].map((n) => attach(r.host, n)) as [Vm, Vm, Vm];
    r.vms.push(a, b, c);
    assert.notEqual(a.ticket.grant, null);
    assert.notEqual(b.ticket.grant, null);
    assert.notEqual(a.ticket.grant!.ring.bundle, b.ticket.grant!.ring.bundle, "a bundle each");
    assert.deepEqual([c.ticket.grant, c.ticket.software], [null, true]);
    assert.equal(r.host.stats().softwareVms, 1);

    const iovas = [a, b].map((vm) => vm.ram.address).map((address, i) =>
      r.host.control([a, b][i]!.ticket.vm).mapMemory([{ gpa: GPA, size: SIZE, address }])[0]!.iova
    );
    assert.notEqual(iovas[0], iovas[1], "the same GPA, IOVAs of their own");
    assert.deepEqual(iovas, [Number(a.ram.address), Number(b.ram.address)]);
    a.client.setGuestMemory([{ gpa: GPA, size: SIZE, address: a.ram.address }]);
    b.client.setGuestMemory([{ gpa: GPA, size: SIZE, address: b.ram.address }]);

    assert.equal(encrypt(a, session(a), r.model), RIGHT);
    assert.equal(encrypt(b, session(b), r.model), RIGHT);
    assert.equal(r.model.counts.requests, 2);
    assert.deepEqual(r.host.stats().vms.map((v) => v.sessions), [1, 1, 0]);
    assert.throws(() => session(c), (e) => e instanceof EngineError && /no QAT ring pair/.test(e.message));
    assert.equal(c.client.stats().software, true);
  } finally {
    close(r);
  }
});

Deno.test("QatHost failure: every VM is told, no restart before all let go, then epoch 2 for both", () => {
  const r = rig();
  try {
    const [a, b] = ["a", "b"].map((n) => attach(r.host, n)) as [Vm, Vm];
    r.vms.push(a, b);
    const sa = session(a);
    r.model.hung = true;
    const op = new CryptoOp(4);
    op.session = sa;
    const memory = { bytes: a.ram.bytes, address: a.ram.address };
    op.iv.push(memory, 0, 16, GPA);
    op.src.push(memory, 0x100, 64, GPA + 0x100);
    op.dst.push(memory, 0x200, 64, GPA + 0x200);
    let status = -100;
    op.complete = (_op, st) => status = st;
    assert.equal(a.client.submit(op), PENDING);
    a.client.flush();

    r.host.control(a.ticket.vm).reportFailure("a request got no answer", a.ticket.grant!.epoch);
    assert.equal(r.host.state, "failed");
    assert.deepEqual([a.events.length, b.events.length], [1, 1]);
    assert.equal(a.client.submit(op), ENGINE_FAILED, "the state word sends requests to software at once");
    a.deliver();
    assert.equal(status, ENGINE_FAILED, "a's request in flight was given back");
    r.model.hung = false;
    assert.throws(() => session(a), /the QAT is down/, "b still holds its ring pair: no restart");
    b.deliver();
    const again = session(a); // everyone let go: this session restarts the VF
    assert.equal(r.host.state, "ready");
    assert.equal(r.host.stats().epoch, 2);
    assert.equal(a.client.stats().epoch, 2);
    assert.deepEqual(b.events.map((e) => [e.kind, e.epoch]), [["up", 2]]);
    b.deliver();
    assert.equal(b.client.stats().epoch, 2);
    assert.equal(encrypt(a, again, r.model), RIGHT);
    assert.equal(encrypt(b, session(b), r.model), RIGHT);
    assert.equal(encrypt(a, sa, r.model), `${ENGINE_FAILED}/`, "a session of epoch 1 stays in software");
  } finally {
    close(r);
  }
});

Deno.test("QatHost: a VM that goes away leaves its ring pair reset for the next VM", () => {
  const r = rig();
  try {
    const [a, b] = ["a", "b"].map((n) => attach(r.host, n)) as [Vm, Vm];
    r.vms.push(b);
    assert.equal(encrypt(a, session(a), r.model), RIGHT);
    const bundle = a.ticket.grant!.ring.bundle;
    const resets = r.model.pf.resets[bundle]!;
    a.client.close();
    r.host.detach(a.ticket.vm);
    a.ram.unmap();
    assert.equal(r.model.pf.resets[bundle], resets + 1, "its ring pair was reset through the PF");
    const d = attach(r.host, "d");
    r.vms.push(d);
    assert.equal(d.ticket.grant!.ring.bundle, bundle);
    assert.equal(encrypt(d, session(d), r.model), RIGHT);
    assert.equal(r.host.stats().softwareVms, 0);
  } finally {
    close(r);
  }
});

Deno.test("QatHost: a VM's session quota holds on its ring pair (the router counts the rest as quota)", () => {
  const r = rig();
  try {
    const a = attach(r.host, "capped", 1);
    r.vms.push(a);
    const first = session(a);
    assert.throws(() => session(a), (e) => e instanceof EngineError && e.kind === "quota");
    a.client.closeSession(first);
    assert.equal(encrypt(a, session(a), r.model), RIGHT, "a closed session gives its place back");
    assert.equal(r.host.stats().vms[0]!.sessions, 1);
  } finally {
    close(r);
  }
});

Deno.test("QatHost: a VF that vanishes while no VM has requests on it is noticed without a request", async () => {
  const r = rig(20);
  try {
    const [a, b] = ["a", "b"].map((n) => attach(r.host, n)) as [Vm, Vm];
    r.vms.push(a, b);
    assert.equal(encrypt(a, session(a), r.model), RIGHT);
    await new Promise((resolve) => setTimeout(resolve, 60)); // idle checks find it healthy
    assert.equal(r.host.state, "ready");
    r.model.vanish();
    const deadline = Date.now() + 2000;
    while (r.host.state === "ready" && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.equal(r.host.state, "failed", "an idle VF that vanished still reads as ready");
    assert.deepEqual([a.events.map((e) => e.kind), b.events.map((e) => e.kind)], [["down"], ["down"]]);
  } finally {
    r.model.comeBack();
    close(r);
  }
});
