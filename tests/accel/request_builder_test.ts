import assert from "node:assert/strict";
import {
  AccelSession,
  copyBack,
  type DmaArea,
  RequestBuilder,
  Slot,
  SLOT_BOUNCE,
  SLOT_IV,
  SLOT_STATUS,
} from "../../src/accel/virtio_pci/mod.ts";
import { AeadAlgo, CipherAlgo, HashAlgo, Opcode, Status } from "../../src/spec/virtio_crypto.ts";
import { DataRequest, readDataRequest } from "../../src/crypto/mod.ts";
import {
  allocHostMemory,
  type CryptoEngine,
  CryptoOp,
  ENGINE_FAILED,
  type HostMemory,
  type SessionParams,
} from "../../src/engine/mod.ts";
import { DriverBufferList } from "../../src/virtio/mod.ts";

const AREA_IOVA = 0x7f_ffe0_0000;
const GUEST_GPA = 0x4000_0000;
const SLOT_BASE = 0x400;

interface BuilderRig {
  readonly area: DmaArea;
  readonly guest: HostMemory;
  readonly builder: RequestBuilder;
  readonly slot: Slot;
  readonly list: DriverBufferList;
}

/** A DMA area, a guest region whose first 32 KiB are mapped at GUEST_GPA, and a builder over them. */
function rig(limits: { maxSegments?: number; bounceBytes?: number; maxSize?: number } = {}): BuilderRig {
  const mem = allocHostMemory(0x4000);
  const area: DmaArea = { iova: AREA_IOVA, size: 0x4000, bytes: mem.bytes, address: mem.address };
  const guest = allocHostMemory(0x10000);
  const mapped = { // IOVA = GPA over the first 32 KiB of guest RAM
    iova: (gpa: number, len: number) => gpa >= GUEST_GPA && gpa + len <= GUEST_GPA + 0x8000 ? gpa : -1,
  };
  const maxSegments = limits.maxSegments ?? 16;
  const builder = new RequestBuilder(area, {
    maxSegments,
    bounceBytes: limits.bounceBytes ?? 256,
    maxSize: limits.maxSize ?? 1 << 20,
  }, mapped);
  const slot = new Slot(0, area, SLOT_BASE, maxSegments);
  const list = new DriverBufferList(maxSegments);
  return { area, guest, builder, slot, list };
}

function session(params: SessionParams): AccelSession {
  return new AccelSession({} as CryptoEngine, params, 0x1_0000_0002n, 1);
}

function entries(list: DriverBufferList): [number, number, number][] {
  return Array.from({ length: list.count }, (_, i) => [list.gpa[i]!, list.len[i]!, list.writable[i]!]);
}

Deno.test("RequestBuilder lays a cipher request out: header and IV in the slot, payload at its GPA, status last", () => {
  const { area, guest, builder, slot, list } = rig();
  const s = session({ service: "cipher", algo: CipherAlgo.AES_CBC, key: new Uint8Array(16), direction: 2 });
  const op = new CryptoOp(8);
  op.session = s;
  op.iv.push(guest, 0x100, 16, GUEST_GPA + 0x100);
  guest.bytes.set([9, 8, 7], 0x100);
  op.src.push(guest, 0x1000, 64, GUEST_GPA + 0x1000);
  op.dst.push(guest, 0x2000, 64, GUEST_GPA + 0x2000);
  assert.equal(builder.build(op, s, slot, list), Status.OK);
  const at = AREA_IOVA + SLOT_BASE;
  assert.deepEqual(entries(list), [
    [at, 72, 0],
    [at + SLOT_IV, 16, 0],
    [GUEST_GPA + 0x1000, 64, 0],
    [GUEST_GPA + 0x2000, 64, 1],
    [at + SLOT_STATUS, 1, 1],
  ]);
  assert.deepEqual(
    [...area.bytes.subarray(SLOT_BASE + SLOT_IV, SLOT_BASE + SLOT_IV + 3)],
    [9, 8, 7],
    "IV copied",
  );
  assert.equal(area.bytes[SLOT_BASE + SLOT_STATUS], 0xff, "status pre-set to a value no status has");
  const req = readDataRequest(slot.header, "legacy", new DataRequest());
  assert.equal(req.error, null);
  assert.deepEqual(
    [req.opcode, req.kind, req.sessionId, req.ivLen, req.srcDataLen, req.dstDataLen],
    [Opcode.CIPHER_DECRYPT, "cipher", 0x1_0000_0002n, 16, 64, 64],
  );
  assert.equal(slot.fixCount, 0, "zero copy: nothing to copy back");
});

