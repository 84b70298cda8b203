"""Reliability (docs/reliability.md): UART input that loses nothing, the
watchdogs, virtio device failure recovery through real QEMU."""
import os
import random
import re
import shutil
import tempfile
import time
import zlib

import pytest
from conftest import BSPS, build
from qmp import QMP, qmp_args

WATCHDOG_PERIOD_S = 10  # CONFIG_WATCHDOG_I6300ESB_TIMEOUT_MS's default


@pytest.fixture
def qmp_path():
    d = tempfile.mkdtemp(prefix='rel', dir='/tmp')  # unix socket paths are short
    yield os.path.join(d, 'qmp')
    shutil.rmtree(d, ignore_errors=True)


def paste(g, data, chunk=4096):
    """Writes all of data to the guest's console; a full UART (flow control)
    blocks the write until the guest has read."""
    fd = g.p.child_fd
    view = memoryview(data)
    while view:
        n = os.write(fd, view[:chunk])
        view = view[n:]


@pytest.mark.parametrize('bsp', BSPS)
def test_uart_paste_64k_arrives_intact(boot, bsp):
    """64 KiB of random printable text pasted at once into a reader that
    starts late (crc32's pause): the console's input ring holds 1 KiB, so
    this only passes when the UART is held (receive interrupt masked, bytes
    left in its FIFO, QEMU holding the rest) while the ring is full."""
    build(bsp)
    g = boot(bsp)
    rnd = random.Random(21)
    alphabet = bytes(range(0x20, 0x7f))
    data = bytes(rnd.choice(alphabet) for _ in range(64 * 1024))
    g.send('crc32 500\r')
    g.expect(r'crc32 500\r*\n')
    paste(g, data + b'\x04')
    g.expect(r'crc32: (\d+) bytes crc32=([0-9a-f]{8})', timeout=120)
    n, crc = int(g.p.match.group(1)), int(g.p.match.group(2), 16)
    assert (n, crc) == (len(data), zlib.crc32(data)), (n, hex(crc))
    g.wait_prompt()
    assert g.run('echo still here').strip() == 'still here'


@pytest.mark.parametrize('bsp', BSPS)
def test_hardware_watchdog_fed_while_healthy_fires_on_hang(boot, qmp_path, bsp):
    """i6300esb: the kernel feeds it for longer than its period (no WATCHDOG
    event, the feed count grows); `hang` masks interrupts and spins, nothing
    feeds it, and QEMU's watchdog action (pause here) fires."""
    build(bsp)
    g = boot(bsp, wait_prompt=False,
             extra=['-device', 'i6300esb', '-action', 'watchdog=pause'] + qmp_args(qmp_path))
    g.expect(r'watchdog: i6300esb [0-9a-f]{2}:[0-9a-f]{2}\.\d period 10000 ms, fed every 2500 ms')
    g.wait_prompt()
    q = QMP(qmp_path)
    try:
        start = time.monotonic()
        first = int(re.search(r'fed (\d+) times', g.run('watchdog')).group(1))
        # Longer than one period, busy: the guest stays fed.
        while time.monotonic() - start < WATCHDOG_PERIOD_S * 1.2:
            assert g.run('echo alive').strip() == 'alive'
            time.sleep(0.5)  # a healthy system idles; polling faster only loads the host
        out = g.run('watchdog')
        fed = int(re.search(r'fed (\d+) times', out).group(1))
        assert fed >= first + 4, out
        assert q.command('query-status')['status'] == 'running'
        assert not [e for e in q.events if e['event'] == 'WATCHDOG'], q.events
        g.send('hang\r')
        g.expect('hang: interrupts masked')
        e = q.wait_event('WATCHDOG', timeout=WATCHDOG_PERIOD_S * 3)
        assert e['data']['action'] == 'pause', e
        assert q.command('query-status')['status'] == 'watchdog'
    finally:
        q.close()


@pytest.mark.parametrize('bsp', BSPS)
def test_software_watchdog_names_the_thread(boot, bsp):
    """A thread registered with the software watchdog stops checking in
    (`hang thread`: the shell spins with interrupts on): the watchdog names
    it and panics (CONFIG_RTOS_WATCHDOG_ACTION_PANIC), QEMU ends with status 1."""
    build(bsp)
    g = boot(bsp)
    assert 'threads watched: 0' in g.run('watchdog')
    g.send('hang thread\r')
    g.expect("hang: thread 'shell' stops checking in")
    g.expect(r"watchdog: thread 'shell' missed its check-in \(period 200 ms, \d+ ms late\)")
    g.expect(r"PANIC: watchdog: thread 'shell' stopped checking in")
    assert g.wait_exit() == 1
