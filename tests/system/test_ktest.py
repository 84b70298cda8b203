"""The on-target kernel test suite (rtos/ktest/): `ktest` on both boards at
1000 Hz (the default build), 100 Hz, 10 kHz and with 256 priority levels, on
aarch64 also with a GICv3 and its ITS (what the MSI test needs), and
`ktest-overflow` (and on aarch64 `ktest-guard`, a store into the MMU guard
page below a stack), which must end in a stack-overflow panic and a failure
exit status.

The guests run under QEMU's instruction counting, `-icount shift=4,sleep=off`:
virtual time advances 16 ns per guest instruction instead of following the
host clock, and idle time is skipped. The timing tests (round-robin shares,
time slices, one-tick timeout accuracy, a timer's 100 fires per second) then
measure the kernel alone, not how busy the host is: without it a host
descheduling QEMU for a few milliseconds shows up as an unfair slice (seen on
aarch64 with other builds running). It also makes the run fast: the ~10 s of
guest time the suite spends takes ~1.5 s.
"""
import glob
import math
import os
import re
import subprocess
import sys
import time

import pytest
from conftest import BSPS, ROOT, build

ICOUNT = ['-icount', 'shift=4,sleep=off']
# Kernel configurations the suite runs on: the default build (1000 Hz, 32
# levels), 100 Hz, 10 kHz, and 256 priority levels.
CONFIGS = {
    '1000hz': (),
    '100hz': ('tests/configs/tick-100hz.conf',),
    '10khz': ('tests/configs/tick-10000hz.conf',),
    '256prio': ('tests/configs/priorities-256.conf',),
}


def registered_tests():
    """Every KTEST(name) / KTEST_C(name) in the sources, in no particular order."""
    names = []
    for path in sorted(glob.glob(os.path.join(ROOT, 'rtos', 'ktest', '*.c*'))):
        names += re.findall(r'^KTEST(?:_C)?\((\w+)\)', open(path).read(), re.M)
    return names


def thread_names(ps):
    """The live threads `ps` lists. An exited detached thread (main, right
    after boot) is listed until the idle thread reaps it: not counted."""
    rows = [line.split() for line in ps.splitlines()[1:] if line.strip()]
    return sorted(r[0] for r in rows if len(r) > 1 and r[1] != 'exited')


def build_for(bsp, config):
    if not CONFIGS[config]:
        return build(bsp)  # the board's default build (1000 Hz) has ktest
    return build(bsp, f'ktest-{bsp}-{config}', config=CONFIGS[config])


@pytest.mark.parametrize('config', list(CONFIGS))
@pytest.mark.parametrize('bsp', BSPS)
def test_ktest_passes(boot, bsp, config):
    g = boot(bsp, build_for(bsp, config), extra=ICOUNT)
    out = run_ktest(g, bsp, config)
    # riscv64 has no MSI controller: the MSI tests pass without testing
    # anything; aarch64's default GICv2 has its GICv2m frame.
    if 'riscv' in bsp:
        assert 'no MSI controller: nothing to test' in out
    else:
        assert re.search(r'^  gic-v2m: irqs \d+ \d+, messages 0x8020040 <- ', out, re.M), out
    power_off(g)


def test_ktest_passes_gicv3_its(boot):
    """aarch64 with a GICv3 and its ITS: the MSI tests allocate two LPIs, raise
    them by stores to GITS_TRANSLATER and check that disable() holds one."""
    bsp = 'qemu-virt64-aarch64'
    g = boot(bsp, build(bsp), machine_opts='gic-version=3', extra=ICOUNT, wait_prompt=False)
    boot_log = g.expect(r'gic-v3-its: @0x8080000 lpis (\d+) \(intid 8192-(\d+), '
                        r'irq (\d+)-(\d+)\) devices 8192')
    m = re.search(r'lpis (\d+) \(intid 8192-(\d+), irq (\d+)-(\d+)\)', boot_log)
    lpis, last_intid, first_irq, last_irq = map(int, m.groups())
    assert last_intid == 8191 + lpis and last_irq - first_irq == lpis - 1, boot_log
    g.wait_prompt()
    out = run_ktest(g, bsp, 'gicv3')
    # Events 0 and 1 of device ID 0 (QEMU's ITS takes a CPU store as from
    # requester ID 0).
    m = re.search(r'^  gic-v3-its: irqs (\d+) (\d+), messages 0x8090040 <- 0, 0x8090040 <- 0x1$',
                  out, re.M)
    assert m and all(first_irq <= int(i) <= last_irq for i in m.groups()), out
    # A second run reuses the interrupts (they are never returned).
    out = g.run('ktest msi', timeout=60)
    assert re.search(r'^ktest: 2 passed, 0 failed$', out, re.M), out
    assert 'irqs' not in out, out  # printed when allocated, the first time only
    power_off(g)


