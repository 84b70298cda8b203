// Thread-Metric: the eight tests of the public Thread-Metric RTOS benchmark
// suite, written from its published rules for this kernel's public API
// (<rtos/...> only). Each test counts "events" (a relinquish, a preemption,
// an interrupt, a message sent and received...) for a number of periods;
// the score is the count scaled to 5 seconds. Under QEMU's
// `-icount shift=0,sleep=off` (tools/bench.py --thread-metric) a second is
// 10^9 instructions, so scores repeat exactly.
//
// Command `tm` (rtos/selftest.hpp): `tm -l` lists the tests;
// `tm <test> [period_ms [periods]]` runs one and prints
//
//   tm: <test> period <k> <events>          (one line per period)
//   tm: <test> score <n> per 5 s (total <events> in <ms> ms)
//   tm: <test> failed (<why>)
//
// tools/bench.py parses these lines; keep them stable.
//
// The suite's porting rules, as applied here:
// - tm priorities run from 1 (highest) to 16; they map onto the 16 levels
//   just above the idle thread. Thread::create + suspend stands for
//   "created, not started": none of them runs before the shell sleeps.
// - The shell thread is the reporter, raised just above the tests while
//   one runs. It sleeps through each period and only reads counters; it
//   prints after the last one, so console output never eats into a period.
// - tm_cause_interrupt is the CPU's real software interrupt
//   (irq::raise_soft: riscv64 SSIP, aarch64 an SGI to self) with a handler
//   on the normal interrupt path, which saves the interrupted context.
// - Messages are the suite's four `unsigned long`s (32 bytes on these
//   64-bit targets); memory blocks are 128 bytes; semaphores are binary
//   and start given.
// - The tests loop forever, as the suite's do: at the end the reporter
//   suspends their threads, which stay suspended (their stacks stay
//   allocated until the next boot; `ps` lists them as tm0..tm4).
#include <rtos/config.hpp>

#include <cstddef>
#include <cstdint>
#include <new>

#include <rtos/clock.hpp>
#include <rtos/irq.hpp>
#include <rtos/memory_pool.hpp>
#include <rtos/message_queue.hpp>
#include <rtos/format.hpp>
#include <rtos/printk.hpp>
#include <rtos/selftest.hpp>
#include <rtos/semaphore.hpp>
#include <rtos/string.hpp>
#include <rtos/thread.hpp>

