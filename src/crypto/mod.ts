/**
 * The virtio-crypto layer: specification constants and the wire codecs for the configuration space, the control
 * queue, the data queue and QEMU's vhost-user session messages. Everything here is pure (no FFI, no permissions).
 *
 * @example Decode a Linux cbc(aes) data request and plan its variable-length parts
 * ```ts
 * import { DataRequest, DEFAULT_DATA_LIMITS, planDataVlf, readDataRequest, VlfPlan } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array(72); // what the guest put in its first out buffer
 * bytes[24] = 16; // iv_len
 * bytes[28] = 32; // src_data_len
 * bytes[32] = 32; // dst_data_len
 * bytes[64] = 1; // op_type CIPHER
 * const req = readDataRequest(bytes, "legacy", new DataRequest());
 * const plan = planDataVlf(req, DEFAULT_DATA_LIMITS, new VlfPlan());
 * assert.equal(plan.error, null);
 * assert.equal(plan.readTotal, 48);
 * assert.equal(plan.writeTotal, 32);
 * ```
 *
 * @module
 */

export * from "../spec/virtio_crypto.ts";
export * from "./wire.ts";
export * from "./config.ts";
export * from "./ctrl_session.ts";
export * from "./ctrl_codec.ts";
export * from "./data_request.ts";
export * from "./data_codec.ts";
export * from "./data_stateless.ts";
export * from "./data_vlf.ts";
export * from "./vhost_session.ts";