@pytest.mark.parametrize('opts,line', [
    ('gic-version=3,its=off', 'gic-v3-its: none in the device tree: no MSIs'),
    ('gic-version=3,secure=on', 'gic-v3-its: @0x8080000 refused: the kernel runs in the secure '
                                'state and LPIs are non-secure: no MSIs'),
])
def test_gicv3_without_its_has_no_msi_controller(boot, opts, line):
    """A GICv3 without an ITS, or one the kernel cannot use: the boot line says
    why, and the MSI test finds no MSI controller."""
    bsp = 'qemu-virt64-aarch64'
    g = boot(bsp, build(bsp), machine_opts=opts, extra=ICOUNT, wait_prompt=False)
    g.expect(re.escape(line))
    g.wait_prompt()
    out = g.run('ktest msi', timeout=60)
    assert 'no MSI controller: nothing to test' in out, out
    assert re.search(r'^ktest: 2 passed, 0 failed$', out, re.M), out
    power_off(g)


def run_ktest(g, bsp, config, host_clock=False):
    """Runs the whole suite in guest `g` and checks that every registered test
    passed and the kernel is intact afterwards; returns the output.
    host_clock: QEMU runs without -icount (`ktest -w`, docs/testing.md)."""
    expected = registered_tests()
    assert len(expected) == len(set(expected)), 'duplicate ktest names'
    threads_before = thread_names(g.run('ps'))
    # main may still be finishing on another CPU when the prompt appears
    # (on the host's clock): the threads to compare with are those after it.
    deadline = time.time() + 10
    while 'main' in threads_before and time.time() < deadline:
        time.sleep(0.2)
        threads_before = thread_names(g.run('ps'))
    out = g.run('ktest -w' if host_clock else 'ktest', timeout=180)
    lines = [line for line in out.splitlines() if line.strip()]
    report = '\n'.join(line for line in lines if line.startswith(('[', ' ', 'ktest:')))
    assert lines, 'ktest printed nothing'
    m = re.fullmatch(r'ktest: (\d+) passed, (\d+) failed', lines[-1])
    assert m, f'last line is not the summary:\n{report}'
    passed, failed = int(m.group(1)), int(m.group(2))
    assert failed == 0, f'{failed} kernel test(s) failed on {bsp} ({config}):\n{report}'
    assert passed == len(expected), \
        f'{passed} tests passed, {len(expected)} are registered:\n{report}'
    passes = re.findall(r'^\[ PASS \] (\w+) \((\d+) (ticks?)\)$', out, re.M)
    ran = {name for name, _, _ in passes}
    # "(1 tick)", "(N ticks)"
    assert all((n == '1') == (word == 'tick') for _, n, word in passes), report
    assert ran == set(expected), f'missing: {sorted(set(expected) - ran)}\n{report}'
    # The kernel is intact afterwards: the threads are those it had before.
    ps = g.run('ps')
    assert thread_names(ps) == threads_before, ps
    return out


def power_off(g):
    """Ends the guest; a kernel intact after its tests exits cleanly."""
    g.send('poweroff\r')
    assert g.wait_exit() == 0


def expect_overflow_panic(g, command, thread):
    g.send(command + '\r')
    out = g.expect(rf"PANIC: stack overflow in thread '{thread}' \(stack \S+, sp \S+\)")
    # The report runs on a stack of its own, so what follows is intact too.
    out += g.expect(rf'thread: {thread}\s')
    status = g.wait_exit(timeout=30)
    assert status != 0, f'QEMU exited with status 0 after the panic:\n{out}'
    assert 'not caught' not in out


