// The kernel's undefined-behaviour sanitizer runtime (CONFIG_RTOS_UBSAN):
// the __ubsan_handle_* entry points GCC's -fsanitize=undefined calls. Each
// prints what went wrong and where, then panics: a sanitized image treats
// undefined behaviour as a bug, never as something to run past. Compiled
// without instrumentation (rtos/SConscript). Layouts: GCC's ubsan.cc and
// compiler-rt's ubsan_handlers.h (the data blocks start with the source
// location).
#include <cstdint>

#include <rtos/format.hpp>
#include <rtos/panic.hpp>
#include <rtos/printk.hpp>

namespace {

using rtos::printk;

struct SourceLocation {
    const char* file;
    std::uint32_t line;
    std::uint32_t column;
};

struct TypeDescriptor {
    std::uint16_t kind;
    std::uint16_t info;
    char name[1];
};

struct TypeMismatchData {
    SourceLocation loc;
    const TypeDescriptor* type;
    std::uint8_t log_alignment;
    std::uint8_t type_check_kind;
};

struct InvalidBuiltinData {
    SourceLocation loc;
    std::uint8_t kind;
};

// What the access of a type mismatch was (compiler-rt's TypeCheckKind).
const char* const kCheckKinds[] = {"load of",
                                   "store to",
                                   "reference binding to",
                                   "member access within",
                                   "member call on",
                                   "constructor call on",
                                   "downcast of",
                                   "downcast of",
                                   "upcast of",
                                   "cast to virtual base of",
                                   "_Nonnull binding to",
                                   "dynamic operation on"};

[[noreturn]] void report(const SourceLocation* loc, const char* what, const char* detail = "") {
    const char* file = loc && loc->file ? loc->file : "<unknown>";
    const unsigned line = loc ? loc->line : 0, column = loc ? loc->column : 0;
    printk("ubsan: %s%s at %s:%u:%u\n", what, detail, file, line, column);
    rtos::panic("ubsan: %s at %s:%u:%u", what, file, line, column);
}

const char* type_name(const TypeDescriptor* t) { return t ? t->name : "?"; }

}  // namespace

// Every handler has a recoverable and an _abort variant (-fsanitize-recover
// or not); both end in a panic here.
#define UBSAN_HANDLER(name, params, body)                                     \
    extern "C" [[noreturn]] void __ubsan_handle_##name params body extern "C" \
        [[noreturn]] void __ubsan_handle_##name##_abort params body

UBSAN_HANDLER(add_overflow, (void* d, void*, void*),
              { report(static_cast<SourceLocation*>(d), "signed integer overflow in +"); })
UBSAN_HANDLER(sub_overflow, (void* d, void*, void*),
              { report(static_cast<SourceLocation*>(d), "signed integer overflow in -"); })
UBSAN_HANDLER(mul_overflow, (void* d, void*, void*),
              { report(static_cast<SourceLocation*>(d), "signed integer overflow in *"); })
UBSAN_HANDLER(negate_overflow, (void* d, void*),
              { report(static_cast<SourceLocation*>(d), "signed integer overflow in negation"); })
UBSAN_HANDLER(divrem_overflow, (void* d, void*, void*), {
    report(static_cast<SourceLocation*>(d), "division by zero or overflow in / or %");
})
UBSAN_HANDLER(shift_out_of_bounds, (void* d, void*, void*),
              { report(static_cast<SourceLocation*>(d), "shift out of bounds"); })
UBSAN_HANDLER(out_of_bounds, (void* d, void*),
              { report(static_cast<SourceLocation*>(d), "index out of bounds"); })
UBSAN_HANDLER(vla_bound_not_positive, (void* d, void*), {
    report(static_cast<SourceLocation*>(d), "variable-length array bound not positive");
})
UBSAN_HANDLER(load_invalid_value, (void* d, void*), {
    report(static_cast<SourceLocation*>(d), "load of a value invalid for its type (bool, enum)");
})
UBSAN_HANDLER(float_cast_overflow, (void* d, void*),
              { report(static_cast<SourceLocation*>(d), "float to integer conversion overflow"); })
UBSAN_HANDLER(nonnull_arg, (void* d),
              { report(static_cast<SourceLocation*>(d), "null passed as a nonnull argument"); })
UBSAN_HANDLER(nonnull_return_v1, (void*, void* loc), {
    report(static_cast<SourceLocation*>(loc), "null returned from a returns_nonnull function");
})
UBSAN_HANDLER(pointer_overflow, (void* d, void*, void*),
              { report(static_cast<SourceLocation*>(d), "pointer arithmetic overflow"); })
UBSAN_HANDLER(invalid_builtin, (void* d), {
    report(&static_cast<InvalidBuiltinData*>(d)->loc,
           "invalid argument to a builtin (ctz/clz of 0)");
})
UBSAN_HANDLER(type_mismatch_v1, (void* d, void* ptr), {
    const auto* m = static_cast<TypeMismatchData*>(d);
    const auto p = reinterpret_cast<std::uintptr_t>(ptr);
    const char* access = m->type_check_kind < sizeof(kCheckKinds) / sizeof(kCheckKinds[0])
                             ? kCheckKinds[m->type_check_kind]
                             : "access to";
    char detail[160];
    const std::uintptr_t align = std::uintptr_t{1} << m->log_alignment;
    if (p == 0) {
        snprintf(detail, sizeof(detail), " (%s null pointer of type %s)", access,
                 type_name(m->type));
        report(&m->loc, "null pointer", detail);
    }
    if (p & (align - 1)) {
        snprintf(detail, sizeof(detail), " (%s %p, type %s needs %lu-byte alignment)", access, ptr,
                 type_name(m->type), static_cast<unsigned long>(align));
        report(&m->loc, "misaligned address", detail);
    }
    snprintf(detail, sizeof(detail), " (%s %p, too small for type %s)", access, ptr,
             type_name(m->type));
    report(&m->loc, "object too small", detail);
})

extern "C" [[noreturn]] void __ubsan_handle_builtin_unreachable(void* d) {
    report(static_cast<SourceLocation*>(d), "unreachable code reached");
}
extern "C" [[noreturn]] void __ubsan_handle_missing_return(void* d) {
    report(static_cast<SourceLocation*>(d), "end of a value-returning function without return");
}
