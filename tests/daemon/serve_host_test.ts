/**
 * `cryptobridge serve` run as systemd runs it (a separate process, `$NOTIFY_SOCKET` a datagram socket the test
 * bound, `--log-format json --log-level debug`), driven over its real control socket and the real vhost-user
 * sockets of its VMs' Workers:
 *
 * - READY=1 arrives once every socket listens (the VM's, control, metrics), STOPPING=1 at SIGTERM;
 * - every method answers; malformed JSON, unknown methods, wrong types and oversized lines are errors on a
 *   connection that stays usable;
 * - vm.add serves a new VM, vm.remove drops a VM's front-end with its sessions open and removes its socket,
 *   the other VM untouched;
 * - no key bytes in any answer, nor in any log line the daemon and its VMs' threads printed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ErrorCode } from "../../src/control/mod.ts";
import { CipherAlgo, MacAlgo, Status } from "../../src/spec/virtio_crypto.ts";
import { cipherRequest, macRequest, VirtioCryptoDriver } from "../../src/frontend/mod.ts";
import { effectiveUid } from "../../src/os/mod.ts";
import { LineClient } from "../control/_line_client.ts";
import { send } from "../integration/_daemon.ts";
import { spellings } from "../logging/_spellings.ts";
import { isSocket, type ServeProcess, startServeProcess } from "./_serve_process.ts";

interface Answer {
  readonly id: unknown;
  readonly result?: Record<string, unknown> & Record<string, unknown>[];
  readonly error?: {
    readonly code: number;
    readonly message: string;
    readonly data?: Record<string, unknown>;
  };
}

const req = (method: string, params?: unknown, id: unknown = 1): string =>
  JSON.stringify({ jsonrpc: "2.0", method, id, ...(params === undefined ? {} : { params }) });

const KEYS = [crypto.getRandomValues(new Uint8Array(16)), crypto.getRandomValues(new Uint8Array(32))];

async function ask(c: LineClient, method: string, params?: unknown): Promise<Answer> {
  return await c.ask(req(method, params)) as Answer;
}

async function ready(p: ServeProcess): Promise<void> {
  const notice = await p.nextNotice();
  assert.ok(notice !== null, "READY=1 within 60 s");
  assert.match(notice, /^READY=1\nSTATUS=serving 1 VM\(s\)$/);
  for (const s of ["vm1.sock", "cryptobridge-control.sock", "metrics.sock"]) {
    assert.ok(isSocket(`${p.dir}/${s}`), `${s} listens when READY=1 arrives`);
  }
  assert.equal(Deno.lstatSync(`${p.dir}/cryptobridge-control.sock`).mode! & 0o777, 0o600);
  assert.equal(Deno.lstatSync(`${p.dir}/cryptobridge-control.sock`).uid, effectiveUid());
}

async function checkErrors(c: LineClient): Promise<void> {
  const cases: [string, number][] = [
    ["{not json", ErrorCode.PARSE_ERROR],
    [req("no.such.method"), ErrorCode.METHOD_NOT_FOUND],
    [req("vm.remove", { name: 7 }), ErrorCode.INVALID_PARAMS],
    [req("log.set_level", { level: true }), ErrorCode.INVALID_PARAMS],
    [req("vm.add", { name: "vm9", socket: "/tmp/x.sock", queues: "two" }), ErrorCode.INVALID_PARAMS],
    [req("vm.remove", { name: "nope" }), ErrorCode.NOT_FOUND],
    [req("accelerator.reset"), ErrorCode.UNAVAILABLE],
    [
      `{"jsonrpc":"2.0","method":"status","id":1,"params":{"pad":"${"x".repeat(100_000)}"}}`,
      ErrorCode.INVALID_REQUEST,
    ],
  ];
  for (const [line, code] of cases) {
    const a = await c.ask(line) as Answer;
    assert.equal(a.error?.code, code, `${line.slice(0, 80)} -> ${JSON.stringify(a).slice(0, 200)}`);
    assert.equal((await ask(c, "status")).result?.["version"], "0.1.0", `usable after ${line.slice(0, 40)}`);
  }
}

/** vm1 with an AES-CBC session that served a request. */
async function vm1WithSession(p: ServeProcess): Promise<VirtioCryptoDriver> {
  const vm1 = await VirtioCryptoDriver.open({ path: `${p.dir}/vm1.sock` });
  const id = await vm1.createSessionVhost({
    service: "cipher",
    algo: CipherAlgo.AES_CBC,
    key: KEYS[0]!,
    op: 1,
  });
  const iv = new Uint8Array(16);
  assert.equal(
    (await send(vm1, cipherRequest(id, true, iv, 64), { iv, src_data: new Uint8Array(64) })).status,
    Status.OK,
  );
  return vm1;
}