Deno.test("RequestBuilder bounces ranges without a GPA or outside mapped RAM, and copyBack() returns the output", () => {
  const { area, guest, builder, slot, list } = rig();
  const s = session({ service: "hash", algo: HashAlgo.SHA_256, resultLen: 32 });
  const host = allocHostMemory(64);
  host.bytes.set([1, 2, 3, 4], 0);
  const op = new CryptoOp(8);
  op.session = s;
  op.src.push(host, 0, 4); // engine-owned: no GPA
  op.src.push(guest, 0x9000, 8, GUEST_GPA + 0x9000); // guest RAM that is not mapped for DMA
  op.digest.push(host, 32, 32);
  assert.equal(builder.build(op, s, slot, list), Status.OK);
  const bounce = AREA_IOVA + SLOT_BASE + SLOT_BOUNCE;
  assert.deepEqual(entries(list).slice(1), [
    [bounce, 4, 0],
    [bounce + 4, 8, 0],
    [bounce + 12, 32, 1],
    [AREA_IOVA + SLOT_BASE + SLOT_STATUS, 1, 1],
  ]);
  assert.deepEqual([...area.bytes.subarray(SLOT_BASE + SLOT_BOUNCE, SLOT_BASE + SLOT_BOUNCE + 4)], [
    1,
    2,
    3,
    4,
  ]);
  area.bytes.fill(0xab, SLOT_BASE + SLOT_BOUNCE + 12, SLOT_BASE + SLOT_BOUNCE + 44); // the "device" writes
  copyBack(area, slot, op);
  assert.ok(host.bytes.subarray(32, 64).every((b) => b === 0xab));
  const req = readDataRequest(slot.header, "legacy", new DataRequest());
  assert.deepEqual([req.kind, req.srcDataLen, req.hashResultLen], ["hash", 12, 32]);
});

Deno.test("RequestBuilder puts an AEAD tag after the ciphertext: read on decrypt, written on encrypt", () => {
  const { builder, slot, list, guest } = rig();
  const g = (off: number) => GUEST_GPA + off;
  for (const direction of [1, 2] as const) {
    const s = session({
      service: "aead",
      algo: AeadAlgo.GCM,
      key: new Uint8Array(16),
      tagLen: 16,
      aadLen: 8,
      direction,
    });
    const op = new CryptoOp(8);
    op.session = s;
    op.iv.push(guest, 0, 12, g(0));
    op.src.push(guest, 0x100, 32, g(0x100));
    op.dst.push(guest, 0x200, 32, g(0x200));
    op.aad.push(guest, 0x300, 8, g(0x300));
    op.digest.push(guest, 0x400, 16, g(0x400));
    assert.equal(builder.build(op, s, slot, list), Status.OK);
    const payload = entries(list).slice(2, -1).map(([gpa, len, w]) => [gpa - GUEST_GPA, len, w]);
    assert.deepEqual(
      payload,
      direction === 1
        ? [[0x100, 32, 0], [0x300, 8, 0], [0x200, 32, 1], [0x400, 16, 1]]
        : [[0x100, 32, 0], [0x400, 16, 0], [0x300, 8, 0], [0x200, 32, 1]],
    );
    const req = readDataRequest(slot.header, "legacy", new DataRequest());
    assert.deepEqual(
      [req.srcDataLen, req.dstDataLen, req.tagLen],
      direction === 1 ? [32, 48, 16] : [48, 32, 16],
    );
  }
});

Deno.test("RequestBuilder answers bad requests like the software engine and gives what does not fit to software", () => {
  const s = session({ service: "cipher", algo: CipherAlgo.AES_CBC, key: new Uint8Array(16), direction: 1 });
  const build = (ivLen: number, len: number, options: Parameters<typeof rig>[0] = {}, pieces = 1): number => {
    const { builder, slot, list, guest } = rig(options);
    const op = new CryptoOp(64);
    op.session = s;
    op.iv.push(guest, 0, ivLen);
    for (let i = 0; i < pieces; i++) {
      op.src.push(guest, 0x1000 + i * 32, len / pieces, GUEST_GPA + 0x1000 + i * 32 + i);
    }
    op.dst.push(guest, 0x3000, len, GUEST_GPA + 0x3000);
    return builder.build(op, s, slot, list);
  };
  assert.equal(build(16, 32), Status.OK);
  assert.equal(build(15, 32), Status.ERR, "AES-CBC needs a 16-byte IV");
  assert.equal(build(16, 33), Status.ERR, "whole blocks only");
  assert.equal(build(16, 32, { maxSize: 40 }), ENGINE_FAILED, "over the device's max_size: software does it");
  assert.equal(build(16, 512, { maxSegments: 8 }, 16), ENGINE_FAILED, "more descriptors than a slot holds");
  const { builder, slot, list } = rig({ bounceBytes: 16 });
  const host = allocHostMemory(64);
  const op = new CryptoOp(8);
  op.session = s;
  op.iv.push(host, 0, 16);
  op.src.push(host, 16, 32);
  op.dst.push(host, 16, 32);
  assert.equal(builder.build(op, s, slot, list), ENGINE_FAILED, "more than the bounce area holds");
});
