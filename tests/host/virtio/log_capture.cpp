// stderr capture of log_capture.hpp.
#include "log_capture.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace host_log {

LogCapture::LogCapture() {
    std::fflush(stderr);
    char path[] = "/tmp/driver-log-XXXXXX";
    fd_ = mkstemp(path);
    unlink(path);
    saved_ = dup(2);
    dup2(fd_, 2);
}

std::string LogCapture::text() {
    if (fd_ < 0) return text_;
    std::fflush(stderr);
    char buf[4096];
    for (off_t off = 0;;) {
        const ssize_t n = pread(fd_, buf, sizeof(buf), off);
        if (n <= 0) break;
        text_.append(buf, static_cast<std::size_t>(n));
        off += n;
    }
    dup2(saved_, 2);
    close(saved_);
    close(fd_);
    fd_ = -1;
    std::fwrite(text_.data(), 1, text_.size(), stderr);
    return text_;
}

}  // namespace host_log
