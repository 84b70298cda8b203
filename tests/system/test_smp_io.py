"""Drivers at -smp 4 (docs/smp.md, "Driver locks"): threads pinned to every
CPU push real data through real QEMU devices at once while the completion
interrupt runs on whichever CPU its line goes to, checked from the host.

- virtio-blk: `blk stress` pins its threads round robin over the CPUs (the
  line names the CPUs that submitted); on one request queue shared by the
  four CPUs (MMIO), and on two queues (PCI, num-queues=2: two CPUs per
  queue). Every sector read back is checked by the guest, every sector
  written by the host afterwards.
- virtio-blk multiqueue, a queue per CPU (num-queues=4): over PCI MSI-X
  (GICv2m, GICv3 ITS) each queue's vector goes to its CPU (`irq-cpus
  0,1,2,3` on the boot line) and `virtio stat` shows every queue's
  interrupts ran there and nowhere else; over one line (MMIO on both
  boards, INTx through the riscv64 PLIC) the boot line names the line's CPU
  and every queue's completions, all taken there, still wake their
  waiters on the other CPUs.

Without -icount (multi-threaded TCG, the vCPUs in parallel), on both
boards. Under -icount with sleep=off, when every CPU idles waiting for the
host to finish a disk request, QEMU jumps the clock to the next timer,
which can be the driver's 10 s request timeout (these cases failed that way
about 1 run in 5). Four vCPUs on this 2-core host used to crawl without
-icount, every CPU spinning on the kernel lock behind a descheduled waiter,
until the spinlock stopped queueing waiters at once (docs/smp.md, "Locks").

- virtio-console: `vcon stress` writes lines to a named port from threads
  pinned one per CPU while the transmit interrupt reclaims buffers wherever
  its line goes; the host reads the socket and finds every thread's lines
  whole, in order, byte for byte.
- virtio-rng: `random -t` reads from threads pinned one per CPU at once;
  each piece is put back at its offset in the stream, and the CRC-32 of the
  whole must be that of the host's file at that offset.

These two boot both boards without -icount: the vCPUs run in parallel."""
import random
import re
import shutil
import tempfile
import threading
import zlib

import pytest
from conftest import BSPS, arch_name, build, virtio_dev, virtio_kw
from test_blk import SECTOR, make_image, stamp
from test_console import connect, recv_exactly, wait_listing
from test_smp import MULTI


def boot4(boot, bsp, extra, **kw):
    """A guest with 4 CPUs online at the prompt, and its boot log."""
    g = boot(bsp, build(bsp), smp=4, extra=MULTI + extra, wait_prompt=False, **kw)
    log = g.wait_prompt(timeout=60)
    assert re.search(r'^smp: 4 cpus online', log, re.M), log
    return g, log

BLK_CASES = [
    pytest.param('qemu-virt64-aarch64', 'modern', 1, id='aarch64-mmio-1queue'),
    pytest.param('qemu-virt64-riscv', 'modern', 1, id='riscv-mmio-1queue'),
    pytest.param('qemu-virt64-aarch64', 'pci', 2, id='aarch64-pci-2queues'),
]


@pytest.mark.parametrize('bsp,mode,queues', BLK_CASES)
def test_blk_stress_from_every_cpu(boot, tmp_path, bsp, mode, queues):
    img = str(tmp_path / 'smp.img')
    data = make_image(img, 2 << 20, 19)
    props = f',num-queues={queues}' if queues > 1 else ''
    g, log = boot4(boot, bsp, ['-drive', f'file={img},if=none,format=raw,id=d0',
                               '-device', f'{virtio_dev("blk", mode)},drive=d0{props}'],
                   **virtio_kw(mode))
    assert re.search(rf'vda \d+ sectors queues {queues}\b', log), log
    stress = g.run('blk stress 8 60', timeout=120)
    m = re.search(r'blk stress: 8 threads x 60 reads, (\d+) requests \((\d+) writes, 480 reads\), '
                  r'0 errors, cpus 0x([0-9a-f]+)', stress)
    assert m and int(m.group(1)) == int(m.group(2)) + 480, stress
    assert int(m.group(3), 16) == 0xf, stress  # every CPU submitted
    g.send('poweroff\r')
    assert g.wait_exit() == 0
    want = bytearray(data)
    m = re.search(r'scratch lba (\d+) count (\d+)', stress)
    for lba in range(int(m.group(1)), int(m.group(1)) + int(m.group(2))):
        want[lba * SECTOR:(lba + 1) * SECTOR] = stamp(lba)
    assert open(img, 'rb').read() == bytes(want)


