#include "fat_name.hpp"

namespace rtos::fs::fat {

int utf8_to_utf16(const char* s, uint16_t* out, int max) {
    const auto* p = reinterpret_cast<const uint8_t*>(s);
    int n = 0;
    while (*p) {
        uint32_t c;
        int more;
        if (*p < 0x80) {
            c = *p;
            more = 0;
        } else if ((*p & 0xe0) == 0xc0) {
            c = *p & 0x1f;
            more = 1;
        } else if ((*p & 0xf0) == 0xe0) {
            c = *p & 0x0f;
            more = 2;
        } else if ((*p & 0xf8) == 0xf0) {
            c = *p & 0x07;
            more = 3;
        } else {
            return -1;
        }
        ++p;
        for (int i = 0; i < more; ++i, ++p) {
            if ((*p & 0xc0) != 0x80) return -1;
            c = c << 6 | (*p & 0x3f);
        }
        // Overlong forms, surrogates and values past U+10FFFF are invalid.
        static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
        if (c < kMin[more] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return -1;
        if (c >= 0x10000) {
            if (n + 2 > max) return -1;
            c -= 0x10000;
            out[n++] = static_cast<uint16_t>(0xd800 | c >> 10);
            out[n++] = static_cast<uint16_t>(0xdc00 | (c & 0x3ff));
        } else {
            if (n + 1 > max) return -1;
            out[n++] = static_cast<uint16_t>(c);
        }
    }
    return n;
}

bool utf16_to_utf8(const uint16_t* in, int n, char* out, std::size_t cap) {
    std::size_t o = 0;
    for (int i = 0; i < n; ++i) {
        uint32_t c = in[i];
        if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && in[i + 1] >= 0xdc00 && in[i + 1] <= 0xdfff) {
            c = 0x10000 + ((c - 0xd800) << 10) + (in[i + 1] - 0xdc00u);
            ++i;
        } else if (c >= 0xd800 && c <= 0xdfff) {
            c = 0xfffd;
        }
        uint8_t b[4];
        std::size_t len;
        if (c < 0x80) {
            b[0] = static_cast<uint8_t>(c);
            len = 1;
        } else if (c < 0x800) {
            b[0] = static_cast<uint8_t>(0xc0 | c >> 6);
            b[1] = static_cast<uint8_t>(0x80 | (c & 0x3f));
            len = 2;
        } else if (c < 0x10000) {
            b[0] = static_cast<uint8_t>(0xe0 | c >> 12);
            b[1] = static_cast<uint8_t>(0x80 | (c >> 6 & 0x3f));
            b[2] = static_cast<uint8_t>(0x80 | (c & 0x3f));
            len = 3;
        } else {
            b[0] = static_cast<uint8_t>(0xf0 | c >> 18);
            b[1] = static_cast<uint8_t>(0x80 | (c >> 12 & 0x3f));
            b[2] = static_cast<uint8_t>(0x80 | (c >> 6 & 0x3f));
            b[3] = static_cast<uint8_t>(0x80 | (c & 0x3f));
            len = 4;
        }
        if (o + len + 1 > cap) return false;
        for (std::size_t k = 0; k < len; ++k) out[o++] = static_cast<char>(b[k]);
    }
    if (o + 1 > cap) return false;
    out[o] = '\0';
    return true;
}

bool valid_long_name(const uint16_t* name, int n) {
    if (n <= 0 || n > kLongNameMax) return false;
    if (name[n - 1] == ' ' || name[n - 1] == '.') return false;  // also "." and ".."
    for (int i = 0; i < n; ++i) {
        const uint16_t c = name[i];
        if (c < 0x20 || c == 0x7f) return false;
        for (const char* bad = "\"*/:<>?\\|"; *bad; ++bad)
            if (c == static_cast<uint16_t>(*bad)) return false;
    }
    return true;
}

uint16_t fold(uint16_t c) {
    if (c >= 'a' && c <= 'z') return static_cast<uint16_t>(c - 32);
    if (c >= 0xe0 && c <= 0xfe && c != 0xf7) return static_cast<uint16_t>(c - 32);
    return c;
}

bool same_name(const uint16_t* a, int na, const uint16_t* b, int nb) {
    if (na != nb) return false;
    for (int i = 0; i < na; ++i)
        if (fold(a[i]) != fold(b[i])) return false;
    return true;
}

uint8_t sfn_checksum(const uint8_t* sfn) {
    uint8_t sum = 0;
    for (int i = 0; i < 11; ++i) sum = static_cast<uint8_t>(((sum & 1) << 7) + (sum >> 1) + sfn[i]);
    return sum;
}

namespace {

// Characters a short name may hold besides letters and digits.
bool sfn_char(uint16_t c) {
    if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    for (const char* ok = "$%'-_@~`!(){}^#&"; *ok; ++ok)
        if (c == static_cast<uint16_t>(*ok)) return true;
    return false;
}

}  // namespace

bool sfn_basis(const uint16_t* name, int n, uint8_t* sfn, bool& lossless) {
    for (int i = 0; i < 11; ++i) sfn[i] = ' ';
    lossless = true;
    bool exact = true;  // the name is its own short name (upper case, fits)
    int dot = -1;       // the last dot, the extension's start
    for (int i = n - 1; i > 0; --i)
        if (name[i] == '.') {
            dot = i;
            break;
        }
    int start = 0;
    while (start < n && (name[start] == '.' || name[start] == ' ')) {  // leading dots go
        ++start;
        lossless = exact = false;
    }
    int b = 0;
    const int base_end = dot > 0 ? dot : n;
    for (int i = start; i < base_end; ++i) {
        uint16_t c = name[i];
        if (c == ' ' || c == '.') {  // dropped (an inner dot is not kept either)
            lossless = exact = false;
            continue;
        }
        uint16_t up = fold(c);
        if (up != c) exact = false;
        if (!sfn_char(up)) {
            up = '_';
            lossless = exact = false;
        }
        if (b == 8) {
            lossless = exact = false;
            break;
        }
        sfn[b++] = static_cast<uint8_t>(up);
    }
    if (b == 0) {  // nothing usable before the extension
        sfn[b++] = '_';
        lossless = exact = false;
    }
    if (dot > 0) {
        int e = 0;
        for (int i = dot + 1; i < n; ++i) {
            uint16_t c = name[i];
            if (c == ' ') {
                lossless = exact = false;
                continue;
            }
            uint16_t up = fold(c);
            if (up != c) exact = false;
            if (!sfn_char(up)) {
                up = '_';
                lossless = exact = false;
            }
            if (e == 3) {
                lossless = exact = false;
                break;
            }
            sfn[8 + e++] = static_cast<uint8_t>(up);
        }
        if (e == 0) exact = false;  // "name." is not a short name
    }
    if (sfn[0] == 0xe5) sfn[0] = 0x05;
    return exact;
}

void sfn_with_tail(const uint8_t* basis, unsigned n, uint8_t* sfn) {
    char tail[8];
    int t = 0;
    char digits[8];
    int d = 0;
    for (unsigned v = n; v && d < 7; v /= 10) digits[d++] = static_cast<char>('0' + v % 10);
    tail[t++] = '~';
    while (d) tail[t++] = digits[--d];
    int base_len = 0;
    while (base_len < 8 && basis[base_len] != ' ') ++base_len;
    int keep = 8 - t < base_len ? 8 - t : base_len;
    for (int i = 0; i < 11; ++i) sfn[i] = basis[i];
    for (int i = keep; i < 8; ++i) sfn[i] = ' ';
    for (int i = 0; i < t; ++i) sfn[keep + i] = static_cast<uint8_t>(tail[i]);
}

// Short names hold OEM code page characters: code page 850's upper half
// (mtools' and Linux's default; mcopy stores "été.txt" as 0x90 'T' 0x90).
constexpr uint16_t kCp850[128] = {
    0x00c7, 0x00fc, 0x00e9, 0x00e2, 0x00e4, 0x00e0, 0x00e5, 0x00e7, 0x00ea, 0x00eb, 0x00e8, 0x00ef,
    0x00ee, 0x00ec, 0x00c4, 0x00c5, 0x00c9, 0x00e6, 0x00c6, 0x00f4, 0x00f6, 0x00f2, 0x00fb, 0x00f9,
    0x00ff, 0x00d6, 0x00dc, 0x00f8, 0x00a3, 0x00d8, 0x00d7, 0x0192, 0x00e1, 0x00ed, 0x00f3, 0x00fa,
    0x00f1, 0x00d1, 0x00aa, 0x00ba, 0x00bf, 0x00ae, 0x00ac, 0x00bd, 0x00bc, 0x00a1, 0x00ab, 0x00bb,
    0x2591, 0x2592, 0x2593, 0x2502, 0x2524, 0x00c1, 0x00c2, 0x00c0, 0x00a9, 0x2563, 0x2551, 0x2557,
    0x255d, 0x00a2, 0x00a5, 0x2510, 0x2514, 0x2534, 0x252c, 0x251c, 0x2500, 0x253c, 0x00e3, 0x00c3,
    0x255a, 0x2554, 0x2569, 0x2566, 0x2560, 0x2550, 0x256c, 0x00a4, 0x00f0, 0x00d0, 0x00ca, 0x00cb,
    0x00c8, 0x0131, 0x00cd, 0x00ce, 0x00cf, 0x2518, 0x250c, 0x2588, 0x2584, 0x00a6, 0x00cc, 0x2580,
    0x00d3, 0x00df, 0x00d4, 0x00d2, 0x00f5, 0x00d5, 0x00b5, 0x00fe, 0x00de, 0x00da, 0x00db, 0x00d9,
    0x00fd, 0x00dd, 0x00af, 0x00b4, 0x00ad, 0x00b1, 0x2017, 0x00be, 0x00b6, 0x00a7, 0x00f7, 0x00b8,
    0x00b0, 0x00a8, 0x00b7, 0x00b9, 0x00b3, 0x00b2, 0x25a0, 0x00a0,
};

int sfn_to_utf16(const uint8_t* e, uint16_t* out) {
    int n = 0;
    const bool lower_base = e[12] & 0x08, lower_ext = e[12] & 0x10;
    auto put = [&](uint8_t c, bool lower) {
        // A control character (only a damaged entry has one) shows as '?'.
        uint16_t u = c >= 0x80 ? kCp850[c - 0x80] : c < 0x20 || c == 0x7f ? '?' : c;
        if (lower && ((u >= 'A' && u <= 'Z') || (u >= 0xc0 && u <= 0xde && u != 0xd7)))
            u = static_cast<uint16_t>(u + 32);
        out[n++] = u;
    };
    int base_len = 8;
    while (base_len > 0 && e[base_len - 1] == ' ') --base_len;
    for (int i = 0; i < base_len; ++i) put(i == 0 && e[0] == 0x05 ? 0xe5 : e[i], lower_base);
    int ext_len = 3;
    while (ext_len > 0 && e[8 + ext_len - 1] == ' ') --ext_len;
    if (ext_len) {
        out[n++] = '.';
        for (int i = 0; i < ext_len; ++i) put(e[8 + i], lower_ext);
    }
    return n;
}

}  // namespace rtos::fs::fat
