"""The PCIe host bridge on real QEMU, checked from the host side: QEMU's
own view of the bus (QMP query-pci) must list exactly the functions
`lspci` shows, with the BAR addresses the guest programmed (QEMU reports
a BAR only once the guest assigned it and turned decoding on), the
interrupt line it wrote and the INTx routing of QEMU's interrupt-map.
Accesses through the BARs prove the CPU side of the windows: edu's ID and
liveness registers (32-bit window), a legacy virtio I/O BAR (I/O window)
and ivshmem's shared memory (64-bit window, above 512 GiB on aarch64) read
back from the host's file. Both
archs, default build."""
import re

import pytest
from conftest import BSPS, build
from qmp import QMP, qmp_args

# Functions at fixed slots: 00:05 is multi-function (pci-testdev + edu).
DEVICES = [
    '-drive', 'file=null-co://,if=none,format=raw,id=d0,read-only=on',
    '-device', 'virtio-blk-pci,drive=d0,addr=02.0',
    '-device', 'edu,addr=03.0',
    '-device', 'ivshmem-plain,memdev=shm,addr=04.0',
    '-device', 'pci-testdev,addr=05.0,multifunction=on',
    '-device', 'edu,addr=05.3',
]
EDU_ID = 0x010000ed
# First SPI / PLIC source of QEMU virt's four PCI INTx lines (hw/arm/virt.c
# VIRT_PCIE_IRQ 3 -> INTID 35; hw/riscv/virt.c PCIE_IRQ 0x20).
INTX_BASE = {'riscv': 32, 'aarch64': 35}


def arch(bsp):
    return 'riscv' if 'riscv' in bsp else 'aarch64'


def parse_lspci(out):
    funcs, cur = {}, None
    for line in out.splitlines():
        m = re.match(r'([0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) ([0-9a-f]{4}):([0-9a-f]{4}) class ([0-9a-f]{6})'
                     r' pin ([A-D-]) irq (\d+|-)(?: msix (\d+))? driver (\S+)$', line)
        if m:
            cur = funcs[m.group(1)] = {
                'vendor': int(m.group(2), 16), 'device': int(m.group(3), 16),
                'class': int(m.group(4), 16), 'pin': m.group(5),
                'irq': None if m.group(6) == '-' else int(m.group(6)),
                'msix': int(m.group(7)) if m.group(7) else 0, 'bars': {}}
            continue
        m = re.match(r'  bar(\d) (mem32|mem64|io)( pref)? 0x([0-9a-f]+) size 0x([0-9a-f]+)$', line)
        if m:
            cur['bars'][int(m.group(1))] = (m.group(2), bool(m.group(3)), int(m.group(4), 16),
                                            int(m.group(5), 16))
            continue
        assert line.strip() == '', f'unexpected lspci line {line!r}'
    return funcs


def parse_windows(log):
    m = re.search(r'pci: ecam @0x[0-9a-f]+ buses 00-(?:ff|0f)(.*)', log)
    assert m, log
    windows = {}
    for kind, base, size, bus in re.findall(r' (io|mem|mem64) 0x([0-9a-f]+)\+0x([0-9a-f]+)(?: pref)?'
                                            r'(?: \(bus 0x([0-9a-f]+)\))?', m.group(1)):
        b = int(bus or base, 16)
        windows[kind] = (b, int(size, 16))
    return windows


def query_pci(sock):
    """QEMU's view of every function (QMP query-pci), by "bus:dev.fn", each
    with 'parent': the bridge function it sits behind (None on the root bus)."""
    qmp = QMP(sock)
    try:
        buses = qmp.command('query-pci')
    finally:
        qmp.close()
    found = {}

    def walk(devices, parent):
        for d in devices:
            d['parent'] = parent
            found[f'{d["bus"]:02x}:{d["slot"]:02x}.{d["function"]:x}'] = d
            if 'pci_bridge' in d:
                walk(d['pci_bridge'].get('devices', []), d)
    for bus in buses:
        walk(bus['devices'], None)
    return found


