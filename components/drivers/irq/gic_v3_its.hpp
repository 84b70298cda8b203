// GICv3 ITS and LPIs (IHI 0069 chapters 5 and 6): what gic_v3.cpp asks of
// gic_v3_its.cpp. LPIs are the MSI interrupts of the platform: the kernel
// numbers LPI INTID kLpiBase + k as controller interrupt lines + k, after
// the distributor's lines.
//
// Bring-up is in two steps because the GIC is probed before the kernel heap
// exists: probe() (board bring-up) finds the ITS and fixes how many LPIs
// there are, so the controller's count() is final when the kernel reads it;
// the tables are allocated and the ITS enabled by a start-up hook at the
// `platform` level (before drivers probe), which then registers the ITS as
// the MSI controller (irq::set_msi_controller).
#pragma once

#include <rtos/config.hpp>

#include <cstdint>

#include "platform/device.hpp"

namespace rtos::drivers::gic::its {

constexpr unsigned kLpiBase = 8192;  // the first LPI INTID

#if defined(CONFIG_GIC_V3_ITS)

/// Finds the ITS below the GIC node `gic` ("arm,gic-v3-its") and checks that
/// the redistributor `rd` of this CPU takes LPIs. Returns the number of LPIs
/// the controller numbers after its `lines` (0, logged: none).
unsigned probe(const platform::Device& gic, uintptr_t rd, unsigned lines, bool two_states);

/// LPI kLpiBase + k on or off (its configuration byte, then INV and SYNC
/// through the ITS). Callable with interrupts masked and from handlers.
void set_enabled(unsigned k, bool on);

/// LPI kLpiBase + k to CPU `cpu` from now on (MOVI to its collection).
/// False when that CPU has no collection or the LPI is not allocated.
bool route(unsigned k, unsigned cpu);

/// CPU `cpu` (not the boot CPU) started with its redistributor at `rd`:
/// the ITS's start-up gives it LPI tables and a collection. CPUs that start
/// after that take no LPIs.
void add_cpu(unsigned cpu, uintptr_t rd);

#else

inline unsigned probe(const platform::Device&, uintptr_t, unsigned, bool) { return 0; }
inline void set_enabled(unsigned, bool) {}
inline bool route(unsigned, unsigned) { return false; }
inline void add_cpu(unsigned, uintptr_t) {}

#endif

}  // namespace rtos::drivers::gic::its
