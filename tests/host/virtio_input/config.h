// Kconfig values of the virtio-input host tests, on top of a
// tests/host/virtio/config/<variant>.h: a small event queue and subscriber
// buffer, so recycling and overflow are reached with few events.
#define CONFIG_VIRTIO_INPUT 1
#define CONFIG_VIRTIO_INPUT_QUEUE_SIZE 8
#define CONFIG_INPUT 1
#define CONFIG_INPUT_EVENT_BUFFER 16
