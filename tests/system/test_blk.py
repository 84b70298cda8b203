"""virtio-blk through real QEMU devices, checked from the host: the guest's
CRC of a random image must match zlib's, sectors it stamps must appear in
the image byte for byte with their neighbours untouched, on both archs,
legacy and modern, with two queue configurations; over virtio-pci
(modern-only, transitional, legacy-only), and a machine with a disk on each
transport. On a modern-only interface (MMIO modern, PCI modern) the first
disk offers the packed ring (packed=on) and the second keeps the split one.
Every boot line must name exactly the features QEMU offers and the build
asks for (as QEMU itself reports them over QMP), also with the ring features
turned off on the device. A multiqueue disk (num-queues) gets its queues, up
to CONFIG_VIRTIO_BLK_MAX_QUEUES."""
import os
import re
import zlib

import pytest
from conftest import (ALL_PCI_CASES, BSPS, boot_line, build, bsp_modes, check_features,
                      expected_features, ring_layout, virtio_dev, virtio_kw)
from qmp import QMP, qmp_args

SECTOR = 512
CONFIGS = {
    'default': (),  # queue 64, EVENT_IDX and indirect descriptors on
    'q16': ('tests/configs/blk-q16-plain-ring.conf',),
}
QUEUE = {'default': 64, 'q16': 16}


def arch(bsp):
    return 'riscv' if 'riscv' in bsp else 'aarch64'


def make_image(path, size, seed):
    import random
    rnd = random.Random(seed)
    data = bytes(rnd.getrandbits(8) for _ in range(size)) if size <= 65536 else \
        rnd.randbytes(size)
    with open(path, 'wb') as f:
        f.write(data)
    return data


def blk_build(bsp, config):
    if config == 'default':
        return build(bsp)
    return build(bsp, f'{arch(bsp)}-{config}', CONFIGS[config])


def stamp(lba):
    return lba.to_bytes(8, 'little') * 64


# Every MMIO mode with both queue configurations; over PCI (modern-only,
# transitional and legacy-only, both boards) the default one.
BLK_CASES = [pytest.param(*p.values, config, id=f'{p.id}-{config}')
             for config in CONFIGS for p in bsp_modes(pci_cases=())] + \
            [pytest.param(b, m, 'default', id=f'{arch(b)}-{m}')
             for b, m in ALL_PCI_CASES]
# The legacy virtio-pci interface cannot set a queue size: QEMU's is used.
QEMU_PCI_LEGACY_QUEUE = 256


