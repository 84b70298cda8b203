/* Kconfig values for the host unit tests (the target build generates this
 * file from .config; host tests pin their own). */
#define CONFIG_RTOS_PRIORITY_LEVELS 32
#define CONFIG_RTOS_TICK_HZ 1000
#define CONFIG_RTOS_TIMESLICE_TICKS 10
