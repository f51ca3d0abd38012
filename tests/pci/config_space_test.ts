import assert from "node:assert/strict";
import {
  findMsix,
  parseCapabilities,
  parseHeader,
  parseVirtioCaps,
  PciError,
  virtioLayout,
} from "../../src/pci/mod.ts";
import { VIRTIO_CRYPTO_PCI_CONFIG } from "../_fixtures/virtio_crypto_config.ts";

Deno.test("parseHeader() decodes the recorded virtio-crypto-pci header", () => {
  const h = parseHeader(VIRTIO_CRYPTO_PCI_CONFIG);
  assert.equal(h.vendor, 0x1af4);
  assert.equal(h.device, 0x1054);
  assert.equal(h.classCode, 0x00ff00);
  assert.equal(h.revision, 1);
  assert.equal(h.subsystem, 0x1100);
  assert.equal(h.interruptPin, 1);
  assert.equal(h.bars[4]! & 0xf, 0xc, "BAR4: 64-bit prefetchable memory");
});

Deno.test("parseCapabilities() walks the recorded list: MSI-X then five vendor capabilities", () => {
  assert.deepEqual(parseCapabilities(VIRTIO_CRYPTO_PCI_CONFIG).map((c) => [c.offset, c.name]), [
    [0x98, "MSI-X"],
    [0x84, "Vendor Specific"],
    [0x70, "Vendor Specific"],
    [0x60, "Vendor Specific"],
    [0x50, "Vendor Specific"],
    [0x40, "Vendor Specific"],
  ]);
});

Deno.test("findMsix() decodes table size, BIR and offsets of the table and PBA", () => {
  assert.deepEqual(findMsix(VIRTIO_CRYPTO_PCI_CONFIG), {
    offset: 0x98,
    tableSize: 2,
    enabled: true,
    functionMasked: false,
    tableBar: 1,
    tableOffset: 0,
    pbaBar: 1,
    pbaOffset: 0x800,
  });
});

Deno.test("parseVirtioCaps() finds common, notify (multiplier 4), ISR, device and PCI-cfg in BAR4", () => {
  const caps = parseVirtioCaps(VIRTIO_CRYPTO_PCI_CONFIG);
  assert.deepEqual(caps.map((c) => [c.typeName, c.bar, c.offset, c.length, c.notifyOffMultiplier]), [
    ["pci-cfg", 0, 0, 0, undefined],
    ["notify", 4, 0x3000, 0x1000, 4],
    ["device", 4, 0x2000, 0x1000, undefined],
    ["isr", 4, 0x1000, 0x1000, undefined],
    ["common", 4, 0, 0x1000, undefined],
  ]);
  const layout = virtioLayout(caps);
  assert.equal(layout.common.offset, 0);
  assert.equal(layout.notify.notifyOffMultiplier, 4);
  assert.equal(layout.device?.offset, 0x2000);
});

Deno.test("parseCapabilities() refuses a looping list and a pointer outside config space", () => {
  const loop = VIRTIO_CRYPTO_PCI_CONFIG.slice();
  loop[0x41] = 0x98; // the last vendor capability points back to MSI-X
  assert.throws(
    () => parseCapabilities(loop),
    (e: unknown) => e instanceof PciError && /loops/.test(e.message),
  );
  const outside = VIRTIO_CRYPTO_PCI_CONFIG.slice();
  outside[0x34] = 0x20; // inside the header
  assert.throws(
    () => parseCapabilities(outside),
    (e: unknown) => e instanceof PciError && e.kind === "bad-config",
  );
});

Deno.test("parseVirtioCaps() refuses a notify capability shorter than 20 bytes; virtioLayout() needs common", () => {
  const short = VIRTIO_CRYPTO_PCI_CONFIG.slice();
  short[0x72] = 16; // cap_len of the notify capability
  assert.throws(() => parseVirtioCaps(short), /cap_len must be >= 20/);
  const caps = parseVirtioCaps(VIRTIO_CRYPTO_PCI_CONFIG).filter((c) => c.typeName !== "common");
  assert.throws(() => virtioLayout(caps), /No modern virtio-pci device/);
});

Deno.test("parseCapabilities() reads PCIe extended capabilities from 4 KiB of config space", () => {
  const config = new Uint8Array(4096);
  config.set(VIRTIO_CRYPTO_PCI_CONFIG);
  const v = new DataView(config.buffer);
  v.setUint32(0x100, 0x0001 | (1 << 16) | (0x140 << 20), true); // AER, next 0x140
  v.setUint32(0x140, 0x0003 | (1 << 16), true); // Device Serial Number, end
  const ext = parseCapabilities(config).filter((c) => c.extended);
  assert.deepEqual(ext.map((c) => [c.offset, c.name]), [
    [0x100, "Advanced Error Reporting"],
    [0x140, "Device Serial Number"],
  ]);
});