@pytest.mark.parametrize('bsp, mode, config', BLK_CASES)
def test_blk_data_integrity(boot, tmp_path, bsp, mode, config):
    out = blk_build(bsp, config)
    a = str(tmp_path / 'a.img')
    b = str(tmp_path / 'b.img')
    data_a = make_image(a, 4 << 20, 1)
    data_b = make_image(b, 1 << 20, 2)
    dev = virtio_dev('blk', mode)
    packed_a = mode in ('modern', 'pci-modern')
    qmp_path = tmp_path / 'qmp'
    g = boot(bsp, out, wait_prompt=False, **virtio_kw(mode),
             extra=['-drive', f'file={a},if=none,format=raw,id=da',
                    '-device', f'{dev},drive=da,serial=TERN-A' + (',packed=on' if packed_a else ''),
                    '-drive', f'file={b},if=none,format=raw,id=db',
                    '-device', f'{dev},drive=db,serial=TERN-B'] + qmp_args(qmp_path))
    log = g.wait_prompt()
    # One boot line per device, with the words harnesses look for.
    lines = re.findall(boot_line('virtio-blk', mode) + r' (?:irq|msix) \d+ queue (\d+) '
                       r'ring (\w+) (vd[ab]) (\d+) sectors queues 1 features ', log)
    assert sorted(l[2] for l in lines) == ['vda', 'vdb'], log
    for q, ring, name, sectors in lines:
        assert int(q) == (QEMU_PCI_LEGACY_QUEUE if mode == 'pci-legacy' else QUEUE[config])
        assert ring == ('packed' if packed_a and name == 'vda' else 'split'), log
        assert int(sectors) == (len(data_a) if name == 'vda' else len(data_b)) // SECTOR
    # q16 is built without EVENT_IDX and indirect descriptors.
    qmp = QMP(qmp_path)
    words = expected_features('virtio-blk', mode, ring=config == 'default')
    check_features(log, 'virtio-blk', mode, [words | ({'ring_packed'} if packed_a else set()), words],
                   qmp=qmp)
    qmp.close()

    listing = g.run('blk list')
    assert re.search(r'^vda\s+8192 sectors', listing, re.M), listing
    assert re.search(r'^vdb\s+2048 sectors', listing, re.M), listing
    assert 'id "TERN-A"' in g.run('blk info')
    assert 'id "TERN-B"' in g.run('blk info vdb')

    # Reads: whole disks, odd ranges, a range crossing the request size.
    def guest_crc(args):
        m = re.search(r'crc32=([0-9a-f]{8})', g.run('blk crc ' + args, timeout=60))
        assert m, args
        return int(m.group(1), 16)

    assert guest_crc('0 8192') == zlib.crc32(data_a)
    assert guest_crc('-d vdb 0 2048') == zlib.crc32(data_b)
    for lba, count in ((0, 1), (3, 5), (8191, 1), (100, 300)):
        assert guest_crc(f'{lba} {count}') == zlib.crc32(data_a[lba * SECTOR:(lba + count) * SECTOR])

    # Hex dump of one sector.
    dump = g.run('blk read 5 1')
    first = dump.split('\n')[0]
    assert first.startswith('00000a00:'), first
    assert bytes(int(x, 16) for x in first.split('|')[0].split()[1:]) == data_a[5 * SECTOR:5 * SECTOR + 16]

    # Writes: stamp two ranges on vda, one on vdb.
    assert 'stamped 7 sectors at lba 100 on vda' in g.run('blk stamp 100 7')
    assert 'stamped 300 sectors' in g.run('blk stamp 4000 300', timeout=60)
    assert 'stamped 1 sectors at lba 2047 on vdb' in g.run('blk -d vdb stamp 2047 1')
    assert 'flushed vda' in g.run('blk flush')
    # The guest reads its own writes back.
    expect = b''.join(stamp(l) for l in range(100, 107))
    assert guest_crc('100 7') == zlib.crc32(expect)

    # Refused before reaching the device.
    assert 'beyond the end of vda' in g.run('blk crc 8191 2')
    assert 'beyond the end of vda' in g.run('blk stamp 8192 1')
    assert 'beyond the end of vdb' in g.run('blk -d vdb read 99999999 1')
    # An unknown -d is one error, whatever the subcommand.
    for sub in ('info', 'list', 'crc 0 1', 'read 0 1', 'stamp 0 1', 'flush', 'stress 1 1'):
        assert g.run(f'blk -d vdz {sub}').strip() == 'blk: no block device named vdz', sub
    assert g.run('blk info vdz').strip() == 'blk: no block device named vdz'
    listing = g.run('blk -d vdb list')
    assert re.fullmatch(r'vdb\s+2048 sectors\s+1 MiB\s+rw\s*', listing), listing
    assert g.run('blk crc x 1').startswith('blk: <lba> and <count> must be numbers')
    assert g.run('blk bogus').strip().startswith('usage: blk')

    # Many requests in flight from many threads, checked sector by sector.
    stress = g.run('blk stress 8 200', timeout=120)
    m = re.search(r'blk stress: 8 threads x 200 reads, (\d+) requests \((\d+) writes, 1600 reads\), '
                  r'0 errors', stress)
    assert m and int(m.group(1)) == int(m.group(2)) + 1600 and int(m.group(2)) >= 8, stress

    g.send('poweroff\r')
    assert g.wait_exit() == 0

    img_a = open(a, 'rb').read()
    img_b = open(b, 'rb').read()
    want = bytearray(data_a)
    for lba in list(range(100, 107)) + list(range(4000, 4300)):
        want[lba * SECTOR:(lba + 1) * SECTOR] = stamp(lba)
    # The stress run stamps its own scratch area (reported by the command).
    m = re.search(r'scratch lba (\d+) count (\d+)', stress)
    for lba in range(int(m.group(1)), int(m.group(1)) + int(m.group(2))):
        want[lba * SECTOR:(lba + 1) * SECTOR] = stamp(lba)
    assert img_a[99 * SECTOR:100 * SECTOR] == data_a[99 * SECTOR:100 * SECTOR]  # neighbours
    assert img_a[107 * SECTOR:108 * SECTOR] == data_a[107 * SECTOR:108 * SECTOR]
    assert img_a == bytes(want), 'image differs outside the stamped sectors'
    want_b = bytearray(data_b)
    want_b[2047 * SECTOR:] = stamp(2047)
    assert img_b == bytes(want_b)