def compare(bsp, lspci, qemu, windows):
    """lspci against QEMU: the same functions, ids and classes; every BAR
    QEMU decodes is one lspci shows at the same place (and back), naturally
    aligned, in the right window, behind bridges inside the bridge's
    window as QEMU decodes it, none overlapping; INTx as QEMU wires it."""
    assert set(qemu) == set(lspci), (sorted(qemu), sorted(lspci))
    placed = []
    for bdf, d in qemu.items():
        f = lspci[bdf]
        assert (f['vendor'], f['device']) == (d['id']['vendor'], d['id']['device']), bdf
        assert f['class'] >> 8 == d['class_info']['class'], bdf
        regions = {r['bar']: r for r in d['regions']}
        assert set(regions) == set(f['bars']), (bdf, regions, f['bars'])
        for i, r in regions.items():
            kind, pref, addr, size = f['bars'][i]
            assert (addr, size) == (r['address'], r['size']), (bdf, i, r, f['bars'][i])
            if r['type'] == 'io':
                assert kind == 'io', (bdf, i)
            else:
                assert kind == ('mem64' if r['mem_type_64'] else 'mem32'), (bdf, i)
                assert pref == r['prefetch'], (bdf, i)
            assert addr % size == 0, (bdf, i, hex(addr), hex(size))  # natural alignment
            parent = d['parent']
            if parent is None:
                # A 64-bit BAR goes to the 64-bit window, the 32-bit one without it.
                wkind = {'mem32': 'mem', 'mem64': 'mem64' if 'mem64' in windows else 'mem'}.get(kind, kind)
                base, wsize = windows[wkind]
                assert base <= addr and addr + size <= base + wsize, (bdf, i, hex(addr))
            else:
                b = parent['pci_bridge']['bus']
                ranges = [b['io_range']] if kind == 'io' else [b['memory_range'], b['prefetchable_range']]
                assert any(w['base'] <= addr and addr + size - 1 <= w['limit'] for w in ranges), \
                    (bdf, i, hex(addr), ranges)
            placed.append((kind == 'io', addr, size, bdf))
        # INTx: the line register the guest wrote; QEMU's wiring: each bridge
        # rotates the pin by the device number, the root bus by slot.
        pin = d.get('irq_pin', 0)
        if pin:
            assert f['pin'] == 'ABCD'[pin - 1], bdf
            at, p = d, pin
            while at['parent'] is not None:
                p = (p - 1 + at['slot']) % 4 + 1
                at = at['parent']
            expected = INTX_BASE[arch(bsp)] + (at['slot'] + p - 1) % 4
            assert f['irq'] == expected, (bdf, f, expected)
            assert d.get('irq') == expected & 0xff, (bdf, d)
        else:
            assert f['pin'] == '-' and f['irq'] is None, bdf
    placed.sort()
    for a, b in zip(placed, placed[1:]):
        assert a[0] != b[0] or a[1] + a[2] <= b[1], f'{a} overlaps {b}'


CASES = [(bsp, None) for bsp in BSPS] + [('qemu-virt64-aarch64', 'highmem=off')]


@pytest.mark.parametrize('bsp,machine_opts', CASES,
                         ids=[arch(b) + ('-' + o if o else '') for b, o in CASES])
def test_lspci_matches_qemu(boot, tmp_path, bsp, machine_opts):
    """highmem=off (aarch64): ECAM for 16 buses below 4 GiB and no 64-bit
    window, so 64-bit BARs go to the 32-bit window."""
    shm = tmp_path / 'ivshmem'
    shm.write_bytes(bytes(1 << 20))
    sock = tmp_path / 'qmp.sock'
    g = boot(bsp, build(bsp), wait_prompt=False, machine_opts=machine_opts, extra=[
        '-object', f'memory-backend-file,id=shm,share=on,mem-path={shm},size=1M',
        *DEVICES, *qmp_args(sock)])
    log = g.wait_prompt()
    windows = parse_windows(log)
    assert set(windows) == ({'io', 'mem'} if machine_opts else {'io', 'mem', 'mem64'}), log
    lspci = parse_lspci(g.run('lspci'))

    qemu = query_pci(sock)
    assert {'00:02.0', '00:03.0', '00:04.0', '00:05.0', '00:05.3'} <= set(lspci)
    compare(bsp, lspci, qemu, windows)
    # The 64-bit BARs used the 64-bit window, if there is one.
    assert lspci['00:04.0']['bars'][2][0] == 'mem64'
    base, wsize = windows['mem64' if 'mem64' in windows else 'mem']
    assert base <= lspci['00:04.0']['bars'][2][2] < base + wsize

    # Through the 32-bit window: edu's ID and its liveness register (~value).
    for edu in ('00:03.0', '00:05.3'):
        assert f'pci {edu} bar0+0x0 = 0x{EDU_ID:08x}' in g.run(f'pci read {edu} 0 0')
        g.run(f'pci write {edu} 0 4 0x12345678')
        assert f'pci {edu} bar0+0x4 = 0xedcba987' in g.run(f'pci read {edu} 0 4')
    # Through the I/O window: the transitional virtio-blk's legacy BAR 0
    # starts with the device features, which always hold NOTIFY_ON_EMPTY
    # and ANY_LAYOUT (bits 24, 27) on a legacy interface.
    assert lspci['00:02.0']['bars'][0][0] == 'io'
    m = re.search(r'pci 00:02\.0 bar0\+0x0 = 0x([0-9a-f]{8})', g.run('pci read 00:02.0 0 0'))
    assert m and int(m.group(1), 16) & 0x09000000 == 0x09000000, m
    # Through the 64-bit window: ivshmem's BAR 2 is the host file.
    for off, value in ((0, 0xcafef00d), (0xffffc, 0x5eed1234)):
        g.run(f'pci write 00:04.0 2 {off:#x} {value:#x}')
        assert int.from_bytes(shm.read_bytes()[off:off + 4], 'little') == value
    assert 'not an aligned 32-bit word inside bar 2' in g.run('pci read 00:04.0 2 0x100000')
    assert 'has no assigned bar 5' in g.run('pci read 00:04.0 5 0')
    assert 'no function 00:1f.0' in g.run('pci read 00:1f.0 0 0')


