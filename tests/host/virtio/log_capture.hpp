// Captures printk (stderr in the simulated kernel) for driver tests that
// check what a driver logs (tests/host/virtio_console, virtio_input).
#pragma once

#include <string>

namespace host_log {

/// Captures stderr from construction to the first text() call, which ends
/// the capture and replays what it caught on stderr (so failed checks in
/// between still show).
class LogCapture {
public:
    LogCapture();
    ~LogCapture() { text(); }
    LogCapture(const LogCapture&) = delete;
    LogCapture& operator=(const LogCapture&) = delete;
    std::string text();
    bool contains(const std::string& s) { return text().find(s) != std::string::npos; }

private:
    int saved_ = -1;
    int fd_ = -1;
    std::string text_;
};

}  // namespace host_log