@pytest.mark.parametrize('mode', ['legacy', 'modern'])
@pytest.mark.parametrize('bsp', BSPS, ids=arch)
def test_blk_readonly_refused(boot, tmp_path, bsp, mode):
    out = build(bsp)
    img = str(tmp_path / 'ro.img')
    data = make_image(img, 1 << 20, 3)
    g = boot(bsp, out, virtio=mode, disks=[img + ',ro'], wait_prompt=False)
    log = g.wait_prompt()
    check_features(log, 'virtio-blk', mode, expected_features('virtio-blk', mode) | {'ro'})
    assert 'read-only' in g.run('blk info')
    assert re.search(r'^vda\s+2048 sectors.*\bro$', g.run('blk list'), re.M)
    refused = g.run('blk stamp 0 4')
    assert 'vda is read-only' in refused, refused
    assert re.search(r'crc32=([0-9a-f]{8})', g.run('blk crc 0 2048')).group(1) == \
        f'{zlib.crc32(data):08x}'
    g.send('poweroff\r')
    assert g.wait_exit() == 0
    assert open(img, 'rb').read() == data


@pytest.mark.parametrize('bsp, mode, off', [
    pytest.param('qemu-virt64-riscv', 'modern', ('event_idx', 'indirect_desc'), id='riscv-modern'),
    pytest.param('qemu-virt64-aarch64', 'pci', ('event_idx',), id='aarch64-pci'),
    # The packed ring without EVENT_IDX (ENABLE/DISABLE event words) and
    # without indirect tables (chains wrapping the ring).
    pytest.param('qemu-virt64-aarch64', 'packed', ('event_idx', 'indirect_desc'),
                 id='aarch64-packed'),
])
def test_blk_ring_features_off_on_the_device(boot, tmp_path, bsp, mode, off):
    """A device started with event_idx=off (and indirect_desc=off): the boot
    line must not name what was not negotiated (QEMU agrees), and data still
    goes through the plain ring both ways."""
    img = str(tmp_path / 'plain.img')
    data = make_image(img, 2 << 20, 9)
    qmp_path = tmp_path / 'qmp'
    props = ''.join(f',{name}=off' for name in off)
    g = boot(bsp, build(bsp), wait_prompt=False, **virtio_kw(mode),
             extra=['-drive', f'file={img},if=none,format=raw,id=d0',
                    '-device', f'{virtio_dev("blk", mode)},drive=d0{props}'] + qmp_args(qmp_path))
    log = g.wait_prompt()
    qmp = QMP(qmp_path)
    check_features(log, 'virtio-blk', mode, expected_features('virtio-blk', mode, without=off),
                   qmp=qmp)
    qmp.close()
    m = re.search(r'crc32=([0-9a-f]{8})', g.run('blk crc 0 4096', timeout=60))
    assert m and int(m.group(1), 16) == zlib.crc32(data)
    assert 'stamped 300 sectors' in g.run('blk stamp 1000 300', timeout=60)
    stress = g.run('blk stress 4 50', timeout=120)
    assert re.search(r'blk stress: 4 threads x 50 reads, .* 0 errors', stress), stress
    g.send('poweroff\r')
    assert g.wait_exit() == 0
    want = bytearray(data)
    m = re.search(r'scratch lba (\d+) count (\d+)', stress)
    stamped = list(range(1000, 1300)) + list(range(int(m.group(1)), int(m.group(1)) + int(m.group(2))))
    for lba in stamped:
        want[lba * SECTOR:(lba + 1) * SECTOR] = stamp(lba)
    assert open(img, 'rb').read() == bytes(want)


