// Host test configuration: legacy devices only; EVENT_IDX on, INDIRECT_DESC off.
#define CONFIG_VIRTIO 1
#define CONFIG_VIRTIO_MMIO 1
#define CONFIG_VIRTIO_LEGACY 1
#define CONFIG_VIRTIO_EVENT_IDX 1
#define CONFIG_VIRTIO_BLK 1
#define CONFIG_VIRTIO_BLK_QUEUE_SIZE 64
