/*
 * Prints the sizes and offsets of the VFIO, iommufd, getdents64 and virtio-pci structs and the ioctl numbers that
 * ffi/structs.ts and ffi/constants.ts hard-code; tests/vfio/structs_test.ts compares against this output.
 * Build and run: gcc -Wall -o /tmp/vfio_layout tests/_fixtures/vfio_layout.c && /tmp/vfio_layout
 * (Debian 12 linux-libc-dev 6.1.187; the cdev and iommufd structs are upstream's, copied below, since 6.1 lacks them).
 */
#include <stdio.h>
#include <stddef.h>
#include <linux/types.h>
#include <linux/vfio.h>
#include <linux/virtio_pci.h>
/* Upstream definitions missing from the 6.1 headers, copied from torvalds/linux include/uapi/linux/{vfio,iommufd}.h */
struct up_vfio_device_info { __u32 argsz, flags, num_regions, num_irqs, cap_offset, pad; };
struct vfio_device_bind_iommufd { __u32 argsz; __u32 flags; __s32 iommufd; __u32 out_devid; __aligned_u64 token_uuid_ptr; };
struct vfio_device_attach_iommufd_pt { __u32 argsz; __u32 flags; __u32 pt_id; __u32 pasid; };
struct vfio_device_detach_iommufd_pt { __u32 argsz; __u32 flags; __u32 pasid; };
struct iommu_destroy { __u32 size; __u32 id; };
struct iommu_ioas_alloc { __u32 size; __u32 flags; __u32 out_ioas_id; };
struct iommu_iova_range { __aligned_u64 start; __aligned_u64 last; };
struct iommu_ioas_iova_ranges { __u32 size; __u32 ioas_id; __u32 num_iovas; __u32 __reserved; __aligned_u64 allowed_iovas; __aligned_u64 out_iova_alignment; };
struct iommu_ioas_map { __u32 size; __u32 flags; __u32 ioas_id; __u32 __reserved; __aligned_u64 user_va; __aligned_u64 length; __aligned_u64 iova; };
struct iommu_ioas_unmap { __u32 size; __u32 ioas_id; __aligned_u64 iova; __aligned_u64 length; };
#define IOMMUFD_TYPE (';')
struct linux_dirent64 { __u64 d_ino; __s64 d_off; unsigned short d_reclen; unsigned char d_type; char d_name[]; };
#define S(t) printf("%-40s size %zu\n", #t, sizeof(struct t))
#define O(t,f) printf("  %-38s @%zu\n", #f, offsetof(struct t, f))
#define I(n) printf("%-40s 0x%lX\n", #n, (unsigned long)(n))
int main(void) {
  S(vfio_group_status); O(vfio_group_status,argsz); O(vfio_group_status,flags);
  S(vfio_device_info); O(vfio_device_info,flags); O(vfio_device_info,num_regions); O(vfio_device_info,num_irqs); O(vfio_device_info,cap_offset);
  S(up_vfio_device_info); O(up_vfio_device_info,pad);
  S(vfio_region_info); O(vfio_region_info,flags);O(vfio_region_info,index);O(vfio_region_info,cap_offset);O(vfio_region_info,size);O(vfio_region_info,offset);
  S(vfio_info_cap_header); O(vfio_info_cap_header,id);O(vfio_info_cap_header,version);O(vfio_info_cap_header,next);
  S(vfio_region_info_cap_sparse_mmap); O(vfio_region_info_cap_sparse_mmap,nr_areas); O(vfio_region_info_cap_sparse_mmap,areas);
  S(vfio_region_sparse_mmap_area); O(vfio_region_sparse_mmap_area,offset); O(vfio_region_sparse_mmap_area,size);
  S(vfio_region_info_cap_type); O(vfio_region_info_cap_type,type); O(vfio_region_info_cap_type,subtype);
  S(vfio_irq_info); O(vfio_irq_info,index); O(vfio_irq_info,count);
  S(vfio_irq_set); O(vfio_irq_set,index); O(vfio_irq_set,start); O(vfio_irq_set,count); O(vfio_irq_set,data);
  S(vfio_iommu_type1_info); O(vfio_iommu_type1_info,iova_pgsizes); O(vfio_iommu_type1_info,cap_offset);
  S(vfio_iommu_type1_info_cap_iova_range); O(vfio_iommu_type1_info_cap_iova_range,nr_iovas); O(vfio_iommu_type1_info_cap_iova_range,iova_ranges);
  S(vfio_iova_range); O(vfio_iova_range,start); O(vfio_iova_range,end);
  S(vfio_iommu_type1_dma_map); O(vfio_iommu_type1_dma_map,vaddr); O(vfio_iommu_type1_dma_map,iova); O(vfio_iommu_type1_dma_map,size);
  S(vfio_iommu_type1_dma_unmap); O(vfio_iommu_type1_dma_unmap,iova); O(vfio_iommu_type1_dma_unmap,size);
  S(vfio_device_bind_iommufd); O(vfio_device_bind_iommufd,iommufd); O(vfio_device_bind_iommufd,out_devid); O(vfio_device_bind_iommufd,token_uuid_ptr);
  S(vfio_device_attach_iommufd_pt); O(vfio_device_attach_iommufd_pt,pt_id); O(vfio_device_attach_iommufd_pt,pasid);
  S(vfio_device_detach_iommufd_pt); O(vfio_device_detach_iommufd_pt,pasid);
  S(iommu_destroy); O(iommu_destroy,id);
  S(iommu_ioas_alloc); O(iommu_ioas_alloc,out_ioas_id);
  S(iommu_iova_range); O(iommu_iova_range,last);
  S(iommu_ioas_iova_ranges); O(iommu_ioas_iova_ranges,ioas_id); O(iommu_ioas_iova_ranges,num_iovas); O(iommu_ioas_iova_ranges,allowed_iovas); O(iommu_ioas_iova_ranges,out_iova_alignment);
  S(iommu_ioas_map); O(iommu_ioas_map,flags); O(iommu_ioas_map,ioas_id); O(iommu_ioas_map,user_va); O(iommu_ioas_map,length); O(iommu_ioas_map,iova);
  S(iommu_ioas_unmap); O(iommu_ioas_unmap,ioas_id); O(iommu_ioas_unmap,iova); O(iommu_ioas_unmap,length);
  S(linux_dirent64); O(linux_dirent64,d_reclen); O(linux_dirent64,d_type); O(linux_dirent64,d_name);
  S(virtio_pci_cap); O(virtio_pci_cap,cfg_type); O(virtio_pci_cap,bar); O(virtio_pci_cap,id); O(virtio_pci_cap,offset); O(virtio_pci_cap,length);
  S(virtio_pci_notify_cap); O(virtio_pci_notify_cap,notify_off_multiplier);
  S(virtio_pci_common_cfg); O(virtio_pci_common_cfg,device_feature_select); O(virtio_pci_common_cfg,device_feature);O(virtio_pci_common_cfg,guest_feature_select);O(virtio_pci_common_cfg,guest_feature);O(virtio_pci_common_cfg,msix_config);O(virtio_pci_common_cfg,num_queues);O(virtio_pci_common_cfg,device_status);O(virtio_pci_common_cfg,config_generation);O(virtio_pci_common_cfg,queue_select);O(virtio_pci_common_cfg,queue_size);O(virtio_pci_common_cfg,queue_msix_vector);O(virtio_pci_common_cfg,queue_enable);O(virtio_pci_common_cfg,queue_notify_off);O(virtio_pci_common_cfg,queue_desc_lo);O(virtio_pci_common_cfg,queue_desc_hi);O(virtio_pci_common_cfg,queue_avail_lo);O(virtio_pci_common_cfg,queue_used_lo);O(virtio_pci_common_cfg,queue_used_hi);
  I(VFIO_GET_API_VERSION); I(VFIO_CHECK_EXTENSION); I(VFIO_SET_IOMMU); I(VFIO_GROUP_GET_STATUS); I(VFIO_GROUP_SET_CONTAINER); I(VFIO_GROUP_UNSET_CONTAINER); I(VFIO_GROUP_GET_DEVICE_FD);
  I(VFIO_DEVICE_GET_INFO); I(VFIO_DEVICE_GET_REGION_INFO); I(VFIO_DEVICE_GET_IRQ_INFO); I(VFIO_DEVICE_SET_IRQS); I(VFIO_DEVICE_RESET);
  I(VFIO_IOMMU_GET_INFO); I(VFIO_IOMMU_MAP_DMA); I(VFIO_IOMMU_UNMAP_DMA); I(VFIO_DEVICE_GET_PCI_HOT_RESET_INFO); I(VFIO_DEVICE_PCI_HOT_RESET); I(VFIO_DEVICE_FEATURE);
  I(_IO(VFIO_TYPE, VFIO_BASE + 18)); I(_IO(VFIO_TYPE, VFIO_BASE + 19)); I(_IO(VFIO_TYPE, VFIO_BASE + 20));
  I(_IO(IOMMUFD_TYPE, 0x80)); I(_IO(IOMMUFD_TYPE, 0x81)); I(_IO(IOMMUFD_TYPE, 0x84)); I(_IO(IOMMUFD_TYPE, 0x85)); I(_IO(IOMMUFD_TYPE, 0x86));
  I(VFIO_TYPE1v2_IOMMU); I(VFIO_NOIOMMU_IOMMU); I(VFIO_IRQ_SET_DATA_EVENTFD|VFIO_IRQ_SET_ACTION_TRIGGER); I(VFIO_REGION_INFO_CAP_MSIX_MAPPABLE); I(VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
  I(VFIO_PCI_CONFIG_REGION_INDEX); I(VFIO_PCI_MSIX_IRQ_INDEX); I(VFIO_PCI_NUM_REGIONS); I(VFIO_PCI_NUM_IRQS);
  return 0; }
