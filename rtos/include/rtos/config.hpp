// The build's Kconfig values (CONFIG_* macros), generated from .config into
// <build>/include/generated/autoconf.h. Include this where a CONFIG_ value is
// used: the build then rebuilds exactly the files that depend on it.
#pragma once

#include <generated/autoconf.h>
