/**
 * The engine conformance suite (`tests/engine/_conformance.ts`: NIST SP 800-38A for AES-CBC/CTR, SP 800-38D and
 * the GCM specification's test cases, FIPS 180-4 for SHA-256, RFC 4231 for HMAC-SHA-256, and the engine contract)
 * and the chaining suite on `QatEngine` driving the model of a gen4 VF (`tests/_fixtures/fake_qat_vf.ts`): every
 * request the driver builds goes through the TX ring, is read back by the model's own reading of the layout and
 * run with OpenSSL, and the answer comes back through the RX ring. The driver has not run on hardware.
 *
 * @module
 */

import { conformanceSuite } from "../../engine/_conformance.ts";
import { chainSuite } from "../../engine/_conformance_chain.ts";
import { SyncQat } from "./_sync_qat.ts";

const make = () => new SyncQat();
conformanceSuite(make, "QatEngine (gen4 VF model)");
const probe = make();
chainSuite(make, "QatEngine (gen4 VF model)", probe.capabilities());
probe.close();
