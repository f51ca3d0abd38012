// Property tests (issue 14, item 6) of the parsers a front-end or a guest feeds: the vhost-user message decoders
// and the virtio-crypto codecs. Every property runs a fixed seed, so a failure replays; fast-check shrinks it.
//
// Two kinds of property: arbitrary bytes give a value or the codec's own typed error (never a RangeError from a
// typed array, never a TypeError), and what an encoder writes decodes to what it was given (where the encoder,
// stricter than the decoders, accepts it).

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  CryptoWireError,
  DataRequest,
  decodeConfig,
  decodeCtrlRequest,
  decodeVhostSession,
  encodeConfig,
  encodeCtrlRequest,
  encodeDataRequest,
  readDataRequest,
} from "../../src/crypto/mod.ts";
import {
  decodeHeader,
  decodeMemTable,
  decodeVringAddr,
  decodeVringState,
  encodeMessage,
  memTablePayload,
  Request,
  VhostUserError,
  vringAddrPayload,
  vringStatePayload,
} from "../../src/vhost_user/mod.ts";

const RUNS = { seed: 14, numRuns: 2000 };

/** Runs `f`; a throw must be an instance of `type`. */
function onlyTyped(type: new (...a: never[]) => Error, f: () => unknown): void {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof type, `expected ${type.name}, got ${e}`);
  }
}

const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const safeAddr = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });

Deno.test("property: vhost-user decoders give a value or a VhostUserError for any bytes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (b) => {
      onlyTyped(VhostUserError, () => b.length >= 12 && decodeHeader(b));
      onlyTyped(VhostUserError, () => decodeVringState(Request.SET_VRING_NUM, b));
      onlyTyped(VhostUserError, () => decodeVringAddr(Request.SET_VRING_ADDR, b));
      onlyTyped(VhostUserError, () => decodeMemTable(Request.SET_MEM_TABLE, b));
    }),
    RUNS,
  );
});

Deno.test("property: a header accepted by decodeHeader is the one encodeMessage wrote", () => {
  fc.assert(
    fc.property(u32, fc.uint8Array({ maxLength: 64 }), (request, payload) => {
      const h = decodeHeader(encodeMessage(request, 1, payload));
      assert.deepEqual(h, { request, flags: 1, size: payload.length });
    }),
    RUNS,
  );
});

Deno.test("property: vring state, vring address and memory table payloads round-trip", () => {
  const region = fc.record({
    guestPhysAddr: safeAddr,
    memorySize: safeAddr,
    userspaceAddr: safeAddr,
    mmapOffset: safeAddr,
  });
  fc.assert(
    fc.property(u32, u32, fc.array(region, { minLength: 1, maxLength: 8 }), (index, num, regions) => {
      assert.deepEqual(decodeVringState(Request.SET_VRING_NUM, vringStatePayload(index, num)), {
        index,
        num,
      });
      assert.deepEqual(decodeMemTable(Request.SET_MEM_TABLE, memTablePayload(regions)), regions);
    }),
    RUNS,
  );
  fc.assert(
    fc.property(u32, u32, safeAddr, safeAddr, safeAddr, (index, flags, d, u, a) => {
      const addr = { index, flags, descUserAddr: d, usedUserAddr: u, availUserAddr: a };
      const got = decodeVringAddr(Request.SET_VRING_ADDR, vringAddrPayload(addr));
      assert.deepEqual(got, { ...addr, logGuestAddr: 0n });
    }),
    RUNS,
  );
});

Deno.test("property: virtio-crypto decoders give a value or a CryptoWireError for any bytes", () => {
  const out = new DataRequest();
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 1200 }), fc.boolean(), (b, rev1) => {
      const layout = rev1 ? "revision1" : "legacy";
      onlyTyped(CryptoWireError, () => decodeCtrlRequest(b, layout));
      onlyTyped(CryptoWireError, () => readDataRequest(b, layout, out));
      onlyTyped(CryptoWireError, () => decodeVhostSession(b));
      onlyTyped(CryptoWireError, () => decodeConfig(b));
    }),
    RUNS,
  );
});

Deno.test("property: a control or data request that decodes encodes back to the same bytes", () => {
  const out = new DataRequest();
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 72, maxLength: 128 }), fc.boolean(), (b, rev1) => {
      const layout = rev1 ? "revision1" : "legacy";
      let ctrl;
      try {
        ctrl = decodeCtrlRequest(b, layout);
      } catch {
        return; // not a request: the other property covers the error
      }
      let again: Uint8Array;
      try {
        again = encodeCtrlRequest(ctrl, layout);
      } catch (e) {
        assert.ok(e instanceof CryptoWireError, String(e));
        return;
      }
      assert.deepEqual(decodeCtrlRequest(again, layout), ctrl);
    }),
    RUNS,
  );
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 72, maxLength: 128 }), fc.boolean(), (b, rev1) => {
      const layout = rev1 ? "revision1" : "legacy";
      try {
        readDataRequest(b, layout, out);
      } catch {
        return;
      }
      const first = structuredClone({ ...out });
      let bytes: Uint8Array;
      try {
        bytes = encodeDataRequest(out, layout);
      } catch (e) {
        // The decoder leaves some checks to the device (op_type 0 is the device's BADMSG); the encoder refuses
        // them up front, with its typed error.
        assert.ok(e instanceof CryptoWireError, String(e));
        return;
      }
      readDataRequest(bytes, layout, out);
      assert.deepEqual(structuredClone({ ...out }), first);
    }),
    RUNS,
  );
});

Deno.test("property: virtio_crypto_config round-trips", () => {
  fc.assert(
    fc.property(fc.array(u32, { minLength: 12, maxLength: 12 }), fc.bigUintN(64), (w, maxSize) => {
      const cfg = {
        status: w[0]!,
        maxDataqueues: w[1]!,
        cryptoServices: w[2]!,
        cipherAlgoL: w[3]!,
        cipherAlgoH: w[4]!,
        hashAlgo: w[5]!,
        macAlgoL: w[6]!,
        macAlgoH: w[7]!,
        aeadAlgo: w[8]!,
        maxCipherKeyLen: w[9]!,
        maxAuthKeyLen: w[10]!,
        akcipherAlgo: w[11]!,
        maxSize,
      };
      assert.deepEqual(decodeConfig(encodeConfig(cfg)), cfg);
    }),
    RUNS,
  );
});
