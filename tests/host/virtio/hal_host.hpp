// Host implementation of virtio::hal for the tests, plus controls and
// observations. DMA memory comes from an arena mapped below 4 GiB (a legacy
// QueuePFN is 32 bits of 4 KiB pages), each block fenced by poisoned
// redzones and never reused, so AddressSanitizer reports any device or
// driver access outside a live block. printk output is captured.
#pragma once

#include <cstddef>
#include <string>

namespace host_hal {

/// Clears the captured log and the allocation failure plan.
void reset();

/// DMA blocks allocated and not yet freed.
std::size_t live_allocations();

/// The next `n` dma_alloc calls succeed, later ones fail; -1 = never fail.
void fail_allocations_after(long n);

/// Forgets every block and starts the arena again from its beginning: for
/// the fuzz targets, which start each input with nothing alive (blocks of
/// the input before are dead, their addresses handed out again).
void rewind_arena();

/// Everything printk wrote since reset().
const std::string& log();
bool log_contains(const std::string& text);

/// Echo printk output to stderr too (off by default to keep ctest quiet).
void set_echo(bool on);

}  // namespace host_hal
