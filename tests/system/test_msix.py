"""MSI-X over virtio-pci (CONFIG_PCI_MSIX) on aarch64, whose virt board has an
MSI controller: the GICv2m frame of the default GICv2, and the GICv3 ITS
(gic-version=3, where a wrong requester ID would make the ITS drop every
message). One machine per controller holds a modern disk (MSI-X table of 2:
configuration + its queue, `msix 2`), a legacy-only disk (MSI-X moves its
configuration behind the vector registers: its capacity must still read
right), a disk without an MSI-X table (`vectors=0`: INTx, and a line saying
why) and a virtio-net with a 2-entry table (its receive and transmit queues share
vector 1). Sectors stamped through each disk are checked in its image from
the host, each queue's interrupt count (`virtio stat`) shows its completions
arrived by interrupt, and `lspci` shows the vectors. riscv64 (PLIC, no MSI
controller) and an aarch64 build with CONFIG_PCI_MSIX=n keep INTx."""
import re

import pytest
from conftest import build, check_features, expected_features

BSP = 'qemu-virt64-aarch64'
SECTOR = 512
DISK_SECTORS = 2048
CONTROLLERS = [
    pytest.param({}, 'gic-v2m', id='gicv2m'),
    pytest.param({'cpu': 'cortex-a72', 'machine_opts': 'gic-version=3'}, 'gic-v3-its', id='its'),
]
BDF = r'([0-9a-f]{2}:[0-9a-f]{2}\.[0-7])'


def stamp(lba):
    """What `blk stamp` writes into a sector: its LBA, 64 times."""
    return lba.to_bytes(8, 'little') * 64


@pytest.mark.parametrize('machine,controller', CONTROLLERS)
def test_virtio_pci_over_msix(boot, tmp_path, machine, controller):
    disks = {name: str(tmp_path / f'{name}.img') for name in ('modern', 'legacy', 'intx')}
    for path in disks.values():
        with open(path, 'wb') as f:
            f.truncate(DISK_SECTORS * SECTOR)
    options = {'modern': 'disable-legacy=on', 'legacy': 'disable-modern=on',
               'intx': 'disable-legacy=on,vectors=0'}
    extra = []
    for name, path in disks.items():
        extra += ['-drive', f'file={path},if=none,format=raw,id={name}',
                  '-device', f'virtio-blk-pci,drive={name},{options[name]},serial={name}']
    extra += ['-netdev', 'user,id=n0', '-device',
              'virtio-net-pci,netdev=n0,vectors=2,romfile=,disable-legacy=on']
    g = boot(BSP, build(BSP), wait_prompt=False, extra=extra, **machine)
    log = g.wait_prompt()
    assert re.search(rf'{controller}: ', log), log

    found = {}
    for m in re.finditer(r'virtio-blk: pci (modern|legacy) ' + BDF +
                         rf' (irq \d+|msix \d+) queue \d+ ring split (vd[a-c]) {DISK_SECTORS} sectors',
                         log):
        found[m.group(4)] = (m.group(1), m.group(2), m.group(3))
    assert len(found) == 3, log
    by_kind = {}
    for disk, (interface, bdf, interrupt) in found.items():
        kind = 'legacy' if interface == 'legacy' else ('intx' if interrupt.startswith('irq') else 'modern')
        by_kind[kind] = (disk, bdf, interrupt)
    assert sorted(by_kind) == ['intx', 'legacy', 'modern'], found
    assert by_kind['modern'][2] == 'msix 2' and by_kind['legacy'][2] == 'msix 2', found
    assert f'virtio-pci {by_kind["intx"][1]}: INTx, not MSI-X: no MSI-X capability' in log
    # rx and tx on the one queue vector of a 2-entry table.
    assert re.search(r'virtio-net: pci modern ' + BDF + r' msix 2 queue ', log), log
    # MSI-X changes nothing of what is negotiated.
    check_features(log, 'virtio-blk', 'pci-modern', expected_features('virtio-blk', 'pci-modern'), count=2)
    check_features(log, 'virtio-blk', 'pci-legacy', expected_features('virtio-blk', 'pci-legacy'))
    check_features(log, 'virtio-net', 'pci-modern', expected_features('virtio-net', 'pci-modern'))

    lspci = g.run('lspci')
    for kind, (_, bdf, _) in by_kind.items():
        line = next(l for l in lspci.splitlines() if l.startswith(bdf))
        assert (' msix 2 driver ' in line) == (kind != 'intx'), line

    g.run('virtio stat -r')
    for kind, (disk, _, _) in by_kind.items():
        lba = {'modern': 100, 'legacy': 200, 'intx': 300}[kind]
        assert 'stamped 4 sectors' in g.run(f'blk -d {disk} stamp {lba} 4', timeout=60)
    stat = g.run('virtio stat')
    for kind, (_, bdf, _) in by_kind.items():
        m = re.search(rf'virtio-blk@{re.escape(bdf)} q0 kicks=(\d+) \S+ irqs=(\d+) used=(\d+)', stat)
        assert m, stat
        kicks, irqs, used = map(int, m.groups())
        # Every request completed through an interrupt (a lost vector would
        # hang the write; polling would count no interrupts).
        assert used >= 1 and irqs >= 1 and irqs <= used, (kind, stat)
    g.send('poweroff\r')
    assert g.wait_exit() == 0
    for kind, path in disks.items():
        lba = {'modern': 100, 'legacy': 200, 'intx': 300}[kind]
        img = open(path, 'rb').read()
        assert img[lba * SECTOR:(lba + 4) * SECTOR] == b''.join(stamp(l) for l in range(lba, lba + 4)), kind


@pytest.mark.parametrize('bsp,config', [
    pytest.param('qemu-virt64-riscv', (), id='riscv64'),
    pytest.param('qemu-virt64-aarch64', ('tests/configs/pci-intx.conf',), id='aarch64-msix-off'),
])
def test_intx_without_msix(boot, tmp_path, bsp, config):
    """No MSI-X where the platform has no MSI controller (riscv64's PLIC) or
    CONFIG_PCI_MSIX is off (aarch64 with its GICv2m unused): a device with an
    MSI-X table uses its INTx line, and no fallback line is printed."""
    path = str(tmp_path / 'd.img')
    with open(path, 'wb') as f:
        f.truncate(DISK_SECTORS * SECTOR)
    out = build(bsp, f'pci-intx-{bsp}', config=config) if config else build(bsp)
    g = boot(bsp, out, wait_prompt=False,
             extra=['-drive', f'file={path},if=none,format=raw,id=d0',
                    '-device', 'virtio-blk-pci,drive=d0,disable-legacy=on'])
    log = g.wait_prompt()
    assert re.search(r'virtio-blk: pci modern ' + BDF + r' irq \d+ queue ', log), log
    check_features(log, 'virtio-blk', 'pci-modern', expected_features('virtio-blk', 'pci-modern'))
    assert 'not MSI-X' not in log
    assert 'stamped 2 sectors' in g.run('blk stamp 7 2')
    assert ' msix ' not in g.run('lspci')
    g.send('poweroff\r')
    assert g.wait_exit() == 0
    assert open(path, 'rb').read()[7 * SECTOR:9 * SECTOR] == stamp(7) + stamp(8)
