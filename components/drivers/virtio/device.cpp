// 3.1 Device Initialization, 2.2 feature negotiation, interrupt dispatch.
#include "drivers/virtio/device.hpp"

#include <rtos/format.hpp>
#include <rtos/irq.hpp>
#include <rtos/smp.hpp>

#include "drivers/virtio/config.hpp"
#include "drivers/virtio/hal.hpp"

namespace virtio {

namespace {
// What the core itself offers; the driver's bits 24..41 are ignored.
constexpr std::uint64_t core_features(bool legacy) {
    std::uint64_t f = 0;
    if (config::event_idx) f |= feature_bit(VIRTIO_RING_F_EVENT_IDX);
    if (config::indirect_desc) f |= feature_bit(VIRTIO_RING_F_INDIRECT_DESC);
    if (!legacy) f |= feature_bit(VIRTIO_F_VERSION_1);
    if (!legacy && config::ring_packed) f |= feature_bit(VIRTIO_F_RING_PACKED);  // 2.8: modern only
    return f;
}

// The core's bits by their VirtIO 1.2 names (6 Reserved Feature Bits).
constexpr FeatureName kCoreFeatureNames[] = {
    {VIRTIO_RING_F_INDIRECT_DESC, "indirect_desc"},
    {VIRTIO_RING_F_EVENT_IDX, "event_idx"},
    {VIRTIO_F_VERSION_1, "version_1"},
    {VIRTIO_F_RING_PACKED, "ring_packed"},
};

const char* feature_name(unsigned bit, std::span<const FeatureName> names) {
    for (const FeatureName& n : names)
        if (n.bit == bit) return n.name;
    for (const FeatureName& n : kCoreFeatureNames)
        if (n.bit == bit) return n.name;
    return nullptr;
}

rtos::List<Device, &Device::registry_node> registry;
}  // namespace

Device* Device::first() { return registry.front(); }
Device* Device::next() const { return registry.next(this); }

std::size_t Device::describe_features(char* buf, std::size_t size,
                                      std::span<const FeatureName> names) const {
    if (size == 0) return 0;
    std::size_t len = 0;
    // Appends " word" (no space first); false when it does not fit with
    // room left for " ...".
    auto append = [&](const char* word) {
        std::size_t n = 0;
        while (word[n]) ++n;
        const std::size_t need = (len ? 1 : 0) + n;
        if (len + need + 4 >= size) return false;
        if (len) buf[len++] = ' ';
        for (std::size_t i = 0; i < n; ++i) buf[len++] = word[i];
        return true;
    };
    bool cut = false;
    for (unsigned bit = 0; bit < 64 && !cut; ++bit) {
        if (!has_feature(bit)) continue;
        char unknown[8];
        const char* name = feature_name(bit, names);
        if (!name) {
            snprintf(unknown, sizeof unknown, "bit%u", bit);
            name = unknown;
        }
        cut = !append(name);
    }
    if (len == 0 && !cut) append("none");
    if (cut) {
        const char* more = len ? " ..." : "...";
        for (; *more && len + 1 < size; ++more) buf[len++] = *more;
    }
    buf[len] = '\0';
    return len;
}

void Device::add_status(std::uint8_t bits) {
    // DEVICE_NEEDS_RESET is the device's to set (2.1.1): never written back.
    const auto now =
        static_cast<std::uint8_t>(transport_.status() & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    transport_.set_status(static_cast<std::uint8_t>(now | bits));
}

void Device::fail() { add_status(VIRTIO_STATUS_FAILED); }

void Device::driver_ok() {
    add_status(VIRTIO_STATUS_DRIVER_OK);
    if (!registry_node.linked()) registry.push_back(this);
}

void Device::reset() { transport_.reset(); }

void Device::release_queues() {
    for (std::size_t i = 0; i < capacity_; ++i) {
        slots_[i].queue.release();
        slots_[i].on_used = nullptr;
        slots_[i].context = nullptr;
    }
    queue_count_ = 0;
}

void Device::shutdown() {
    registry_node.unlink();
    reset();
    release_queues();
}

Error Device::negotiate(std::uint64_t driver_features) {
    // 3.1.1 steps 1-3.
    transport_.reset();
    release_queues();
    features_ = 0;
    add_status(VIRTIO_STATUS_ACKNOWLEDGE);
    add_status(VIRTIO_STATUS_DRIVER);

    // Step 4. A legacy device has 32 feature bits and no VERSION_1.
    const bool legacy = transport_.is_legacy();
    std::uint64_t wanted =
        (driver_features & ~VIRTIO_TRANSPORT_FEATURES_MASK) | core_features(legacy);
    if (legacy) wanted &= 0xffffffffu;
    return accept_features(wanted);
}

// 3.1.1 steps 4-6 for the features the driver can use.
Error Device::accept_features(std::uint64_t wanted) {
    const bool legacy = transport_.is_legacy();
    const std::uint64_t offered = transport_.device_features();
    const std::uint64_t accepted = offered & wanted;
    if (!legacy && (accepted & feature_bit(VIRTIO_F_VERSION_1)) == 0) {
        rtos::printk("%s: modern device without VIRTIO_F_VERSION_1 (features 0x%llx)\n", name(),
                     static_cast<unsigned long long>(offered));
        fail();
        return Error::features_refused;
    }
    transport_.set_driver_features(accepted);

    // Steps 5-6; legacy devices have no FEATURES_OK (3.1.2).
    if (!legacy) {
        add_status(VIRTIO_STATUS_FEATURES_OK);
        if ((transport_.status() & VIRTIO_STATUS_FEATURES_OK) == 0) {
            rtos::printk("%s: device refused features 0x%llx\n", name(),
                         static_cast<unsigned long long>(accepted));
            fail();
            return Error::features_refused;
        }
    }
    features_ = accepted;
    return Error::ok;
}

Error Device::reinit() {
    const std::uint64_t before = features_;
    transport_.reset();
    add_status(VIRTIO_STATUS_ACKNOWLEDGE);
    add_status(VIRTIO_STATUS_DRIVER);
    Error e = accept_features(before);
    if (e == Error::ok && features_ != before) {
        rtos::printk("%s: device no longer offers features 0x%llx\n", name(),
                     static_cast<unsigned long long>(before & ~features_));
        e = Error::features_refused;
    }
    features_ = before;  // what the queues were set up with
    if (e != Error::ok) {
        fail();
        return e;
    }
    transport_.plan_interrupts(static_cast<std::uint16_t>(queue_count_));
    for (std::size_t i = 0; i < queue_count_; ++i) {
        e = slots_[i].queue.rearm();
        if (e != Error::ok) {
            fail();
            return e;
        }
    }
    add_status(VIRTIO_STATUS_DRIVER_OK);
    return Error::ok;
}

bool Device::needs_reset() {
    return !transport_.is_legacy() && (transport_.status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET) != 0;
}

Error Device::setup_queues(std::span<const QueueSpec> queues) {
    if (queues.size() > capacity_) {
        rtos::printk("%s: %zu queues requested, at most %zu supported\n", name(), queues.size(),
                     capacity_);
        return Error::invalid_argument;
    }
    release_queues();
    transport_.plan_interrupts(static_cast<std::uint16_t>(queues.size()));
    const bool event_idx = has_feature(VIRTIO_RING_F_EVENT_IDX);
    const bool indirect = has_feature(VIRTIO_RING_F_INDIRECT_DESC);
    const bool packed = has_feature(VIRTIO_F_RING_PACKED);
    for (std::size_t i = 0; i < queues.size(); ++i) {
        const Error e = slots_[i].queue.init(transport_, static_cast<std::uint16_t>(i),
                                             queues[i].size, event_idx, indirect, packed);
        if (e != Error::ok) {
            release_queues();
            return e;
        }
        slots_[i].on_used = queues[i].on_used;
        slots_[i].context = queues[i].context;
    }
    queue_count_ = queues.size();
    return Error::ok;
}

Error Device::start(const Spec& spec) {
    if (spec.queues.size() > capacity_) {
        rtos::printk("%s: %zu queues requested, at most %zu supported\n", name(),
                     spec.queues.size(), capacity_);
        return Error::invalid_argument;
    }
    Error e = negotiate(spec.features);
    if (e != Error::ok) return e;
    e = setup_queues(spec.queues);
    if (e != Error::ok) {
        fail();
        return e;
    }
    set_config_callback(spec.on_config_change, spec.context);
    set_needs_reset_callback(spec.on_needs_reset, spec.context);
    driver_ok();  // the driver prints the device's boot line (virtio::announce)
    return Error::ok;
}

Error Device::config_unstable() {
    rtos::printk("%s: configuration kept changing over %u reads\n", name(), kConfigReadAttempts);
    return Error::config_unstable;
}

namespace {
// One queue's share of an interrupt (inlined in both paths below).
// Notes this CPU in the queue's irq_cpus: an atomic OR only the first time.
[[gnu::noinline]] void note_cpu(Device::QueueSlot& s) {
    const std::uint32_t bit = rtos::cpu_mask(rtos::smp::cpu_id());
    if (!(__atomic_load_n(&s.irq_cpus, __ATOMIC_RELAXED) & bit))
        __atomic_fetch_or(&s.irq_cpus, bit, __ATOMIC_RELAXED);
}

void dispatch(Device::QueueSlot& s) {
    if (s.queue.has_used()) {
        s.queue.count_interrupt();
        if (rtos::smp::active()) note_cpu(s);  // one CPU: a no-op (virtio stat prints none)
    }
    if (s.on_used != nullptr) s.on_used(s.context, s.queue);
}
}  // namespace

bool Device::route_queue(std::size_t index, unsigned cpu) {
    unsigned irq;
    bool own;
    if (index >= queue_count_ ||
        !transport_.queue_interrupt(static_cast<std::uint16_t>(index), irq, own) || !own)
        return false;
    return rtos::irq::route(irq, cpu);
}

bool Device::queue_cpu(std::size_t index, unsigned& cpu, bool& own) const {
    unsigned irq;
    if (index >= queue_count_ ||
        !transport_.queue_interrupt(static_cast<std::uint16_t>(index), irq, own))
        return false;
    cpu = rtos::irq::cpu_of(irq);
    return true;
}

void Device::on_queue_interrupt(std::uint16_t index) {
    if (index >= queue_count_) return;  // a vector the transport did not map to a queue
    dispatch(slots_[index]);
}

void Device::on_config_interrupt() {
    // 2.1.2: a device that needs a reset says so with a configuration change.
    if (needs_reset()) {
        if (on_needs_reset_ != nullptr) return on_needs_reset_(needs_reset_context_);
        rtos::printk(
            "%s: device needs a reset (DEVICE_NEEDS_RESET); no recovery in this "
            "driver: device reset, stopped\n",
            name());
        return reset();
    }
    if (on_config_change_ != nullptr) on_config_change_(config_context_);
}

bool Device::handle_interrupt() {
    // 4.2.3.3: read the cause, acknowledge only the bits we know, then handle.
    const std::uint32_t pending =
        transport_.interrupt_status() & (VIRTIO_INT_USED_BUFFER | VIRTIO_INT_CONFIG_CHANGE);
    if (pending == 0) return false;
    transport_.interrupt_ack(pending);
    if ((pending & VIRTIO_INT_CONFIG_CHANGE) != 0) on_config_interrupt();
    if ((pending & VIRTIO_INT_USED_BUFFER) != 0) {
        for (std::size_t i = 0; i < queue_count_; ++i) dispatch(slots_[i]);
    }
    return true;
}

}  // namespace virtio
