/**
 * The VFIO, iommufd, getdents64 and virtio-pci layouts and ioctl numbers in `ffi/` against the kernel's: the output
 * of `tests/_fixtures/vfio_layout.c` (built with gcc against the 6.1 UAPI headers; upstream definitions copied in for
 * the cdev and iommufd structs) is recorded in `tests/_fixtures/vfio_layout.txt`. When gcc is present, the program is
 * rebuilt and its output must still equal the recording.
 *
 * @module
 */

import assert from "node:assert/strict";
import * as C from "../../ffi/constants.ts";
import * as S from "../../ffi/vfio_structs.ts";
import { LinuxDirent64 } from "../../ffi/structs.ts";
import { CommonCfg } from "../../src/accel/virtio_pci/mod.ts";

const FIXTURE = new URL("../_fixtures/vfio_layout.txt", import.meta.url);
const SOURCE = new URL("../_fixtures/vfio_layout.c", import.meta.url);

interface Layout {
  readonly sizes: Map<string, number>;
  readonly offsets: Map<string, number>;
  readonly values: Map<string, number>;
}

function parseLayout(text: string): Layout {
  const sizes = new Map<string, number>();
  const offsets = new Map<string, number>();
  const values = new Map<string, number>();
  let struct = "";
  for (const line of text.split("\n")) {
    let m: RegExpMatchArray | null;
    if ((m = line.match(/^(\S+)\s+size (\d+)$/)) !== null) sizes.set(struct = m[1]!, Number(m[2]));
    else if ((m = line.match(/^\s+(\S+)\s+@(\d+)$/)) !== null) offsets.set(`${struct}.${m[1]}`, Number(m[2]));
    else if ((m = line.match(/^(.+?)\s+0x([0-9A-F]+)$/)) !== null) {
      values.set(m[1]!, Number.parseInt(m[2]!, 16));
    }
  }
  return { sizes, offsets, values };
}

const layout = parseLayout(Deno.readTextFileSync(FIXTURE));
const size = (s: string): number => layout.sizes.get(s) ?? NaN;
const at = (s: string, f: string): number => layout.offsets.get(`${s}.${f}`) ?? NaN;

Deno.test("VFIO ioctl numbers equal the kernel's _IO(';', 100 + k)", () => {
  const names = [
    "VFIO_GET_API_VERSION",
    "VFIO_CHECK_EXTENSION",
    "VFIO_SET_IOMMU",
    "VFIO_GROUP_GET_STATUS",
    "VFIO_GROUP_SET_CONTAINER",
    "VFIO_GROUP_UNSET_CONTAINER",
    "VFIO_GROUP_GET_DEVICE_FD",
    "VFIO_DEVICE_GET_INFO",
    "VFIO_DEVICE_GET_REGION_INFO",
    "VFIO_DEVICE_GET_IRQ_INFO",
    "VFIO_DEVICE_SET_IRQS",
    "VFIO_DEVICE_RESET",
    "VFIO_IOMMU_GET_INFO",
    "VFIO_IOMMU_MAP_DMA",
    "VFIO_IOMMU_UNMAP_DMA",
  ] as const;
  for (const name of names) assert.equal(C[name], layout.values.get(name), name);
  assert.equal(C.VFIO_DEVICE_BIND_IOMMUFD, layout.values.get("_IO(VFIO_TYPE, VFIO_BASE + 18)"));
  assert.equal(C.VFIO_DEVICE_ATTACH_IOMMUFD_PT, layout.values.get("_IO(VFIO_TYPE, VFIO_BASE + 19)"));
  assert.equal(C.VFIO_DEVICE_DETACH_IOMMUFD_PT, layout.values.get("_IO(VFIO_TYPE, VFIO_BASE + 20)"));
  // The collisions vfio-ffi.md §0 warns about: same number, different fd kind.
  assert.equal(C.VFIO_IOMMU_GET_INFO, layout.values.get("VFIO_DEVICE_GET_PCI_HOT_RESET_INFO"));
  assert.equal(C.VFIO_IOMMU_MAP_DMA, layout.values.get("VFIO_DEVICE_PCI_HOT_RESET"));
});