namespace rtos::thread_metric {
namespace {

static_assert(CONFIG_RTOS_PRIORITY_LEVELS >= 32, "Thread-Metric needs 16 priority levels");

constexpr unsigned kMaxThreads = 5;
constexpr std::size_t kStackSize = 4096;
constexpr unsigned kScoreMs = 5000;  // scores are events per 5 s

/// tm priority 1..16 (1 highest) -> ours: the 16 levels above idle.
constexpr unsigned priority(unsigned tm) { return CONFIG_RTOS_PRIORITY_LEVELS - 18 + tm; }

// ---- State shared by the tests and the reporter ------------------------------

Thread* threads[kMaxThreads];
unsigned thread_count;
volatile unsigned long counter[kMaxThreads];
volatile unsigned long handler_counter;
const char* volatile error;  // set by a test thread that saw a wrong result

struct Message {
    unsigned long word[4];
};
MessageQueueOf<Message, 4> queue;
BinarySemaphore semaphore(true);
StaticMemoryPool<128, 4> pool;
volatile unsigned long basic_array[1024];

Thread* self(void* arg) { return threads[reinterpret_cast<uintptr_t>(arg)]; }

// ---- The tests -----------------------------------------------------------------

// Basic processing: one thread, arithmetic over an array; measures the
// compiler and the CPU, not the RTOS (the scale between RTOS results).
void basic_thread(void*) {
    constexpr unsigned n = sizeof(basic_array) / sizeof(basic_array[0]);
    for (unsigned i = 0; i < n; ++i) basic_array[i] = 0;
    for (;;) {
        // Indexed, as the suite's rule reads: "add the counter, xor with the old value".
        for (int i = 0; i < static_cast<int>(n); ++i)
            basic_array[i] = (basic_array[i] + counter[0]) ^ basic_array[i];
        counter[0] = counter[0] + 1;
    }
}

// Cooperative scheduling: five threads of one priority, each counts and
// relinquishes to the next.
void cooperative_thread(void* arg) {
    volatile unsigned long& n = counter[reinterpret_cast<uintptr_t>(arg)];
    for (;;) {
        n = n + 1;
        Thread::yield();
    }
}

// Preemptive scheduling: five priorities; each thread resumes the next
// higher one (which preempts it), counts, and suspends itself. The lowest
// (4) never suspends, the highest (0) resumes nobody.
void preemptive_thread(void* arg) {
    uintptr_t i = reinterpret_cast<uintptr_t>(arg);
    Thread* me = threads[i];
    Thread* higher = i > 0 ? threads[i - 1] : nullptr;
    for (;;) {
        if (higher) higher->resume();
        counter[i] = counter[i] + 1;
        if (i < kMaxThreads - 1) me->suspend();
    }
}

// Interrupt processing: the thread raises the software interrupt, whose
// handler counts and gives the semaphore; the thread takes it and counts.
void interrupt_handler(void*) {
    handler_counter = handler_counter + 1;
    semaphore.give_from_isr();
}

void interrupt_thread(void*) {
    if (semaphore.take(Timeout::none()) != Status::ok) {
        error = "the semaphore did not start given";
        return;
    }
    for (;;) {
        irq::raise_soft();
        if (semaphore.take(Timeout::none()) != Status::ok) {
            error = "the interrupt handler did not give the semaphore";
            return;
        }
        counter[0] = counter[0] + 1;
    }
}

// Interrupt preemption: the handler resumes a higher-priority thread, which
// runs before the interrupted one continues, counts and suspends itself.
void preemption_handler(void*) {
    handler_counter = handler_counter + 1;
    threads[0]->resume();
}

void preempted_by_interrupt_thread(void* arg) {  // thread 0, priority 3
    Thread* me = self(arg);
    for (;;) {
        counter[0] = counter[0] + 1;
        me->suspend();
    }
}

void interrupting_thread(void*) {  // thread 1, priority 10
    for (;;) {
        irq::raise_soft();
        counter[1] = counter[1] + 1;
    }
}

// Message processing: send a four-word message and receive it back.
void message_thread(void*) {
    Message sent{{0x11112222, 0x33334444, 0x55556666, 0x77778888}};
    Message received{};
    for (;;) {
        queue.send(sent);
        queue.receive(received);
        if (received.word[3] != sent.word[3]) {
            error = "a message came back changed";
            return;
        }
        sent.word[3]++;
        counter[0] = counter[0] + 1;
    }
}

// Synchronisation: take a semaphore and give it back.
void synchronization_thread(void*) {
    for (;;) {
        if (semaphore.take(Timeout::none()) != Status::ok) {
            error = "the semaphore was not available";
            return;
        }
        if (semaphore.give() != Status::ok) {
            error = "giving the semaphore back failed";
            return;
        }
        counter[0] = counter[0] + 1;
    }
}

// Memory allocation: allocate a 128-byte block and free it.
void memory_thread(void*) {
    for (;;) {
        void* block = pool.alloc(Timeout::none());
        if (!block) {
            error = "the pool had no block";
            return;
        }
        pool.free(block);
        counter[0] = counter[0] + 1;
    }
}

// ---- Test table ------------------------------------------------------------------

struct ThreadSpec {
    Thread::Entry entry;
    unsigned tm_priority;
    bool suspended;  // created suspended (resumed by the test itself)
};

enum class Score { sum, handler, first };  // which counters make the event count

struct Test {
    const char* name;
    const char* what;
    ThreadSpec spec[kMaxThreads];
    unsigned threads;
    Score score;
    irq::Handler handler;
    bool equal_counters;  // every counter within 1 of their average
};

constexpr Test kTests[] = {
    {"basic",
     "basic processing: one thread, arithmetic over a 1024-word array",
     {{basic_thread, 10, false}},
     1,
     Score::first,
     nullptr,
     false},
    {"cooperative",
     "cooperative scheduling: 5 equal-priority threads count and relinquish",
     {{cooperative_thread, 3, false},
      {cooperative_thread, 3, false},
      {cooperative_thread, 3, false},
      {cooperative_thread, 3, false},
      {cooperative_thread, 3, false}},
     5,
     Score::sum,
     nullptr,
     true},
    {"preemptive",
     "preemptive scheduling: 5 priorities, each resumes the next higher one",
     {{preemptive_thread, 6, true},
      {preemptive_thread, 7, true},
      {preemptive_thread, 8, true},
      {preemptive_thread, 9, true},
      {preemptive_thread, 10, false}},
     5,
     Score::sum,
     nullptr,
     true},
    {"interrupt",
     "interrupt processing: software interrupt gives a semaphore the thread takes",
     {{interrupt_thread, 10, false}},
     1,
     Score::handler,
     interrupt_handler,
     true},
    {"interrupt_preemption",
     "interrupt preemption: software interrupt resumes a higher-priority thread",
     {{preempted_by_interrupt_thread, 3, true}, {interrupting_thread, 10, false}},
     2,
     Score::handler,
     preemption_handler,
     true},
    {"message",
     "message processing: send and receive a 4 x unsigned long message",
     {{message_thread, 10, false}},
     1,
     Score::first,
     nullptr,
     false},
    {"synchronization",
     "synchronisation: take and give a binary semaphore",
     {{synchronization_thread, 10, false}},
     1,
     Score::first,
     nullptr,
     false},
    {"memory",
     "memory allocation: allocate and free a 128-byte pool block",
     {{memory_thread, 10, false}},
     1,
     Score::first,
     nullptr,
     false},
};

unsigned long events(const Test& t) {
    switch (t.score) {
    case Score::handler: return handler_counter;
    case Score::first: return counter[0];
    case Score::sum: break;
    }
    unsigned long sum = 0;
    for (unsigned i = 0; i < t.threads; ++i) sum += counter[i];
    return sum;
}

// The suite's validity check: the counters of a test that counts in lock
// step (and its handler's) end within 1 of their average.
bool counters_agree(const Test& t) {
    unsigned long v[kMaxThreads + 1];
    unsigned n = 0;
    for (unsigned i = 0; i < t.threads; ++i) v[n++] = counter[i];
    if (t.handler) v[n++] = handler_counter;
    unsigned long sum = 0;
    for (unsigned i = 0; i < n; ++i) sum += v[i];
    unsigned long avg = sum / n;
    for (unsigned i = 0; i < n; ++i)
        if (v[i] + 1 < avg || v[i] > avg + 1) return false;
    return true;
}

void reset_state() {
    for (auto& c : counter) c = 0;
    handler_counter = 0;
    error = nullptr;
    thread_count = 0;
    // Fresh objects: an earlier run's thread, suspended for good anywhere
    // in its loop (nobody waits on them), may have taken the semaphore,
    // left a message queued or kept a block.
    new (&semaphore) BinarySemaphore(true);
    new (&queue) MessageQueueOf<Message, 4>();
    new (&pool) StaticMemoryPool<128, 4>();
}

constexpr unsigned kMaxPeriods = 64;

int run(const Test& t, unsigned period_ms, unsigned periods, selftest::SleepFn sleep_until) {
    Tick period = clock::ms_to_ticks(period_ms);
    reset_state();
    if (t.handler) irq::set_soft_handler(t.handler, nullptr);
    Thread::sleep(1);  // start right after a tick: every run sees the same tick phase
    for (unsigned i = 0; i < t.threads; ++i) {
        const ThreadSpec& s = t.spec[i];
        static const char* const kNames[kMaxThreads] = {"tm0", "tm1", "tm2", "tm3", "tm4"};
        // Lower priority than the shell: none of them runs before it sleeps.
        threads[i] =
            Thread::create({.name = kNames[i], .priority = priority(s.tm_priority)}, s.entry,
                           reinterpret_cast<void*>(static_cast<uintptr_t>(i)), kStackSize, true);
        if (!threads[i]) {
            for (unsigned k = 0; k < i; ++k) threads[k]->suspend();
            if (t.handler) irq::set_soft_handler(nullptr, nullptr);
            printk(
                "tm: %s failed (no memory for its threads; each run leaves its threads "
                "suspended: reboot)\n",
                t.name);
            return 1;
        }
        if (s.suspended) threads[i]->suspend();
        ++thread_count;
    }
    unsigned long per_period[kMaxPeriods];
    unsigned long last = 0;
    Tick start = clock::ticks();
    unsigned done = 0;
    for (; done < periods; ++done) {
        // Ctrl-C ends a long period early (a period of at most 50 ms is one sleep, as before).
        if (!sleep_until(start + (done + 1) * period)) break;
        unsigned long now = events(t);
        per_period[done] = now - last;
        last = now;
    }
    for (unsigned i = 0; i < thread_count; ++i) threads[i]->suspend();
    if (t.handler) irq::set_soft_handler(nullptr, nullptr);
    for (unsigned k = 0; k < done; ++k)
        printk("tm: %s period %u %lu\n", t.name, k + 1, per_period[k]);
    if (done < periods) return selftest::kInterrupted;
    const char* why = error;
    if (!why && t.equal_counters && !counters_agree(t)) why = "the counters disagree";
    for (unsigned k = 0; !why && k < done; ++k)
        if (per_period[k] == 0) why = "no events in a period";
    if (why) {
        printk("tm: %s failed (%s)\n", t.name, why);
        return 1;
    }
    uint64_t ms = uint64_t{period_ms} * periods;
    uint64_t score = uint64_t{last} * kScoreMs / ms;
    printk("tm: %s score %llu per 5 s (total %lu in %llu ms)\n", t.name,
           static_cast<unsigned long long>(score), last, static_cast<unsigned long long>(ms));
    return 0;
}

// The reporter: the shell thread, just above the tests while they run.
int report(const Test& t, unsigned period_ms, unsigned periods, selftest::SleepFn sleep_until) {
    Thread* shell = Thread::current();
    unsigned base = shell->base_priority();
    if (base >= priority(1)) shell->set_priority(priority(1) - 1);
    int rc = run(t, period_ms, periods, sleep_until);
    shell->set_priority(base);
    return rc;
}

}  // namespace

int run_command(int argc, char** argv, selftest::SleepFn sleep_until) {
    if (argc == 2 && strcmp(argv[1], "-l") == 0) {
        for (const Test& t : kTests) printk("  %-20s %s\n", t.name, t.what);
        return 0;
    }
    if (argc < 2 || argc > 4) return selftest::kUsage;
    unsigned long long period_ms = 1000, periods = 5;
    if ((argc > 2 && (!parse_u64(argv[2], period_ms) || period_ms == 0 || period_ms > 600000)) ||
        (argc > 3 && (!parse_u64(argv[3], periods) || periods == 0 || periods > kMaxPeriods))) {
        printk("tm: period_ms 1..600000, periods 1..%u\n", kMaxPeriods);
        return selftest::kUsage;
    }
    for (const Test& t : kTests)
        if (strcmp(argv[1], t.name) == 0)
            return report(t, static_cast<unsigned>(period_ms), static_cast<unsigned>(periods),
                          sleep_until);
    printk("tm: no test '%s' (tm -l lists them)\n", argv[1]);
    return 1;
}

}  // namespace rtos::thread_metric

int rtos::selftest::thread_metric(int argc, char** argv, SleepFn sleep_until) {
    return rtos::thread_metric::run_command(argc, argv, sleep_until);
}
