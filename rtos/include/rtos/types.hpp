// Vocabulary types shared by every kernel API: status codes and timeouts.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rtos {

/// The MMU page size of both ports (4 KiB): guard pages, page tables.
constexpr std::size_t kPageSize = 4096;

/// Result of a kernel call. Blocking calls return ok, timeout or deleted.
enum class Status : int {
    ok = 0,
    timeout = -1,        ///< the timeout expired (or kNoWait and not available)
    deleted = -2,        ///< the object was deleted while the caller waited
    invalid = -3,        ///< bad argument or call from the wrong context
    no_memory = -4,      ///< allocation failed
    not_owner = -5,      ///< mutex released by a thread that does not own it
    overflow = -6,       ///< counter or queue full
    io_error = -7,       ///< device reported an error
    unsupported = -8,    ///< operation not supported by this object/device
    busy = -9,           ///< resource in use
    out_of_range = -10,  ///< request outside the object's bounds
    // File systems (components/fs).
    not_found = -11,      ///< no such file or directory
    exists = -12,         ///< the name is taken
    not_directory = -13,  ///< a path component is not a directory
    is_directory = -14,   ///< a directory where a file is needed
    no_space = -15,       ///< no free cluster (or directory slot) left
    read_only = -16,      ///< the volume or file is read-only
    not_empty = -17,      ///< a directory that still has entries
    name_too_long = -18,  ///< a path or name over the limits
    corrupt = -19,        ///< on-disk structures are damaged
    too_many = -20        ///< no free slot (open files, mounts)
};

/// The status in words ("timeout", "I/O error"), for messages (rtos/lib/status.cpp).
const char* status_name(Status s);

using Tick = uint64_t;

/// How long a blocking call may wait: Timeout::none(), Timeout::forever()
/// or a number of ticks.
class Timeout {
public:
    static constexpr Timeout none() { return Timeout(0); }
    static constexpr Timeout forever() { return Timeout(kForever); }
    static constexpr Timeout ticks(Tick n) { return Timeout(n); }

    constexpr bool is_none() const { return ticks_ == 0; }
    constexpr bool is_forever() const { return ticks_ == kForever; }
    constexpr Tick count() const { return ticks_; }

private:
    static constexpr Tick kForever = ~Tick{0};
    constexpr explicit Timeout(Tick t) : ticks_(t) {}
    Tick ticks_;
};

}  // namespace rtos
