// The device-independent core of every VirtIO driver: initialisation (3.1
// Device Initialization), feature negotiation, queue setup, consistent config
// reads and interrupt dispatch. A device driver (blk, net, ...) says which
// features and queues it wants; this class does the rest:
//
//   virtio::Device dev{transport};
//   const virtio::Device::QueueSpec queues[] = {
//       {virtio::config::blk_queue_size, &Blk::on_requestq, this}};
//   if (dev.start({.features = kBlkFeatures, .queues = queues}) != virtio::Error::ok) ...
//   dev.attach_interrupts();   // the transport calls Blk::on_requestq on used buffers
//   dev.queue(0).add_buffer(out, in, request); dev.queue(0).kick();
//
// Drivers that must read config or populate queues between FEATURES_OK and
// DRIVER_OK call negotiate(), setup_queues() and driver_ok() themselves.
//
// Failure (docs/reliability.md): a modern device that sets
// DEVICE_NEEDS_RESET (2.1.1) and sends a configuration change is handed to
// the driver's needs-reset callback, which fails what is in flight and
// re-initialises the device (reinit(), or its own restart) or takes it
// offline, with one line saying which. Without a callback the core says so
// and resets the device.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include <rtos/list.hpp>

#include "drivers/virtio/error.hpp"
#include "drivers/virtio/spec.hpp"
#include "drivers/virtio/transport/transport.hpp"
#include "drivers/virtio/virtqueue.hpp"

namespace virtio {

/// A device-type feature bit's name for boot lines: the spec's name in
/// lowercase without its VIRTIO_<TYPE>_F_ prefix (VIRTIO_BLK_F_SIZE_MAX is
/// {1, "size_max"}). Each driver keeps a table of the bits it negotiates.
struct FeatureName {
    unsigned bit;
    const char* name;
};

class Device final : public InterruptSink {
public:
    /// Queues a Device holds itself (blk 1, net 2-3, gpu 2, input 2); a driver
    /// that needs more lends it a table (use_queue_table()).
    static constexpr std::size_t kMaxQueues = 4;
    /// ConfigGeneration attempts before read_config_consistent() gives up.
    static constexpr unsigned kConfigReadAttempts = 8;

    /// Called on a used buffer notification (the queue's vector, or a line).
    using QueueCallback = void (*)(void* context, Virtqueue& queue);
    /// Called on a configuration change notification; also the type of the
    /// needs-reset callback.
    using ConfigCallback = void (*)(void* context);

    struct QueueSpec {
        std::uint16_t size;     ///< wanted size (a power of two), e.g. config::blk_queue_size
        QueueCallback on_used;  ///< nullptr for a polled queue
        void* context;
    };

    struct Spec {
        /// Device-type feature bits the driver supports (feature_bit(...) masks).
        /// Bits 24..41 are the core's: it offers VERSION_1 (modern), and
        /// EVENT_IDX / INDIRECT_DESC when their Kconfig symbols are on, and
        /// RING_PACKED (modern) with CONFIG_VIRTIO_RING_PACKED.
        std::uint64_t features = 0;
        std::span<const QueueSpec> queues;
        ConfigCallback on_config_change = nullptr;
        void* context = nullptr;
        /// The device set DEVICE_NEEDS_RESET (from the interrupt).
        ConfigCallback on_needs_reset = nullptr;
    };

    /// One queue with its callback.
    struct QueueSlot {
        Virtqueue queue;
        QueueCallback on_used = nullptr;
        void* context = nullptr;
        /// The CPUs an interrupt that found used entries here ran on
        /// (`virtio stat`): atomic ORs, from any CPU's handler.
        std::uint32_t irq_cpus = 0;
    };

    constexpr explicit Device(Transport& transport) : transport_(transport) {}
    ~Device() { registry_node.unlink(); }
    Device(const Device&) = delete;
    Device& operator=(const Device&) = delete;

    /// negotiate(), setup_queues(), driver_ok(). On error the device is left
    /// with FAILED set and nothing allocated. Errors: those of the steps, and
    /// invalid_argument for more than max_queues() queues.
    Error start(const Spec& spec);

    /// Reset, ACKNOWLEDGE, DRIVER, features (3.1.1 steps 1-6). Queues of an
    /// earlier start are released after the reset. features_refused (logged,
    /// FAILED set) when a modern device lacks VERSION_1 or clears FEATURES_OK.
    Error negotiate(std::uint64_t driver_features);

    /// More queues than kMaxQueues (a multiport virtio-console has 2 + 2 per
    /// port): the Device uses `table` instead of its own slots. The caller
    /// keeps it alive as long as the Device; only while no queue is set up
    /// (before setup_queues() / start(), or after shutdown()).
    void use_queue_table(std::span<QueueSlot> table) {
        slots_ = table.data();
        capacity_ = table.size();
    }
    /// Queues setup_queues() accepts: kMaxQueues, or the lent table's size.
    std::size_t max_queues() const { return capacity_; }

    /// Sets up the queues (3.1.1 step 7), EVENT_IDX / INDIRECT_DESC and the
    /// ring layout (split, or packed with RING_PACKED) as negotiated; only between negotiate() and
    /// driver_ok(). Errors: invalid_argument (more than max_queues()), or Virtqueue::init()'s;
    /// queues set up before the failure are released.
    Error setup_queues(std::span<const QueueSpec> queues);