Deno.test("iommufd ioctl numbers equal _IO(';', 0x80 + k)", () => {
  assert.equal(C.IOMMU_DESTROY, layout.values.get("_IO(IOMMUFD_TYPE, 0x80)"));
  assert.equal(C.IOMMU_IOAS_ALLOC, layout.values.get("_IO(IOMMUFD_TYPE, 0x81)"));
  assert.equal(C.IOMMU_IOAS_IOVA_RANGES, layout.values.get("_IO(IOMMUFD_TYPE, 0x84)"));
  assert.equal(C.IOMMU_IOAS_MAP, layout.values.get("_IO(IOMMUFD_TYPE, 0x85)"));
  assert.equal(C.IOMMU_IOAS_UNMAP, layout.values.get("_IO(IOMMUFD_TYPE, 0x86)"));
});

Deno.test("VFIO constants equal the kernel's", () => {
  assert.equal(C.VFIO_TYPE1v2_IOMMU, layout.values.get("VFIO_TYPE1v2_IOMMU"));
  assert.equal(C.VFIO_NOIOMMU_IOMMU, layout.values.get("VFIO_NOIOMMU_IOMMU"));
  assert.equal(
    C.VFIO_IRQ_SET_DATA_EVENTFD | C.VFIO_IRQ_SET_ACTION_TRIGGER,
    layout.values.get("VFIO_IRQ_SET_DATA_EVENTFD|VFIO_IRQ_SET_ACTION_TRIGGER"),
  );
  assert.equal(C.VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, layout.values.get("VFIO_REGION_INFO_CAP_MSIX_MAPPABLE"));
  assert.equal(
    C.VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
    layout.values.get("VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE"),
  );
  assert.equal(C.VFIO_PCI_CONFIG_REGION_INDEX, layout.values.get("VFIO_PCI_CONFIG_REGION_INDEX"));
  assert.equal(C.VFIO_PCI_MSIX_IRQ_INDEX, layout.values.get("VFIO_PCI_MSIX_IRQ_INDEX"));
});

Deno.test("VFIO struct sizes and offsets equal the kernel's", () => {
  assert.equal(S.VfioGroupStatus.SIZE, size("vfio_group_status"));
  assert.equal(S.VFIO_FLAGS, at("vfio_group_status", "flags"));
  assert.equal(S.VfioDeviceInfo.SIZE, size("up_vfio_device_info"), "upstream size (24; 6.1 headers say 20)");
  assert.equal(size("vfio_device_info"), 20);
  assert.equal(S.VfioDeviceInfo.NUM_REGIONS, at("vfio_device_info", "num_regions"));
  assert.equal(S.VfioDeviceInfo.NUM_IRQS, at("vfio_device_info", "num_irqs"));
  assert.equal(S.VfioDeviceInfo.CAP_OFFSET, at("vfio_device_info", "cap_offset"));
  assert.deepEqual(
    [
      S.VfioRegionInfo.SIZE,
      S.VfioRegionInfo.INDEX,
      S.VfioRegionInfo.CAP_OFFSET,
      S.VfioRegionInfo.REGION_SIZE,
      S.VfioRegionInfo.OFFSET,
    ],
    [
      size("vfio_region_info"),
      ...["index", "cap_offset", "size", "offset"].map((f) => at("vfio_region_info", f)),
    ],
  );
  assert.deepEqual(
    [S.VfioInfoCapHeader.SIZE, S.VfioInfoCapHeader.ID, S.VfioInfoCapHeader.VERSION, S.VfioInfoCapHeader.NEXT],
    [size("vfio_info_cap_header"), ...["id", "version", "next"].map((f) => at("vfio_info_cap_header", f))],
  );
  assert.deepEqual(
    [
      S.VfioSparseMmap.NR_AREAS,
      S.VfioSparseMmap.AREAS,
      S.VfioSparseMmap.AREA_SIZE,
      S.VfioSparseMmap.AREA_LENGTH,
    ],
    [
      at("vfio_region_info_cap_sparse_mmap", "nr_areas"),
      at("vfio_region_info_cap_sparse_mmap", "areas"),
      size("vfio_region_sparse_mmap_area"),
      at("vfio_region_sparse_mmap_area", "size"),
    ],
  );
  assert.deepEqual([S.VfioRegionCapType.TYPE, S.VfioRegionCapType.SUBTYPE], [
    at("vfio_region_info_cap_type", "type"),
    at("vfio_region_info_cap_type", "subtype"),
  ]);
  assert.deepEqual(
    [S.VfioIrqInfo.SIZE, S.VfioIrqInfo.INDEX, S.VfioIrqInfo.COUNT],
    [size("vfio_irq_info"), at("vfio_irq_info", "index"), at("vfio_irq_info", "count")],
  );
  assert.deepEqual(
    [S.VfioIrqSet.SIZE, S.VfioIrqSet.INDEX, S.VfioIrqSet.START, S.VfioIrqSet.COUNT, S.VfioIrqSet.DATA],
    [size("vfio_irq_set"), ...["index", "start", "count", "data"].map((f) => at("vfio_irq_set", f))],
  );
});