GICV3 = {'cpu': 'cortex-a72', 'machine_opts': 'gic-version=3'}
MQ_CASES = [
    pytest.param('qemu-virt64-aarch64', 'pci-modern', {}, 'msix', id='aarch64-pci-gicv2m'),
    pytest.param('qemu-virt64-aarch64', 'pci-modern', GICV3, 'msix', id='aarch64-pci-its'),
    pytest.param('qemu-virt64-aarch64', 'modern', {}, 'line', id='aarch64-mmio'),
    pytest.param('qemu-virt64-riscv', 'modern', {}, 'line', id='riscv64-mmio'),
    pytest.param('qemu-virt64-riscv', 'pci-modern', {}, 'line', id='riscv64-pci-intx'),
]


@pytest.mark.parametrize('bsp,mode,machine,irq', MQ_CASES)
def test_blk_queue_per_cpu(boot, tmp_path, bsp, mode, machine, irq):
    img = str(tmp_path / 'mq.img')
    data = make_image(img, 2 << 20, 23)
    g, log = boot4(boot, bsp, ['-drive', f'file={img},if=none,format=raw,id=d0',
                               '-device', f'{virtio_dev("blk", mode)},drive=d0,num-queues=4'],
                   **machine, **virtio_kw(mode))
    if irq == 'msix':  # configuration + a vector per queue, each on its queue's CPU
        assert re.search(r' msix 5 .* vda \d+ sectors queues 4 irq-cpus 0,1,2,3 features ', log), log
        line_cpu = None
    else:
        m = re.search(r' irq \d+ .* vda \d+ sectors queues 4 \(one irq, cpu ([0-3])\) features ', log)
        assert m, log
        line_cpu = int(m.group(1))
    g.run('virtio stat -r')
    stress = g.run('blk stress 8 60', timeout=180)
    m = re.search(r'blk stress: 8 threads x 60 reads, (\d+) requests \((\d+) writes, 480 reads\), '
                  r'0 errors, cpus 0xf', stress)
    assert m and int(m.group(1)) == int(m.group(2)) + 480, stress
    stat = re.findall(r'^virtio-blk\S* q(\d) kicks=\d+ suppressed=\d+ irqs=(\d+) used=(\d+) '
                      r'inflight_max=\d+ irq_cpus=0x([0-9a-f]+)$', g.run('virtio stat'), re.M)
    assert [q for q, *_ in stat] == ['0', '1', '2', '3'], stat
    for q, irqs, used, cpus in stat:
        assert int(used) > 0 and int(irqs) > 0, stat  # every CPU's queue carried requests
        # Where its completions were taken: its own CPU, or the line's.
        assert int(cpus, 16) == 1 << (int(q) if line_cpu is None else line_cpu), stat
    g.send('poweroff\r')
    assert g.wait_exit() == 0
    want = bytearray(data)
    m = re.search(r'scratch lba (\d+) count (\d+)', stress)
    for lba in range(int(m.group(1)), int(m.group(1)) + int(m.group(2))):
        want[lba * SECTOR:(lba + 1) * SECTOR] = stamp(lba)
    assert open(img, 'rb').read() == bytes(want)