    /// 3.1.1 step 8: the device may now use the queues.
    void driver_ok();
    /// The config-change callback (start() sets it from its Spec).
    void set_config_callback(ConfigCallback callback, void* context) {
        on_config_change_ = callback;
        config_context_ = context;
    }
    /// The needs-reset callback (start() sets it from its Spec).
    void set_needs_reset_callback(ConfigCallback callback, void* context) {
        on_needs_reset_ = callback;
        needs_reset_context_ = context;
    }
    /// After reset() and reclaim() of every request on every queue: the
    /// whole initialisation again with the features and queues of before,
    /// on the rings already allocated (nothing allocated: callable with
    /// interrupts masked or from an ISR), DRIVER_OK set. Errors:
    /// features_refused (the device no longer offers them all, or clears
    /// FEATURES_OK: logged, FAILED set), invalid_argument (requests still
    /// in flight), the transport's queue setup errors (FAILED set).
    Error reinit();
    /// DEVICE_NEEDS_RESET is set (a modern device gave up; 2.1.2).
    bool needs_reset();
    /// Sets FAILED (2.1): the driver gave up on the device.
    void fail();
    /// Device reset (status 0): the device stops touching the rings, which
    /// stay allocated so Virtqueue::reclaim() can return in-flight tokens.
    void reset();
    /// reset() and release every queue. Call before dropping the Device.
    void shutdown();

    /// Features accepted by both sides (valid after negotiate()).
    std::uint64_t features() const { return features_; }
    bool has_feature(unsigned bit) const { return (features_ & feature_bit(bit)) != 0; }
    /// The accepted features as words, in bit order, separated by spaces:
    /// the device type's from `names`, the core's own (indirect_desc,
    /// event_idx, version_1, ring_packed), "bit<n>" for a bit in neither; "none" when
    /// there are none. Always NUL-terminated; a list that does not fit ends
    /// in "...". Returns the length written.
    std::size_t describe_features(char* buf, std::size_t size,
                                  std::span<const FeatureName> names) const;

    Transport& transport() { return transport_; }
    const char* name() const { return transport_.name(); }
    std::size_t queue_count() const { return queue_count_; }
    Virtqueue& queue(std::size_t index) { return slots_[index].queue; }
    const Virtqueue& queue(std::size_t index) const { return slots_[index].queue; }

    /// Runs `read(transport)` until ConfigGeneration is the same before and
    /// after it (2.5.1), for multi-field or 64-bit config reads. Legacy
    /// devices have no generation: read once. config_unstable (logged) after
    /// kConfigReadAttempts changing attempts; `read` should then be ignored.
    template <typename ReadFn>
    Error read_config_consistent(ReadFn&& read) {
        if (transport_.is_legacy()) {
            read(transport_);
            return Error::ok;
        }
        for (unsigned attempt = 0; attempt < kConfigReadAttempts; ++attempt) {
            const std::uint32_t before = transport_.config_generation();
            read(transport_);
            if (transport_.config_generation() == before) return Error::ok;
        }
        return config_unstable();
    }

    /// Devices that reached driver_ok() and were not shut down, in that
    /// order (for `virtio stat`). Changed only while drivers probe.
    static Device* first();
    Device* next() const;
    rtos::ListNode registry_node;

    /// Routes the device's interrupts (line or MSI-X vectors, the
    /// transport's choice) to the callbacks; after setup_queues(). False when
    /// the device has no usable interrupt (the driver polls or gives up).
    bool attach_interrupts() { return transport_.attach_interrupts(*this); }
    /// After attach_interrupts(): delivers queue `index`'s interrupt to CPU
    /// `cpu` (rtos::irq::route()) when the queue has one of its own (an
    /// MSI-X vector); false when it shares one with the other queues (a
    /// line), has none, or the controller cannot move it.
    bool route_queue(std::size_t index, unsigned cpu);
    /// Where queue `index`'s interrupt is delivered, and whether the queue
    /// has it to itself (`own`); false: it has none.
    bool queue_cpu(std::size_t index, unsigned& cpu, bool& own) const;
    /// The CPUs queue `index`'s interrupts ran on since the last reset_irq_cpus()
    /// (a mask; noted only once a second CPU has started).
    std::uint32_t irq_cpus(std::size_t index) const {
        return __atomic_load_n(&slots_[index].irq_cpus, __ATOMIC_RELAXED);
    }
    void reset_irq_cpus(std::size_t index) {
        __atomic_store_n(&slots_[index].irq_cpus, 0u, __ATOMIC_RELAXED);
    }

    /// A line's interrupt: reads and acknowledges InterruptStatus, then calls
    /// the config-change callback and every queue's callback (counting an
    /// interrupt for each queue that has used entries). Returns false when
    /// the device had nothing pending (shared or spurious).
    bool handle_interrupt();
    void on_shared_interrupt() override { handle_interrupt(); }
    /// A queue's own vector: that queue's callback only.
    void on_queue_interrupt(std::uint16_t index) override;
    /// The configuration vector: the config-change callback.
    void on_config_interrupt() override;

private:
    void add_status(std::uint8_t bits);
    void release_queues();
    Error accept_features(std::uint64_t wanted);
    Error config_unstable();

    Transport& transport_;
    std::uint64_t features_ = 0;
    std::size_t queue_count_ = 0;
    QueueSlot own_slots_[kMaxQueues];
    QueueSlot* slots_ = own_slots_;
    std::size_t capacity_ = kMaxQueues;
    ConfigCallback on_config_change_ = nullptr;
    void* config_context_ = nullptr;
    ConfigCallback on_needs_reset_ = nullptr;
    void* needs_reset_context_ = nullptr;
};

}  // namespace virtio
