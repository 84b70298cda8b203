// Between the framework (framework.cpp), which records failures, and the
// runner (runner.cpp), which prints them.
#pragma once

#include <rtos/selftest.hpp>

namespace rtos::ktest {

struct Failure {
    const char* file;
    int line;
    char message[200];
};

/// The first failures of a test are kept; the rest are only counted.
constexpr unsigned kKeptFailures = 4;

void reset_failures();
unsigned failures();
const Failure& failure(unsigned i);
/// Non-null once a test asked to stop the run (see abort_suite()).
const char* aborted();
/// The check stop_requested() asks during the run (nullptr between runs).
void set_stop_check(selftest::StopFn stop);
/// Whether the run in progress measures time on the host's clock (`ktest -w`).
void set_host_clock(bool host);

}  // namespace rtos::ktest
