// On top of config.h: port 0 of the first device is the shell's input and
// mirrors the console (virtio_console_shell_test.cpp).
#define CONFIG_SHELL 1
#define CONFIG_SHELL_PRIORITY 5
#define CONFIG_VIRTIO_CONSOLE_SHELL 1
