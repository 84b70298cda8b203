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

Under -icount (deterministic, and no lock-holder preemption on this 2-core
host: tests/system/test_smp.py). riscv64 runs the one-queue MMIO case: it
used to stop with every CPU spinning on the kernel lock while the queued
waiter next in line waited for its round-robin turn, until the spinlock
stopped queueing waiters at once (docs/smp.md, "Locks").

The queue-per-CPU cases run without -icount (multi-threaded TCG), on both
boards: under -icount with sleep=off, when every CPU idles waiting for the
host to finish a disk request, QEMU jumps the clock to the next timer,
which can be the driver's 10 s request timeout (seen once in 20 runs)."""
import re

import pytest
from conftest import build, virtio_dev, virtio_kw
from test_blk import SECTOR, make_image, stamp
from test_smp import ICOUNT, MULTI


def boot4(boot, bsp, extra, clock=ICOUNT, **kw):
    """A guest with 4 CPUs online at the prompt, and its boot log."""
    g = boot(bsp, build(bsp), smp=4, extra=clock + extra, wait_prompt=False, **kw)
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
                   clock=MULTI, **machine, **virtio_kw(mode))
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
