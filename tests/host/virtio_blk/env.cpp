// Host environment of the virtio-blk driver (see env.hpp).
#include "env.hpp"

#include <rtos/thread.hpp>
#include <rtos/timer.hpp>

namespace {

blk_test::Env* current = nullptr;
rtos::Thread* device_thread = nullptr;
volatile bool device_stop = false;

}  // namespace

namespace blk_test {

Env::Env(const Setup& s) : DriverEnv(s), setup(s), model(s.capacity > 4096 ? 4096 : s.capacity) {
    fake.process_on_notify = s.process_on_notify;
    fake.refuse_features_ok = s.refuse_features_ok;
    fake.behaviour = [this](std::uint16_t, fake::Chain& c) { return model.serve(c); };
    model.read_only = (s.features & virtio::feature_bit(F_RO)) != 0;
    // The limits the device offers, as far as a driver can keep them: no
    // request can be smaller than a sector or use no data segment, so a
    // driver ignores such values (and so does the model).
    if ((s.features & virtio::feature_bit(F_SIZE_MAX)) != 0 && s.size_max >= 512)
        model.size_max = s.size_max;
    if ((s.features & virtio::feature_bit(F_SEG_MAX)) != 0) model.seg_max = s.seg_max;
    BlkModel::write_config(fake, s.capacity, s.size_max, s.seg_max, s.blk_size);
    const std::uint8_t num_queues[2] = {static_cast<std::uint8_t>(s.mq_queues),
                                        static_cast<std::uint8_t>(s.mq_queues >> 8)};  // le16 at 34
    fake.change_config(34, num_queues);
}

void Env::process_now() {
    const std::uint64_t batch = process(0);
    if (batch > max_batch) max_batch = batch;
}

void Env::start_device_thread() {
    device_stop = false;
    device_thread = rtos::Thread::create(
        {.name = "device", .priority = 3},
        [](void* e) {
            while (!device_stop) {
                rtos::Thread::sleep(1);
                static_cast<Env*>(e)->process_now();
            }
        },
        this, 4096);
}

void Env::stop_device_thread() {
    device_stop = true;
    if (device_thread) device_thread->join();
    device_thread = nullptr;
}

Env& env() { return *current; }

Env& boot(const Setup& s) {
    // The driver polls with a software timer when it has no interrupt; sim
    // starts the kernel without the boot path that starts the timer thread.
    rtos::kernel::timer_service_start();
    current = new Env(s);
    current->probe();
    current->dev = rtos::block::BlockDevice::find("vda");
    return *current;
}

}  // namespace blk_test
