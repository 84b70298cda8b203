// Driver tests on the simulated kernel: every scenario runs in its own
// process (sim::run_isolated), once per virtio-mmio version the build drives.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>

#include "rig.hpp"
#include "sim.hpp"

namespace rig {

/// The virtio-mmio version of the scenario running in this process.
inline std::uint32_t scenario_version = kModern;

/// Base of a driver test suite: run(scenario) runs it in its own process
/// with the suite's parameter as scenario_version. Instantiate with
/// INSTANTIATE_TEST_SUITE_P(Layouts, Suite, testing::ValuesIn(enabled_versions()), version_name).
class VersionScenarios : public testing::TestWithParam<std::uint32_t> {
protected:
    int run(void (*scenario)()) {
        scenario_version = GetParam();
        return sim::run_isolated(scenario);
    }
};

}  // namespace rig