Deno.test("type1 IOMMU and DMA struct sizes and offsets equal the kernel's", () => {
  assert.deepEqual(
    [S.VfioIommuType1Info.SIZE, S.VfioIommuType1Info.IOVA_PGSIZES, S.VfioIommuType1Info.CAP_OFFSET],
    [
      size("vfio_iommu_type1_info"),
      at("vfio_iommu_type1_info", "iova_pgsizes"),
      at("vfio_iommu_type1_info", "cap_offset"),
    ],
  );
  assert.deepEqual(
    [S.VfioIommuType1Info.NR_IOVAS, S.VfioIommuType1Info.IOVA_RANGES, S.VfioIommuType1Info.RANGE_SIZE],
    [
      at("vfio_iommu_type1_info_cap_iova_range", "nr_iovas"),
      at("vfio_iommu_type1_info_cap_iova_range", "iova_ranges"),
      size("vfio_iova_range"),
    ],
  );
  assert.deepEqual(
    [S.VfioDmaMap.SIZE, S.VfioDmaMap.VADDR, S.VfioDmaMap.IOVA, S.VfioDmaMap.MAP_SIZE],
    [
      size("vfio_iommu_type1_dma_map"),
      ...["vaddr", "iova", "size"].map((f) => at("vfio_iommu_type1_dma_map", f)),
    ],
  );
  assert.deepEqual(
    [S.VfioDmaUnmap.SIZE, S.VfioDmaUnmap.IOVA, S.VfioDmaUnmap.UNMAP_SIZE],
    [
      size("vfio_iommu_type1_dma_unmap"),
      at("vfio_iommu_type1_dma_unmap", "iova"),
      at("vfio_iommu_type1_dma_unmap", "size"),
    ],
  );
});

Deno.test("cdev and iommufd struct sizes and offsets equal upstream's", () => {
  assert.deepEqual(
    [
      S.VfioBindIommufd.SIZE,
      S.VfioBindIommufd.IOMMUFD,
      S.VfioBindIommufd.OUT_DEVID,
      S.VfioBindIommufd.MIN_SIZE,
    ],
    [
      size("vfio_device_bind_iommufd"),
      at("vfio_device_bind_iommufd", "iommufd"),
      at("vfio_device_bind_iommufd", "out_devid"),
      at("vfio_device_bind_iommufd", "token_uuid_ptr"),
    ],
  );
  assert.deepEqual([S.VfioAttachIommufdPt.SIZE, S.VfioAttachIommufdPt.PT_ID], [
    size("vfio_device_attach_iommufd_pt"),
    at("vfio_device_attach_iommufd_pt", "pt_id"),
  ]);
  assert.deepEqual([S.IommuDestroy.SIZE, S.IommuDestroy.ID], [
    size("iommu_destroy"),
    at("iommu_destroy", "id"),
  ]);
  assert.deepEqual([S.IommuIoasAlloc.SIZE, S.IommuIoasAlloc.OUT_IOAS_ID], [
    size("iommu_ioas_alloc"),
    at("iommu_ioas_alloc", "out_ioas_id"),
  ]);
  const r = S.IommuIoasIovaRanges;
  assert.deepEqual(
    [r.SIZE, r.IOAS_ID, r.NUM_IOVAS, r.ALLOWED_IOVAS, r.OUT_IOVA_ALIGNMENT, r.RANGE_SIZE],
    [
      size("iommu_ioas_iova_ranges"),
      ...["ioas_id", "num_iovas", "allowed_iovas", "out_iova_alignment"].map((f) =>
        at("iommu_ioas_iova_ranges", f)
      ),
      size("iommu_iova_range"),
    ],
  );
  const m = S.IommuIoasMap;
  assert.deepEqual(
    [m.SIZE, m.FLAGS, m.IOAS_ID, m.USER_VA, m.LENGTH, m.IOVA],
    [
      size("iommu_ioas_map"),
      ...["flags", "ioas_id", "user_va", "length", "iova"].map((f) => at("iommu_ioas_map", f)),
    ],
  );
  const u = S.IommuIoasUnmap;
  assert.deepEqual(
    [u.SIZE, u.IOAS_ID, u.IOVA, u.LENGTH],
    [size("iommu_ioas_unmap"), ...["ioas_id", "iova", "length"].map((f) => at("iommu_ioas_unmap", f))],
  );
});