@pytest.mark.parametrize('mode', ['legacy', 'modern'])
@pytest.mark.parametrize('bsp', BSPS, ids=arch)
def test_blk_persistence_across_boots(boot, tmp_path, bsp, mode):
    out = build(bsp, f'{arch(bsp)}-blk-persist', ('examples/blk/blk.conf',))
    img = str(tmp_path / 'persist.img')
    with open(img, 'wb') as f:
        f.truncate(1 << 20)
    expected = [
        r'no previous state on vda',
        r'vda: boot 2, 1 earlier journal records verified\s+SELFTEST: blk persist ok',
        r'vda: boot 3, 2 earlier journal records verified\s+SELFTEST: blk persist ok',
    ]
    for boot_no, pattern in enumerate(expected, 1):
        g = boot(bsp, out, virtio=mode, disks=[img], wait_prompt=False)
        g.expect(pattern)
        g.wait_prompt()
        g.send('poweroff\r')
        assert g.wait_exit() == 0
        g.close()
    # The journal on the host: three records with valid checksums.
    raw = open(img, 'rb').read()
    for seq in range(3):
        rec = bytearray(raw[(2 + seq) * SECTOR:(3 + seq) * SECTOR])
        assert rec[:4] == b'TJRN'
        crc = int.from_bytes(rec[4:8], 'little')
        rec[4:8] = b'\0\0\0\0'
        assert zlib.crc32(bytes(rec)) == crc
        assert int.from_bytes(rec[8:16], 'little') == seq
    # Corrupt one payload byte of the second record: the next boot must say so.
    with open(img, 'r+b') as f:
        f.seek(3 * SECTOR + 200)
        byte = f.read(1)
        f.seek(3 * SECTOR + 200)
        f.write(bytes([byte[0] ^ 0xff]))
    g = boot(bsp, out, virtio=mode, disks=[img], wait_prompt=False)
    g.expect(r'record checksum mismatch\s+SELFTEST: blk persist FAILED')


@pytest.mark.parametrize('compiled, presented', [('modern-only', 'legacy'), ('legacy-only', 'modern'),
                                                 ('modern-only', 'pci-legacy')])
def test_blk_version_not_compiled_in_is_refused(boot, tmp_path, compiled, presented):
    bsp = 'qemu-virt64-riscv'
    out = build(bsp, f'riscv-virtio-{compiled}', (f'tests/configs/virtio-{compiled}.conf',))
    img = str(tmp_path / 'x.img')
    make_image(img, 1 << 20, 4)
    g = boot(bsp, out, disks=[img], wait_prompt=False, **virtio_kw(presented))
    if presented == 'pci-legacy':
        g.expect(r'virtio-pci 00:01\.0: device refused: modern interface unusable: '
                 r'no usable common configuration capability; legacy: CONFIG_VIRTIO_LEGACY is off')
    else:
        symbol = 'CONFIG_VIRTIO_LEGACY' if presented == 'legacy' else 'CONFIG_VIRTIO_MODERN'
        g.expect(rf'virtio-blk@0x[0-9a-f]+: {presented} device, but {symbol} is off')
    g.wait_prompt()
    assert 'no block devices' in g.run('blk list')


