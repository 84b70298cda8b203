// Device register access. Volatile accesses of the exact width; ordering
// against normal memory (DMA buffers) is the caller's business (barriers in
// the driver where the protocol needs them).
#pragma once

#include <cstdint>

namespace rtos::mmio {

inline uint8_t read8(uintptr_t a) { return *reinterpret_cast<volatile uint8_t*>(a); }
inline uint16_t read16(uintptr_t a) { return *reinterpret_cast<volatile uint16_t*>(a); }
inline uint32_t read32(uintptr_t a) { return *reinterpret_cast<volatile uint32_t*>(a); }
inline void write8(uintptr_t a, uint8_t v) { *reinterpret_cast<volatile uint8_t*>(a) = v; }
inline void write16(uintptr_t a, uint16_t v) { *reinterpret_cast<volatile uint16_t*>(a) = v; }
inline void write32(uintptr_t a, uint32_t v) { *reinterpret_cast<volatile uint32_t*>(a) = v; }

}  // namespace rtos::mmio
