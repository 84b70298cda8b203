// Host test configuration: legacy and modern, every ring feature on.
#define CONFIG_VIRTIO 1
#define CONFIG_VIRTIO_MMIO 1
#define CONFIG_VIRTIO_LEGACY 1
#define CONFIG_VIRTIO_MODERN 1
#define CONFIG_VIRTIO_EVENT_IDX 1
#define CONFIG_VIRTIO_INDIRECT_DESC 1
#define CONFIG_VIRTIO_BLK 1
#define CONFIG_VIRTIO_BLK_QUEUE_SIZE 64
#define CONFIG_PCI_MSIX 1