@pytest.mark.parametrize('bsp', BSPS, ids=arch)
def test_blk_found_by_slot_scan(boot, tmp_path, bsp):
    """The Kconfig slot range finds the same disks when the device tree is not used."""
    out = build(bsp, f'{arch(bsp)}-slot-scan', ('tests/configs/virtio-slot-scan.conf',))
    a, b = str(tmp_path / 'a.img'), str(tmp_path / 'b.img')
    data_a = make_image(a, 1 << 20, 5)
    make_image(b, 2 << 20, 6)
    g = boot(bsp, out, virtio='modern', disks=[a, b], wait_prompt=False)
    log = g.wait_prompt()
    assert 'virtio-mmio: scanning' in log
    listing = g.run('blk list')
    assert re.search(r'^vda\s+2048 sectors', listing, re.M), listing
    assert re.search(r'^vdb\s+4096 sectors', listing, re.M), listing
    assert re.search(r'crc32=([0-9a-f]{8})', g.run('blk crc 0 2048')).group(1) == \
        f'{zlib.crc32(data_a):08x}'


@pytest.mark.parametrize('mode', ['legacy', 'modern'])
@pytest.mark.parametrize('bsp', BSPS, ids=arch)
def test_blk_device_error_is_returned(boot, tmp_path, bsp, mode):
    """A read the device fails (VIRTIO_BLK_S_IOERR, injected with QEMU's
    blkdebug for requests touching sector 100) comes back as an I/O error;
    other requests keep working."""
    out = build(bsp)
    img = str(tmp_path / 'e.img')
    data = make_image(img, 1 << 20, 7)
    conf = tmp_path / 'blkdebug.conf'
    conf.write_text('[inject-error]\nevent = "read_aio"\nerrno = "5"\nsector = "100"\n')
    g = boot(bsp, out, virtio=mode,
             extra=['-drive', f'file=blkdebug:{conf}:{img},format=raw,if=none,id=e0,rerror=report',
                    '-device', 'virtio-blk-device,drive=e0'])
    assert g.run('blk crc 100 1').strip() == 'blk: read on vda failed: I/O error'
    assert g.run('blk crc 96 8').strip() == 'blk: read on vda failed: I/O error'
    assert re.search(r'crc32=([0-9a-f]{8})', g.run('blk crc 0 100')).group(1) == \
        f'{zlib.crc32(data[:100 * SECTOR]):08x}'
    assert 'stamped 1 sectors' in g.run('blk stamp 200 1')  # the device still works
    g.send('poweroff\r')
    assert g.wait_exit() == 0


@pytest.mark.parametrize('bsp', BSPS, ids=arch)
def test_blk_polled_completions(boot, tmp_path, bsp):
    """The polling path (no interrupt) moves the same data."""
    out = build(bsp, f'{arch(bsp)}-blk-polled', ('tests/configs/blk-polled.conf',))
    img = str(tmp_path / 'p.img')
    data = make_image(img, 1 << 20, 8)
    g = boot(bsp, out, virtio='modern', disks=[img])
    assert re.search(r'crc32=([0-9a-f]{8})', g.run('blk crc 0 2048')).group(1) == \
        f'{zlib.crc32(data):08x}'
    assert 'stamped 3 sectors' in g.run('blk stamp 10 3')
    assert 'blk stress: 4 threads x 20 reads' in g.run('blk stress 4 20', timeout=120)
    g.send('poweroff\r')
    assert g.wait_exit() == 0
    img_data = open(img, 'rb').read()
    for lba in range(10, 13):
        assert img_data[lba * SECTOR:(lba + 1) * SECTOR] == stamp(lba)
    assert img_data[:10 * SECTOR] == data[:10 * SECTOR]
    assert img_data[13 * SECTOR:14 * SECTOR] == data[13 * SECTOR:14 * SECTOR]


