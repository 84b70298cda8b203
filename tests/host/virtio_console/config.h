// Kconfig values of the virtio-console / virtio-rng host tests, on top of a
// tests/host/virtio/config/<variant>.h: small queues and buffers, so flow
// control and the port limit are reached with little data.
#define CONFIG_VIRTIO_CONSOLE 1
#define CONFIG_VIRTIO_CONSOLE_QUEUE_SIZE 16
#define CONFIG_VIRTIO_CONSOLE_MAX_PORTS 4
#define CONFIG_VIRTIO_CONSOLE_BUFFERS 4
#define CONFIG_VIRTIO_CONSOLE_BUFFER_SIZE 64
#define CONFIG_VIRTIO_RNG 1
#define CONFIG_VIRTIO_RNG_QUEUE_SIZE 4
