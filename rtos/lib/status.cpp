// The names of the kernel's status codes (rtos/types.hpp), for messages.
#include <rtos/types.hpp>

namespace rtos {

const char* status_name(Status s) {
    switch (s) {
    case Status::ok: return "ok";
    case Status::timeout: return "timeout";
    case Status::deleted: return "deleted";
    case Status::invalid: return "invalid argument";
    case Status::no_memory: return "out of memory";
    case Status::not_owner: return "not owner";
    case Status::overflow: return "overflow";
    case Status::io_error: return "I/O error";
    case Status::unsupported: return "unsupported";
    case Status::busy: return "busy";
    case Status::out_of_range: return "out of range";
    case Status::not_found: return "no such file";
    case Status::exists: return "file exists";
    case Status::not_directory: return "not a directory";
    case Status::is_directory: return "is a directory";
    case Status::no_space: return "no space left";
    case Status::read_only: return "read-only";
    case Status::not_empty: return "directory not empty";
    case Status::name_too_long: return "name too long";
    case Status::corrupt: return "file system damaged";
    case Status::too_many: return "too many open";
    }
    return "?";
}

}  // namespace rtos