def boot4_free(boot, bsp, extra):
    """A guest with 4 CPUs online at the prompt, without -icount."""
    g = boot(bsp, build(bsp), smp=4, extra=extra, wait_prompt=False)
    log = g.wait_prompt(timeout=90)
    assert re.search(r'^smp: 4 cpus online', log, re.M), log
    return g


def stress_line(t, j):
    """Line j of thread t of `vcon stress` (vcon_commands.cpp stress_line)."""
    x = (t * 1000003 + j + 1) & 0xffffffff
    letters = []
    for _ in range(40):
        x ^= (x << 13) & 0xffffffff
        x ^= x >> 17
        x ^= (x << 5) & 0xffffffff
        letters.append(chr(ord('a') + x % 26))
    return f't{t} {j} {"".join(letters)}\n'.encode()


@pytest.fixture
def sockdir():
    d = tempfile.mkdtemp(prefix='vsmp', dir='/tmp')  # socket paths: 108 bytes at most
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.mark.parametrize('bsp', BSPS, ids=arch_name)
def test_console_port_writers_on_every_cpu(boot, sockdir, bsp):
    threads, lines = 4, 500
    g = boot4_free(boot, bsp, ['-device', 'virtio-serial-device',
                               '-chardev', f'socket,path={sockdir}/s,server=on,wait=off,id=s',
                               '-device', 'virtserialport,chardev=s,name=org.rtos.stress'])
    want = {t: b''.join(stress_line(t, j) for j in range(lines)) for t in range(threads)}
    total = sum(len(v) for v in want.values())
    s = connect(f'{sockdir}/s')
    try:
        wait_listing(g, r'^0\s+1\s+org\.rtos\.stress\s+open\s', 'the host open')
        got = []
        reader = threading.Thread(target=lambda: got.append(recv_exactly(s, total)))
        reader.start()
        out = g.run(f'vcon stress org.rtos.stress {threads} {lines}', timeout=240)
        reader.join(120)
    finally:
        s.close()
    # On failure, the queues' counters (a stall: the device kept the
    # transmit buffers, or returned them unseen) go into the message.
    assert (f'vcon stress: {threads} threads x {lines} lines, {total} bytes to org.rtos.stress, '
            '0 errors, cpus 0xf') in out, out + g.run('virtio stat') + g.run('vcon list')
    assert got, 'the host did not receive every byte'
    per = {t: [] for t in range(threads)}
    for line in got[0].splitlines(keepends=True):
        per[int(line.split(b' ', 1)[0][1:])].append(line)
    for t in range(threads):
        assert b''.join(per[t]) == want[t], t
    m = re.search(r'^0\s+1\s+org\.rtos\.stress\s+\w+\s+\w+\s+\d+\s+(\d+)', g.run('vcon list'),
                  re.M)
    assert m and int(m.group(1)) == total


@pytest.mark.parametrize('bsp', BSPS, ids=arch_name)
def test_rng_readers_on_every_cpu(boot, tmp_path, bsp):
    path = tmp_path / 'entropy.bin'
    data = random.Random(23).randbytes(1 << 20)  # far more than is read (rng-random)
    path.write_bytes(data)
    g = boot4_free(boot, bsp, ['-object', f'rng-random,filename={path},id=rng0',
                               '-device', 'virtio-rng-device,rng=rng0'])
    n, expected = 100003, 0
    for _ in range(2):
        out = g.run(f'random -t 4 {n}', timeout=240)
        m = re.search(r'random: (\d+) bytes at offset (\d+) crc32=([0-9a-f]{8}) first'
                      r'((?: [0-9a-f]{2})+); 4 threads, cpus 0x([0-9a-f]+)', out)
        assert m and int(m.group(1)) == n, out
        offset = int(m.group(2))
        assert offset == expected, out  # nothing else reads the stream
        chunk = data[offset:offset + n]
        assert int(m.group(3), 16) == zlib.crc32(chunk), out
        assert bytes.fromhex(m.group(4).replace(' ', '')) == chunk[:16]
        assert int(m.group(5), 16) == 0xf, out  # every CPU read
        expected = offset + n
