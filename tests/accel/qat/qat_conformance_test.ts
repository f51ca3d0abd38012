/**
 * The engine conformance suite (`tests/engine/_conformance.ts`: NIST SP 800-38A for AES-CBC/CTR, SP 800-38D and
 * the GCM specification's test cases, FIPS 180-4 for SHA-256, RFC 4231 for HMAC-SHA-256, and the engine contract)
 * and the chaining suite through the whole path: the router, `QatEngine`, and the model of a gen4 VF
 * (`tests/_fixtures/fake_qat_vf.ts`). Every request the driver builds goes through the TX ring, is read back by
 * the model's own reading of the layout and run with OpenSSL, and the answer comes back through the RX ring; what
 * the driver declines (GCM with an IV other than 12 bytes, empty GCM messages, algorithms it does not claim) is
 * re-run in software by the router, as in the daemon. The driver has not run on hardware.
 *
 * @module
 */

import { RouterEngine } from "../../../src/engine/mod.ts";
import { SoftwareEngine } from "../../../src/engine/software/mod.ts";
import { conformanceSuite } from "../../engine/_conformance.ts";
import { chainSuite } from "../../engine/_conformance_chain.ts";
import { SyncQat } from "./_sync_qat.ts";

const make = () => new RouterEngine(new SyncQat(), new SoftwareEngine());
conformanceSuite(make, "Router over QatEngine (gen4 VF model)");
const probe = make();
chainSuite(make, "Router over QatEngine (gen4 VF model)", probe.capabilities());
probe.close();