Deno.test("linux_dirent64 and virtio_pci_common_cfg offsets equal the kernel's", () => {
  assert.deepEqual([LinuxDirent64.RECLEN, LinuxDirent64.TYPE, LinuxDirent64.NAME], [
    at("linux_dirent64", "d_reclen"),
    at("linux_dirent64", "d_type"),
    at("linux_dirent64", "d_name"),
  ]);
  const c = "virtio_pci_common_cfg";
  assert.equal(CommonCfg.SIZE, size(c));
  assert.deepEqual(
    [
      CommonCfg.DEVICE_FEATURE_SELECT,
      CommonCfg.DEVICE_FEATURE,
      CommonCfg.DRIVER_FEATURE_SELECT,
      CommonCfg.DRIVER_FEATURE,
      CommonCfg.MSIX_CONFIG,
      CommonCfg.NUM_QUEUES,
      CommonCfg.DEVICE_STATUS,
      CommonCfg.CONFIG_GENERATION,
      CommonCfg.QUEUE_SELECT,
      CommonCfg.QUEUE_SIZE,
      CommonCfg.QUEUE_MSIX_VECTOR,
      CommonCfg.QUEUE_ENABLE,
      CommonCfg.QUEUE_NOTIFY_OFF,
      CommonCfg.QUEUE_DESC,
      CommonCfg.QUEUE_DRIVER,
      CommonCfg.QUEUE_DEVICE,
    ],
    [
      "device_feature_select",
      "device_feature",
      "guest_feature_select",
      "guest_feature",
      "msix_config",
      "num_queues",
      "device_status",
      "config_generation",
      "queue_select",
      "queue_size",
      "queue_msix_vector",
      "queue_enable",
      "queue_notify_off",
      "queue_desc_lo",
      "queue_avail_lo",
      "queue_used_lo",
    ].map((f) => at(c, f)),
  );
});

function gccPath(): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (Deno.statSync(`${dir}/gcc`).isFile) return `${dir}/gcc`;
    } catch {
      // not there
    }
  }
  return undefined;
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

const gcc = gccPath();
// The recording is of the 6.1 headers (Debian 12); newer ones define the cdev and iommufd structs the program copies.
const headers61 = isFile("/usr/include/linux/vfio.h") && !isFile("/usr/include/linux/iommufd.h");

Deno.test({
  name: "tests/_fixtures/vfio_layout.txt is what vfio_layout.c prints today (rebuilt with gcc)",
  ignore: gcc === undefined || !headers61,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const built = await new Deno.Command(gcc!, { args: ["-Wall", "-o", `${dir}/layout`, SOURCE.pathname] })
        .output();
      assert.ok(built.success, new TextDecoder().decode(built.stderr));
      const out = await new Deno.Command(`${dir}/layout`).output();
      assert.equal(new TextDecoder().decode(out.stdout), Deno.readTextFileSync(FIXTURE));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
