// Names on a FAT volume: UTF-8 (the API) <-> UTF-16 (VFAT long names), the
// 8.3 short name and its alias for a long name, the long-name checksum.
// Pure functions, unit-tested on the host.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rtos::fs::fat {

constexpr int kLongNameMax = 255;  // UTF-16 units

/// UTF-8 -> UTF-16 units; the count, or -1 (invalid UTF-8, more than `max`
/// units, or a NUL in the name).
int utf8_to_utf16(const char* s, uint16_t* out, int max);
/// UTF-16 -> UTF-8, NUL-terminated (a lone surrogate becomes U+FFFD);
/// false when `cap` is too small.
bool utf16_to_utf8(const uint16_t* in, int n, char* out, std::size_t cap);

/// A name a new entry may have: not empty, not "." or "..", no control
/// character or one of "*/:<>?\|, not ending in a space or a dot.
bool valid_long_name(const uint16_t* name, int n);
/// Case folding for name comparison (ASCII and Latin-1 letters).
uint16_t fold(uint16_t c);
bool same_name(const uint16_t* a, int na, const uint16_t* b, int nb);

/// The checksum of an 11-byte short name kept in each long-name entry.
uint8_t sfn_checksum(const uint8_t* sfn);

/// The short-name basis of a long name (upper case, invalid characters as
/// '_', 8 + 3 blank-padded). Returns true when the long name IS that short
/// name (no long-name entries needed); `lossless` says the basis keeps the
/// name apart from case (no numeric tail needed).
bool sfn_basis(const uint16_t* name, int n, uint8_t* sfn, bool& lossless);
/// basis with the numeric tail "~<n>" (n >= 1).
void sfn_with_tail(const uint8_t* basis, unsigned n, uint8_t* sfn);
/// The short name of a directory entry as UTF-16 (8.3 with a dot, the
/// NT lower-case flags of byte 12 applied); the count.
int sfn_to_utf16(const uint8_t* entry, uint16_t* out);

}  // namespace rtos::fs::fat
