// Start-up hooks: a module registers a function without editing any central
// table; the main thread runs them in level order, then registration order
// of the link (files are linked in a fixed order, so it is deterministic).
#pragma once

namespace rtos {

enum class InitLevel : int { platform = 1, driver = 2, service = 3, app = 4, late = 5 };

struct InitEntry {
    const char* name;
    void (*fn)();
};

}  // namespace rtos

#define RTOS_INIT_CAT2(a, b) a##b
#define RTOS_INIT_CAT(a, b) RTOS_INIT_CAT2(a, b)
#define RTOS_INIT_STR2(x) #x
#define RTOS_INIT_STR(x) RTOS_INIT_STR2(x)

/// RTOS_INIT(fn, level): run fn() at start-up; level is driver, service, app or
/// late (after every app hook has returned: the shell starts there).
#define RTOS_INIT(fn, level)                                                        \
    [[gnu::used, gnu::section(".rtos_init." RTOS_INIT_STR(                          \
                     RTOS_INIT_LEVEL_##level))]] static constexpr ::rtos::InitEntry \
    RTOS_INIT_CAT(rtos_init_entry_, fn) {                                           \
#fn, fn                                                                     \
    }

#define RTOS_INIT_LEVEL_platform 1
#define RTOS_INIT_LEVEL_driver 2
#define RTOS_INIT_LEVEL_service 3
#define RTOS_INIT_LEVEL_app 4
#define RTOS_INIT_LEVEL_late 5
