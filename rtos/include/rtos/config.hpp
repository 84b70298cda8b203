// The build's Kconfig values (CONFIG_* macros). Include this where a CONFIG_ value is
// used: the build then rebuilds exactly the files that depend on it.
// The target build passes them as -D options (<build>/include/generated/autoconf.rsp):
// including <build>/include/generated/autoconf.h would name the build folder in
// every file's preprocessed text, and ccache could not share objects between
// folders. Host tests pin theirs in tests/host/include/generated/autoconf.h.
#pragma once

#ifndef RTOS_CONFIG_ON_COMMAND_LINE
#include <generated/autoconf.h>
#endif
