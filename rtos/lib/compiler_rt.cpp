// Helpers GCC calls when the CPU lacks an instruction (riscv64 without Zbb
// has no count-trailing-zeros). libgcc is not linked: Debian's riscv64
// libgcc is built for the hard-float ABI, the kernel for soft-float.
extern "C" {

int __ctzdi2(unsigned long long x) {
    // Binary search; x != 0 by the builtin's contract.
    int n = 0;
    if (!(x & 0xffffffffull)) n += 32, x >>= 32;
    if (!(x & 0xffffull)) n += 16, x >>= 16;
    if (!(x & 0xffull)) n += 8, x >>= 8;
    if (!(x & 0xfull)) n += 4, x >>= 4;
    if (!(x & 0x3ull)) n += 2, x >>= 2;
    if (!(x & 0x1ull)) n += 1;
    return n;
}

int __clzdi2(unsigned long long x) {
    int n = 0;
    if (!(x & 0xffffffff00000000ull)) n += 32, x <<= 32;
    if (!(x & 0xffff000000000000ull)) n += 16, x <<= 16;
    if (!(x & 0xff00000000000000ull)) n += 8, x <<= 8;
    if (!(x & 0xf000000000000000ull)) n += 4, x <<= 4;
    if (!(x & 0xc000000000000000ull)) n += 2, x <<= 2;
    if (!(x & 0x8000000000000000ull)) n += 1;
    return n;
}

}  // extern "C"
