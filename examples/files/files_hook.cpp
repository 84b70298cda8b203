// Runs the C boot-log demo (files_log.c) once the volumes are mounted
// (automount runs at the service level, this at app).
#include <rtos/init.hpp>

extern "C" void files_log_run(void);

namespace {
void files_log_start() { files_log_run(); }
}  // namespace

RTOS_INIT(files_log_start, app);