@pytest.mark.parametrize('bsp', BSPS)
def test_stack_overflow_panics(boot, bsp):
    g = boot(bsp, build_for(bsp, '1000hz'), extra=ICOUNT)
    expect_overflow_panic(g, 'ktest-overflow', 'overflow')


@pytest.mark.parametrize('bsp', [b for b in BSPS if 'aarch64' in b])
def test_guard_page_store_panics(boot, bsp):
    """A store just below a thread's stack, past its canary, hits the MMU
    guard page (CONFIG_RTOS_STACK_GUARD_PAGES, aarch64) and panics at once."""
    g = boot(bsp, build_for(bsp, '1000hz'), extra=ICOUNT)
    expect_overflow_panic(g, 'ktest-guard', 'guard')


def uptime(g):
    """`uptime`'s tick count and the counter window (in us) within which the
    guest saw it become current (system_commands.cpp: it waits for the tick
    interrupt to announce, and brackets that with counter readings)."""
    out = g.run('uptime')
    m = re.search(r'up \d+\.\d{3} s, (\d+) ticks at (\d+) Hz '
                  r'\(counted at (\d+)\.(\d{6})-(\d+)\.(\d{6}) s\)', out)
    assert m, f'no uptime line with a counter window: {out!r}'
    ticks, hz, s0, us0, s1, us1 = map(int, m.groups())
    return ticks, hz, s0 * 10**6 + us0, s1 * 10**6 + us1


@pytest.mark.parametrize('clock', ['icount', 'host-loaded'])
@pytest.mark.parametrize('bsp', BSPS)
def test_ticks_agree_with_the_counter(boot, bsp, clock):
    """The tick count follows the hardware counter (`uptime` prints both),
    also when QEMU runs late: without -icount the counter is host time, and
    two busy processes compete with QEMU for the CPU meanwhile. The guest
    idles (tickless) between the two readings."""
    g = boot(bsp, build(bsp), extra=ICOUNT if clock == 'icount' else [])
    hogs = []
    try:
        if clock == 'host-loaded':
            hogs = [subprocess.Popen([sys.executable, '-c', 'while True: pass']) for _ in range(2)]
        ticks0, hz, a0, b0 = uptime(g)
        time.sleep(3)
        ticks1, _, a1, b1 = uptime(g)
    finally:
        for h in hogs:
            h.kill()
            h.wait()
    # Each count was current at some counter time inside its window, when it
    # was floor((time - start) / period). No slack for host timing is needed:
    # however late QEMU runs, the bounds stay within a tick or two of exact,
    # so ticks lost or doubled when QEMU runs late show (the windows are tens
    # of microseconds wide: the guest retries one QEMU was descheduled in).
    period_us = 10**6 / hz
    lo = math.floor((a1 - b0) / period_us)
    hi = math.ceil((b1 - a0) / period_us)
    assert lo <= ticks1 - ticks0 <= hi, \
        f'{ticks1 - ticks0} ticks between counter windows {a0}-{b0} us and {a1}-{b1} us at {hz} Hz'
    assert hi - lo <= 3, f'windows too wide to tell a lost tick: {a0}-{b0} us, {a1}-{b1} us'
    assert ticks1 - ticks0 > 0


@pytest.mark.parametrize('cpu,source', [(None, 'sstc'), ('rv64,sstc=off', 'sbi')])
def test_riscv64_timer_source(boot, cpu, source):
    """The riscv64 tick writes stimecmp itself when the hart has Sstc and
    falls back to SBI calls when it has not (the boot probe); either way the
    tick and timeout tests pass."""
    bsp = 'qemu-virt64-riscv'
    g = boot(bsp, build(bsp), wait_prompt=False, cpu=cpu, extra=ICOUNT)
    out = g.expect(r'tick: \d+ Hz via (\w+)')
    assert re.search(r'via ' + source + r'\b', out), out
    g.wait_prompt()
    out = g.run('ktest tick', timeout=120)
    assert re.search(r'^ktest: [1-9]\d* passed, 0 failed$', out, re.M), out
