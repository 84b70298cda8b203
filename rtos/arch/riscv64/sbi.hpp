// Supervisor Binary Interface calls into OpenSBI (SBI spec v1.0).
#pragma once

#include <cstdint>

namespace rtos::arch::sbi {

struct Result {
    long error;
    long value;
};

Result call(uint32_t ext, uint32_t fid, unsigned long a0 = 0, unsigned long a1 = 0,
            unsigned long a2 = 0);

constexpr uint32_t kExtTime = 0x54494d45;   // "TIME"
constexpr uint32_t kExtReset = 0x53525354;  // "SRST"
constexpr uint32_t kExtIpi = 0x735049;      // "sPI"
constexpr uint32_t kExtHsm = 0x48534d;      // "HSM"
constexpr uint32_t kExtBase = 0x10;
constexpr uint32_t kLegacyShutdown = 0x08;

constexpr uint32_t kBaseProbeExtension = 3;
constexpr uint32_t kIpiSendIpi = 0;
constexpr uint32_t kHsmHartStart = 0;

// Standard SBI error codes (SBI spec v2.0, 3.2).
constexpr long kErrInvalidParam = -3;
constexpr long kErrAlreadyAvailable = -6;

enum ResetType : unsigned long { kShutdown = 0, kColdReboot = 1 };
enum ResetReason : unsigned long { kNoReason = 0, kSystemFailure = 1 };

inline void set_timer(uint64_t when) { call(kExtTime, 0, when); }
inline void system_reset(ResetType type, ResetReason reason) { call(kExtReset, 0, type, reason); }

}  // namespace rtos::arch::sbi
