"""virtio-rng through a real QEMU device, checked from the host: QEMU's
rng-random backend reads a file of known random bytes in order, so the
guest's `random N` must report the CRC-32 (and first bytes) of exactly the
next N bytes of that file, for sizes below, at and above what one round of
the request queue holds (8 buffers of 512 bytes). Both archs, MMIO legacy
and modern and virtio-pci modern-only, transitional and legacy-only, on the
default build (the driver is on by default). With a
virtio-net device too, lwIP's random numbers (the DHCP transaction id
captured on the wire) must be bytes of that stream."""
import random
import re
import zlib

import pytest
from conftest import (ALL_PCI_PACKED_CASES, BSPS, boot_line, bsp_modes, build, check_features,
                      expected_features, ring_layout, virtio_dev, virtio_kw)
from qmp import QMP, qmp_args

# rng-random hits a busy loop at the end of a regular file: keep the file far
# larger than everything the guest reads.
FILE_BYTES = 1 << 20
SIZES = [1, 16, 4095, 4096, 4097, 20000, 100003]


def arch(bsp):
    return 'riscv' if 'riscv' in bsp else 'aarch64'


# The modern interfaces offer the packed ring (the transitional PCI device
# keeps the split ring's modern case).
@pytest.mark.parametrize('bsp, mode', bsp_modes(('legacy', 'packed'), ALL_PCI_PACKED_CASES))
def test_rng_stream_matches_file(boot, tmp_path, bsp, mode):
    path = tmp_path / 'entropy.bin'
    data = random.Random(7).randbytes(FILE_BYTES)
    path.write_bytes(data)
    g = boot(bsp, build(bsp), wait_prompt=False, **virtio_kw(mode),
             extra=['-object', f'rng-random,filename={path},id=rng0',
                    '-device', f'{virtio_dev("rng", mode)},rng=rng0'] + qmp_args(tmp_path / 'qmp'))
    log = g.wait_prompt()
    assert re.search(boot_line('virtio-rng', mode) + rf' (?:irq|msix) \d+ queue 8 ring {ring_layout(mode)} ',
                     log), log
    qmp = QMP(tmp_path / 'qmp')
    check_features(log, 'virtio-rng', mode, expected_features('virtio-rng', mode), qmp=qmp)
    qmp.close()

    expected_offset = None
    for n in SIZES:
        out = g.run(f'random {n}', timeout=60)
        m = re.search(r'random: (\d+) bytes at offset (\d+) crc32=([0-9a-f]{8}) first((?: [0-9a-f]{2})+)', out)
        assert m, out
        offset = int(m.group(2))
        # Nothing else reads entropy here (no network device, so lwIP never
        # starts): the reads follow each other.
        if expected_offset is not None:
            assert offset == expected_offset, out
        expected_offset = offset + n
        chunk = data[offset:offset + n]
        assert int(m.group(1)) == n
        assert int(m.group(3), 16) == zlib.crc32(chunk), (n, offset)
        assert bytes.fromhex(m.group(4).replace(' ', '')) == chunk[:16]
    assert 'usage: random' in g.run('random 0')


def dhcp_client_xids(pcap):
    """Transaction ids (as sent, big-endian bytes) of the DHCP messages the
    guest sent (UDP 68 -> 67) in a pcap file written by QEMU's filter-dump."""
    raw = pcap.read_bytes()
    xids, pos = [], 24  # global header
    while pos + 16 <= len(raw):
        incl = int.from_bytes(raw[pos + 8:pos + 12], 'little')
        frame = raw[pos + 16:pos + 16 + incl]
        pos += 16 + incl
        if len(frame) < 14 + 20 or frame[12:14] != b'\x08\x00' or frame[14 + 9] != 17:
            continue
        udp = 14 + (frame[14] & 0x0f) * 4
        if frame[udp:udp + 4] == (68).to_bytes(2, 'big') + (67).to_bytes(2, 'big'):
            xids.append(frame[udp + 8 + 4:udp + 8 + 8])
    return xids


@pytest.mark.parametrize('bsp', BSPS, ids=arch)
def test_lwip_random_numbers_come_from_rng(boot, tmp_path, bsp):
    """With virtio-rng and virtio-net both present, lwIP's random numbers
    (LWIP_RAND: here the DHCP transaction id seen on the wire) are bytes of
    the rng stream, and DHCP still completes."""
    path = tmp_path / 'entropy.bin'
    data = random.Random(11).randbytes(FILE_BYTES)
    path.write_bytes(data)
    pcap = tmp_path / 'net.pcap'
    g = boot(bsp, build(bsp), virtio='modern', wait_prompt=False,
             extra=['-object', f'rng-random,filename={path},id=rng0',
                    '-device', 'virtio-rng-device,rng=rng0',
                    '-netdev', 'user,id=n0', '-device', 'virtio-net-device,netdev=n0',
                    '-object', f'filter-dump,id=d0,netdev=n0,file={pcap}'])
    # The lease may come before or after the first prompt.
    log = g.wait_prompt()
    if 'net: dhcp bound' not in log:
        log += g.expect(r'net: dhcp bound \S+\s', timeout=30)
    assert re.search(r'net: dhcp bound 10\.0\.2\.15\s', log), log
    out = g.run('random 1')
    m = re.search(r'random: 1 bytes at offset (\d+) ', out)
    assert m, out
    consumed = data[:int(m.group(1))]
    xids = dhcp_client_xids(pcap)
    assert xids, 'no DHCP message from the guest in the capture'
    # tern_lwip_rand() reads 4 bytes into a uint32_t (little-endian on both
    # boards); DHCP puts it on the wire in network order.
    for xid in xids:
        assert xid[::-1] in consumed, (xid.hex(), len(consumed))
