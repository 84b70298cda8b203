// Driver tests on the simulated kernel: every scenario runs in its own
// process (sim::run_isolated), once per virtio-mmio version the build drives.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>

#include "driver_env.hpp"
#include "rig.hpp"
#include "sim.hpp"

namespace rig {

/// The layout (kLegacy, kModern, kPacked) of the scenario running in this
/// process, and its virtio-mmio version.
inline std::uint32_t scenario_layout = kModern;
inline std::uint32_t scenario_version = kModern;

/// Base of a driver test suite: run(scenario) runs it in its own process
/// with the suite's parameter as scenario_layout (and the devices offering
/// the packed ring in the packed layout). Instantiate with
/// INSTANTIATE_TEST_SUITE_P(Layouts, Suite, testing::ValuesIn(enabled_layouts()), version_name).
class VersionScenarios : public testing::TestWithParam<std::uint32_t> {
protected:
    int run(void (*scenario)()) {
        scenario_layout = GetParam();
        scenario_version = mmio_version(scenario_layout);
        driver_test::offer_packed_default = scenario_layout == kPacked;
        return sim::run_isolated(scenario);
    }
};

}  // namespace rig
