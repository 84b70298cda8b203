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
from conftest import BSPS, build, paste_64k_arrives_intact, ubsan_build, virtio_dev, virtio_kw
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
    """The UART is held (receive interrupt masked, bytes left in its FIFO,
    QEMU holding the rest) while the console's input ring is full
    (virtio-console port 0: test_console.py's
    test_console_port0_paste_64k_arrives_intact)."""
    build(bsp)
    g = boot(bsp)
    paste_64k_arrives_intact(g, lambda data: paste(g, data))


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
        assert fed >= first + 3, out  # every 2.5 s; the host may be slow
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


@pytest.mark.parametrize('bsp,mode', [('qemu-virt64-riscv', 'modern'),
                                      ('qemu-virt64-aarch64', 'pci')],
                         ids=['riscv-modern', 'aarch64-pci'])
def test_blk_stalled_device_is_reset_and_reinitialised(boot, tmp_path, qmp_path, bsp, mode):
    """A disk (blkdebug over a raw image) that stops completing: QEMU 7.2's
    blkdebug has no delay rule, so QMP throttles the drive to 512 bytes/s
    mid-run (a 128 KiB request would take minutes). The guest's request
    times out (CONFIG_VIRTIO_BLK_TIMEOUT_MS), fails with an error instead of
    hanging, the device is reset and initialised again (aarch64 over
    virtio-pci: its MSI-X vectors too); with the throttle lifted the same
    disk reads back the right data."""
    out = build(bsp)
    img = tmp_path / 's.img'
    rnd = random.Random(7)
    data = bytes(rnd.getrandbits(8) for _ in range(1 << 20))
    img.write_bytes(data)
    conf = tmp_path / 'blkdebug.conf'
    conf.write_text('')  # no rule: the blkdebug layer passes requests through
    g = boot(bsp, out, **virtio_kw(mode),
             extra=['-drive', f'file=blkdebug:{conf}:{img},format=raw,if=none,id=s0',
                    '-device', virtio_dev('blk', mode) + ',drive=s0'] + qmp_args(qmp_path))
    q = QMP(qmp_path)
    try:
        crc = f'{zlib.crc32(data):08x}'
        assert f'crc32={crc}' in g.run('blk crc 0 2048')
        throttle = dict(device='s0', bps=0, bps_rd=0, bps_wr=0, iops=0, iops_rd=0, iops_wr=0)
        q.command('block_set_io_throttle', **dict(throttle, bps=512))
        out_ = g.run('blk crc 0 2048', timeout=60)
        assert 'blk: read on vda failed: timeout' in out_, out_
        log = g.output()
        assert re.search(r'vda: request timed out; device reset, \d+ requests failed, '
                         r're-initialised', log), log[-2000:]
        assert g.run('echo still here').strip() == 'still here'
        q.command('block_set_io_throttle', **throttle)
        assert f'crc32={crc}' in g.run('blk crc 0 2048')
        assert 'stamped 8 sectors' in g.run('blk stamp 300 8')
    finally:
        q.close()
    g.send('poweroff\r')
    assert g.wait_exit() == 0


# ---- the on-target UBSan build (CONFIG_RTOS_UBSAN) ----


@pytest.mark.parametrize('bsp', BSPS)
def test_ubsan_ktest_clean(boot, bsp):
    """The ktest suite in the sanitized image: every test passes and no
    `ubsan:` report (which would panic) appears. Under -icount, as
    test_ktest.py runs it, so the timing tests measure the kernel. Then
    `ktest-ubsan` overflows an int on purpose: the report names the kind
    and the source line, and the kernel panics."""
    out = ubsan_build(bsp)
    g = boot(bsp, out, extra=['-icount', 'shift=4,sleep=off'], timeout=60)
    res = g.run('ktest', timeout=600)
    assert re.search(r'^ktest: \d+ passed, 0 failed$', res, re.M), res[-3000:]
    assert 'ubsan:' not in g.output()
    # The handlers work: a deliberate INT_MAX + 1 is reported where it is, and panics.
    g.send('ktest-ubsan\r')
    g.expect(r'ubsan: signed integer overflow in \+ at rtos/ktest/runner\.cpp:\d+:\d+')
    g.expect(r"PANIC: ubsan: signed integer overflow in \+ at rtos/ktest/runner\.cpp:\d+:\d+")
    g.expect(r"thread: ubsan")
    assert g.wait_exit() == 1