@pytest.mark.parametrize('bsp', BSPS, ids=arch)
def test_blk_mmio_and_pci_disks_in_one_machine(boot, tmp_path, bsp):
    """Both transports at once: vda on virtio-mmio (modern), vdb on
    virtio-pci (transitional); reads and writes checked in both images."""
    a = str(tmp_path / 'mmio.img')
    b = str(tmp_path / 'pci.img')
    data_a = make_image(a, 1 << 20, 3)
    data_b = make_image(b, 2 << 20, 4)
    g = boot(bsp, build(bsp), wait_prompt=False, virtio='modern', transport='pci',
             extra=['-drive', f'file={a},if=none,format=raw,id=da',
                    '-device', 'virtio-blk-device,drive=da',
                    '-drive', f'file={b},if=none,format=raw,id=db',
                    '-device', 'virtio-blk-pci,drive=db'])
    log = g.wait_prompt()
    assert re.search(boot_line('virtio-blk', 'modern') + r' .* vd[ab] 2048 sectors', log), log
    for mode in ('modern', 'pci'):
        check_features(log, 'virtio-blk', mode, expected_features('virtio-blk', mode))
    m = re.search(boot_line('virtio-blk', 'pci') + r' .* (vd[ab]) 4096 sectors', log)
    assert m, log
    pci_disk = m.group(1)
    mmio_disk = 'vdb' if pci_disk == 'vda' else 'vda'

    def guest_crc(disk, lba, count):
        out = g.run(f'blk -d {disk} crc {lba} {count}', timeout=60)
        m = re.search(r'crc32=([0-9a-f]{8})', out)
        assert m, out
        return int(m.group(1), 16)

    assert guest_crc(mmio_disk, 0, 2048) == zlib.crc32(data_a)
    assert guest_crc(pci_disk, 0, 4096) == zlib.crc32(data_b)
    assert 'stamped 3 sectors' in g.run(f'blk -d {mmio_disk} stamp 10 3')
    assert 'stamped 5 sectors' in g.run(f'blk -d {pci_disk} stamp 4000 5')
    g.send('poweroff\r')
    assert g.wait_exit() == 0

    want_a = bytearray(data_a)
    for lba in range(10, 13):
        want_a[lba * SECTOR:(lba + 1) * SECTOR] = stamp(lba)
    want_b = bytearray(data_b)
    for lba in range(4000, 4005):
        want_b[lba * SECTOR:(lba + 1) * SECTOR] = stamp(lba)
    assert open(a, 'rb').read() == bytes(want_a)
    assert open(b, 'rb').read() == bytes(want_b)


def test_blk_pci_disks_sharing_an_intx_line(boot, tmp_path):
    """Five virtio-pci disks on riscv64: slots 1 and 5 share an INTx line
    (QEMU wires every slot onto four); each disk's writes land in its image."""
    bsp = 'qemu-virt64-riscv'
    paths = [str(tmp_path / f'{i}.img') for i in range(5)]
    for i, p in enumerate(paths):
        make_image(p, 1 << 20, 10 + i)
    extra = []
    for i, p in enumerate(paths):
        extra += ['-drive', f'file={p},if=none,format=raw,id=s{i}', '-device', f'virtio-blk-pci,drive=s{i}']
    g = boot(bsp, build(bsp), wait_prompt=False, transport='pci', extra=extra)
    log = g.wait_prompt()
    irqs = re.findall(boot_line('virtio-blk', 'pci') + r' irq (\d+) .* (vd[a-e]) 2048 sectors', log)
    assert len(irqs) == 5 and len({irq for irq, _ in irqs}) < 5, log
    for i in range(5):
        assert 'stamped 2 sectors' in g.run(f'blk -d vd{"abcde"[i]} stamp {100 + i} 2')
    g.send('poweroff\r')
    assert g.wait_exit() == 0
    for i, p in enumerate(paths):
        img = open(p, 'rb').read()
        lba = 100 + i
        assert img[lba * SECTOR:(lba + 2) * SECTOR] == stamp(lba) + stamp(lba + 1), p