@pytest.mark.parametrize('bsp', BSPS, ids=arch)
def test_no_pci_devices(boot, bsp):
    """Only QEMU's host-bridge function: the bridge line, one function, no BARs."""
    g = boot(bsp, build(bsp), wait_prompt=False)
    log = g.wait_prompt()
    assert re.search(r'pci 00:00\.0 1b36:0008 class 060000 irq -', log), log
    lspci = parse_lspci(g.run('lspci'))
    assert list(lspci) == ['00:00.0'] and lspci['00:00.0']['bars'] == {}


@pytest.mark.parametrize('bsp', BSPS, ids=arch)
def test_bridges(boot, tmp_path, bsp):
    """Devices behind PCIe root ports and a PCI-PCI bridge: bus numbers,
    bridge windows and BARs as QEMU decodes them, and accesses forwarded
    through the bridges (edu's ID; ivshmem's file through a prefetchable
    window)."""
    shm = tmp_path / 'ivshmem'
    shm.write_bytes(bytes(1 << 20))
    sock = tmp_path / 'qmp.sock'
    g = boot(bsp, build(bsp), wait_prompt=False, extra=[
        '-object', f'memory-backend-file,id=shm,share=on,mem-path={shm},size=1M',
        '-device', 'pcie-root-port,id=rp1,chassis=1,addr=01.0',
        '-device', 'edu,bus=rp1',
        '-device', 'pci-bridge,id=br1,chassis_nr=2,addr=02.0',
        '-device', 'pci-testdev,bus=br1,addr=03.0',
        '-device', 'edu,bus=br1,addr=06.0',
        '-device', 'pcie-root-port,id=rp2,chassis=3,addr=03.0',
        '-device', 'ivshmem-plain,memdev=shm,bus=rp2',
        *qmp_args(sock)])
    log = g.wait_prompt()
    windows = parse_windows(log)
    lspci = parse_lspci(g.run('lspci'))
    qemu = query_pci(sock)
    assert {'01:00.0', '02:03.0', '02:06.0', '03:00.0'} <= set(lspci), lspci
    for bridge, bus in (('00:01.0', 1), ('00:02.0', 2), ('00:03.0', 3)):
        b = qemu[bridge]['pci_bridge']['bus']
        assert (b['number'], b['secondary'], b['subordinate']) == (0, bus, bus), (bridge, b)
        assert re.search(rf'pci {bridge}: bridge to bus {bus:02x}-{bus:02x}', log), log
    compare(bsp, lspci, qemu, windows)
    for edu in ('01:00.0', '02:06.0'):
        assert f'pci {edu} bar0+0x0 = 0x{EDU_ID:08x}' in g.run(f'pci read {edu} 0 0')
    kind, pref, addr, size = lspci['03:00.0']['bars'][2]
    assert kind == 'mem64' and pref and addr >= windows['mem64'][0]
    g.run('pci write 03:00.0 2 0x40 0xb21d6e00')
    assert int.from_bytes(shm.read_bytes()[0x40:0x44], 'little') == 0xb21d6e00
