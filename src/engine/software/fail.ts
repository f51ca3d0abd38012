/**
 * The one way a failed OpenSSL call becomes a status: clear OpenSSL's per-thread error queue (it would otherwise
 * grow by an entry per failed request) and answer ERR.
 *
 * @module
 */

import { libcrypto as C } from "../../../ffi/libcrypto.ts";
import { Status } from "../../spec/virtio_crypto.ts";

/**
 * Clears OpenSSL's error queue after a failed call and answers ERR.
 *
 * @returns `Status.ERR`.
 */
export function fail(): number {
  C.ERR_clear_error();
  return Status.ERR;
}