/** vm2, added at run time, with a MAC session by the control queue. */
async function addVm2(p: ServeProcess, c: LineClient): Promise<{ vm2: VirtioCryptoDriver; id2: bigint }> {
  const added = await ask(c, "vm.add", { name: "vm2", socket: `${p.dir}/vm2.sock`, queues: 2 });
  assert.equal(added.result?.["name"], "vm2", JSON.stringify(added));
  assert.equal(
    (await ask(c, "vm.add", { name: "vm2", socket: `${p.dir}/vm3.sock` })).error?.code,
    ErrorCode.ALREADY_EXISTS,
  );
  const vm2 = await VirtioCryptoDriver.open({ path: `${p.dir}/vm2.sock`, dataQueues: 2 });
  const created = await vm2.createSessionCtrl({
    service: "mac",
    algo: MacAlgo.HMAC_SHA_256,
    resultLen: 32,
    key: KEYS[1]!,
  });
  assert.equal(created.status, Status.OK, "a MAC session on vm2, by the control queue");
  return { vm2, id2: created.id };
}

async function checkAddRemove(p: ServeProcess, c: LineClient, answers: string[]): Promise<void> {
  const vm1 = await vm1WithSession(p);
  const { vm2, id2 } = await addVm2(p, c);
  const list = await ask(c, "vm.list");
  answers.push(
    JSON.stringify(list),
    JSON.stringify(await ask(c, "stats")),
    JSON.stringify(await ask(c, "status")),
  );
  assert.deepEqual(
    list.result!.map((v) => [v["name"], v["connected"], v["sessions"]]),
    [
      ["vm1", true, 1],
      ["vm2", true, 1],
    ],
  );
  const removed = await ask(c, "vm.remove", { name: "vm1" });
  answers.push(JSON.stringify(removed));
  assert.equal(removed.result?.["removed"], true, JSON.stringify(removed));
  assert.ok(!isSocket(`${p.dir}/vm1.sock`), "vm1's socket file is removed");
  const dropped = await Promise.race([
    vm1.createSessionVhost({ service: "cipher", algo: CipherAlgo.AES_CBC, key: KEYS[0]!, op: 1 }).then(
      () => false,
      () => true,
    ),
    new Promise<boolean>((r) => setTimeout(() => r(false), 5000)),
  ]);
  assert.ok(dropped, "vm1's front-end was dropped");
  const mac = await send(vm2, macRequest(id2, 40, 32), { src_data: new Uint8Array(40) });
  assert.equal(mac.status, Status.OK, "vm2 still serves");
  assert.deepEqual((await ask(c, "vm.list")).result!.map((v) => v["name"]), ["vm2"]);
  await vm1.close().catch(() => {});
  await vm2.close();
}

function assertNoKeys(texts: readonly string[]): void {
  for (const text of texts) {
    for (const key of KEYS) {
      for (const s of spellings(key)) {
        assert.ok(
          !text.includes(s),
          `a key spelled ${JSON.stringify(s.slice(0, 16))} in ${text.slice(0, 200)}`,
        );
      }
    }
  }
}

Deno.test("serve as systemd runs it: READY=1 once every socket listens, the control socket live, STOPPING=1, no key in any output", async () => {
  await using p = await startServeProcess([
    "--socket={dir}/vm1.sock",
    "--metrics={dir}/metrics.sock",
    "--log-format=json",
    "--log-level=debug",
    "--engine=software",
  ]);
  await ready(p);
  using c = await LineClient.connect(`${p.dir}/cryptobridge-control.sock`);
  const methods = await ask(c, "methods");
  assert.ok(methods.result!.length >= 9);
  assert.equal((await ask(c, "log.set_level", { level: "trace" })).result?.["level"], "trace");
  await checkErrors(c);
  const answers: string[] = [];
  await checkAddRemove(p, c, answers);
  c.close();
  const stopped = p.stop();
  assert.match((await p.nextNotice(20_000)) ?? "", /^STOPPING=1\nSTATUS=stopping: SIGTERM$/);
  const { code, stdout, stderr } = await stopped;
  assert.equal(code, 0, stderr.slice(-2000));
  const lines = stderr.split("\n").filter((l) => l !== "");
  for (const l of lines) assert.equal(typeof JSON.parse(l)["@timestamp"], "string", l);
  assert.ok(
    lines.some((l) => JSON.parse(l).properties?.vm === "vm2"),
    "VM threads log in JSON, naming their VM",
  );
  assert.ok(
    lines.some((l) => JSON.parse(l).level === "TRACE" || JSON.parse(l).level === "DEBUG"),
    "debug lines printed",
  );
  assertNoKeys([stdout, stderr, ...answers]);
});
