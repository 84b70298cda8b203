"""Drivers at -smp 4 (docs/smp.md, "Driver locks"): threads pinned to every
CPU push real data through real QEMU devices at once while the completion
interrupt runs on whichever CPU its line goes to, checked from the host.

- virtio-blk: `blk stress` pins its threads round robin over the CPUs (the
  line names the CPUs that submitted); on one request queue shared by the
  four CPUs (MMIO), and on two queues (PCI, num-queues=2: two CPUs per
  queue). Every sector read back is checked by the guest, every sector
  written by the host afterwards.

Under -icount (deterministic, and no lock-holder preemption on this 2-core
host: tests/system/test_smp.py). riscv64 runs the one-queue MMIO case: it
used to stop with every CPU spinning on the kernel lock while the queued
waiter next in line waited for its round-robin turn, until the spinlock
stopped queueing waiters at once (docs/smp.md, "Locks")."""
import re

import pytest
from conftest import build, virtio_dev, virtio_kw
from test_blk import SECTOR, make_image, stamp
from test_smp import ICOUNT


def boot4(boot, bsp, extra, **kw):
    """A guest with 4 CPUs online at the prompt, and its boot log."""
    g = boot(bsp, build(bsp), smp=4, extra=ICOUNT + extra, wait_prompt=False, **kw)
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
