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
    }
    return "?";
}

}  // namespace rtos
