/* Kconfig values for the host unit tests (the target build generates this
 * file from .config; host tests pin their own). */
#define CONFIG_RTOS_PRIORITY_LEVELS 32
#define CONFIG_RTOS_TICK_HZ 1000
#define CONFIG_RTOS_TIMESLICE_TICKS 10
#define CONFIG_RTOS_IDLE_STACK_SIZE 2048
#define CONFIG_RTOS_TIMER_STACK_SIZE 4096
#define CONFIG_RTOS_TIMER_THREAD_PRIORITY 2
#define CONFIG_RTOS_TICKLESS 1
#define CONFIG_PLATFORM_USE_DEVICE_TREE 1
