// Memory barriers between the driver and a device that reads and writes the
// rings in RAM (2.7.13, 2.7.14) and is poked through device registers.
//
// Our targets run with caches on and QEMU's virtio devices are cache-coherent,
// so ordering is all that is needed: no cache maintenance.
//   write()    ring entries before the index that publishes them
//   read()     a device-written index before the entries it covers
//   full()     a published index before reading the other side's event/flags
//   io_write() RAM writes before a device register write (the notify)
//   io_read()  a device register read before RAM reads that depend on it
#pragma once

#if defined(RTOS_HOST_TEST)
#include <atomic>
#endif

namespace virtio::barrier {

#if defined(RTOS_HOST_TEST)

inline void write() { std::atomic_thread_fence(std::memory_order_release); }
inline void read() { std::atomic_thread_fence(std::memory_order_acquire); }
inline void full() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void io_write() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void io_read() { std::atomic_thread_fence(std::memory_order_seq_cst); }

#elif defined(__riscv)

// RVWMO: w/r are RAM accesses, o/i device output/input (Linux uses the same).
inline void write() { asm volatile("fence w, w" ::: "memory"); }
inline void read() { asm volatile("fence r, r" ::: "memory"); }
inline void full() { asm volatile("fence rw, rw" ::: "memory"); }
inline void io_write() { asm volatile("fence w, o" ::: "memory"); }
inline void io_read() { asm volatile("fence i, r" ::: "memory"); }

#elif defined(__aarch64__)

// The device is another observer in the inner shareable domain (a QEMU
// thread), so dmb ish* orders RAM. A device register write is a Device-memory
// access that traps or lands in another agent: dsb sy makes the ring writes
// complete before it, whatever the device's domain.
inline void write() { asm volatile("dmb ishst" ::: "memory"); }
inline void read() { asm volatile("dmb ishld" ::: "memory"); }
inline void full() { asm volatile("dmb ish" ::: "memory"); }
inline void io_write() { asm volatile("dsb sy" ::: "memory"); }
inline void io_read() { asm volatile("dsb ld" ::: "memory"); }

#else
#error "virtio/barrier.hpp: no barriers for this architecture"
#endif

}  // namespace virtio::barrier