# VIRTIO_BLK_F_MQ on one CPU: every queue the device offers (up to
# CONFIG_VIRTIO_BLK_MAX_QUEUES, 4) is set up and named on the boot line; CPU 0
# submits on queue 0 alone (`virtio stat`), and what it writes is in the image.
@pytest.mark.parametrize('bsp, mode', [(b, m) for b in BSPS for m in ('packed', 'pci-modern')])
@pytest.mark.parametrize('offered, used', [(4, 4), (6, 4)])
def test_blk_multiqueue(boot, tmp_path, bsp, mode, offered, used):
    img = tmp_path / 'disk.img'
    img.write_bytes(bytes(1 << 20))
    qmp_path = tmp_path / 'qmp'
    g = boot(bsp, build(bsp), wait_prompt=False, **virtio_kw(mode),
             extra=['-drive', f'file={img},if=none,format=raw,id=d0',
                    '-device', f'{virtio_dev("blk", mode)},drive=d0,num-queues={offered}']
             + qmp_args(qmp_path))
    log = g.wait_prompt()
    assert re.search(boot_line('virtio-blk', mode) + r' (?:irq|msix) \d+ queue 64 '
                     rf'ring {ring_layout(mode)} vda 2048 sectors queues {used} features ', log), log
    qmp = QMP(qmp_path)
    check_features(log, 'virtio-blk', mode, expected_features('virtio-blk', mode) | {'mq'}, qmp=qmp)
    qmp.close()
    g.run('virtio stat -r')
    assert 'stamped 16 sectors at lba 50 on vda' in g.run('blk stamp 50 16')
    assert 'flushed vda' in g.run('blk flush')
    # Polled reads (queue 0's interrupts off meanwhile, the others' on).
    m = re.search(r'crc32=([0-9a-f]{8})', g.run('blk -p crc 50 16'))
    assert m and int(m.group(1), 16) == zlib.crc32(b''.join(stamp(l) for l in range(50, 66))), m
    stat = dict(re.findall(r'^virtio-blk\S* q(\d+) kicks=\d+ suppressed=\d+ irqs=\d+ used=(\d+) ',
                           g.run('virtio stat'), re.M))
    assert sorted(stat) == [str(q) for q in range(used)], stat
    assert int(stat['0']) >= 3 and all(stat[str(q)] == '0' for q in range(1, used)), stat
    # Queue 0 has its interrupt back: an ordinary write still completes.
    assert 'stamped 1 sectors at lba 70 on vda' in g.run('blk stamp 70 1')
    g.send('poweroff\r')
    assert g.wait_exit() == 0
    data = img.read_bytes()
    assert data[50 * SECTOR:66 * SECTOR] == b''.join(stamp(l) for l in range(50, 66))
    assert data[70 * SECTOR:71 * SECTOR] == stamp(70)
    assert data[:50 * SECTOR] == bytes(50 * SECTOR) and data[66 * SECTOR:70 * SECTOR] == bytes(4 * SECTOR)
    assert data[71 * SECTOR:] == bytes(len(data) - 71 * SECTOR)


# A build without CONFIG_VIRTIO_RING_PACKED and a device offering the packed
# ring: the driver does not accept it and falls back to the split ring, as
# the boot line says (and QEMU agrees); data goes through.
@pytest.mark.parametrize('bsp', BSPS, ids=arch)
def test_blk_packed_offered_split_only_build(boot, tmp_path, bsp):
    img = tmp_path / 'disk.img'
    img.write_bytes(bytes(1 << 20))
    qmp_path = tmp_path / 'qmp'
    out = build(bsp, f'{arch(bsp)}-virtio-split-only', ('tests/configs/virtio-split-only.conf',))
    g = boot(bsp, out, wait_prompt=False, **virtio_kw('packed'),
             extra=['-drive', f'file={img},if=none,format=raw,id=d0',
                    '-device', f'{virtio_dev("blk", "packed")},drive=d0'] + qmp_args(qmp_path))
    log = g.wait_prompt()
    assert re.search(boot_line('virtio-blk', 'packed') + r' (?:irq|msix) \d+ queue 64 ring split vda ',
                     log), log
    qmp = QMP(qmp_path)
    check_features(log, 'virtio-blk', 'packed',
                   expected_features('virtio-blk', 'packed', without=('ring_packed',)), qmp=qmp)
    qmp.close()
    assert 'stamped 4 sectors at lba 9 on vda' in g.run('blk stamp 9 4')
    g.send('poweroff\r')
    assert g.wait_exit() == 0
    data = img.read_bytes()
    assert data[9 * SECTOR:13 * SECTOR] == b''.join(stamp(l) for l in range(9, 13))
