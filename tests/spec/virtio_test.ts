import assert from "node:assert/strict";
import {
  featureMask,
  hasFeature,
  SPLIT_QUEUE_FEATURES,
  VIRTIO_F_ACCESS_PLATFORM,
  VIRTIO_F_ANY_LAYOUT,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_EVENT_IDX_MASK,
  VIRTIO_F_IN_ORDER,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_INDIRECT_DESC_MASK,
  VIRTIO_F_NOTIFICATION_DATA,
  VIRTIO_F_NOTIFY_ON_EMPTY,
  VIRTIO_F_ORDER_PLATFORM,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_VERSION_1,
  VIRTIO_F_VERSION_1_MASK,
  VIRTIO_RING_F_EVENT_IDX,
} from "../../src/virtio/mod.ts";

Deno.test("transport feature bit numbers match the spec (VIRTIO v1.2, 6)", () => {
  assert.deepEqual(
    [
      VIRTIO_F_NOTIFY_ON_EMPTY,
      VIRTIO_F_ANY_LAYOUT,
      VIRTIO_F_INDIRECT_DESC,
      VIRTIO_F_EVENT_IDX,
      VIRTIO_F_VERSION_1,
      VIRTIO_F_ACCESS_PLATFORM,
      VIRTIO_F_RING_PACKED,
      VIRTIO_F_IN_ORDER,
      VIRTIO_F_ORDER_PLATFORM,
      VIRTIO_F_NOTIFICATION_DATA,
    ],
    [24, 27, 28, 29, 32, 33, 34, 35, 36, 38],
  );
  assert.equal(VIRTIO_RING_F_EVENT_IDX, VIRTIO_F_EVENT_IDX);
});

Deno.test("featureMask() and the *_MASK constants agree, above bit 31 too", () => {
  assert.equal(featureMask(VIRTIO_F_VERSION_1), 0x1_0000_0000n);
  assert.equal(featureMask(VIRTIO_F_EVENT_IDX), VIRTIO_F_EVENT_IDX_MASK);
  assert.throws(() => featureMask(64), RangeError);
  assert.throws(() => featureMask(-1), RangeError);
});

Deno.test("hasFeature() tests one bit of a 64-bit feature word", () => {
  const features = VIRTIO_F_VERSION_1_MASK | VIRTIO_F_INDIRECT_DESC_MASK | (1n << 63n);
  assert.ok(hasFeature(features, VIRTIO_F_VERSION_1));
  assert.ok(hasFeature(features, 63));
  assert.ok(!hasFeature(features, VIRTIO_F_EVENT_IDX));
  assert.ok(!hasFeature(SPLIT_QUEUE_FEATURES, VIRTIO_F_IN_ORDER), "never offered (style.md rule 13)");
  assert.ok(hasFeature(SPLIT_QUEUE_FEATURES, VIRTIO_F_EVENT_IDX));
});
