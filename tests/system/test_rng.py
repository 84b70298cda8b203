"""virtio-rng through a real QEMU device, checked from the host: QEMU's
rng-random backend reads a file of known random bytes in order, so the
guest's `random N` must report the CRC-32 (and first bytes) of exactly the
next N bytes of that file, for sizes below, at and above what one round of
the request queue holds (8 buffers of 512 bytes). Both archs, legacy and
modern, on the default build (the driver is on by default)."""
import random
import re
import zlib

import pytest
from conftest import BSPS, build

# rng-random hits a busy loop at the end of a regular file: keep the file far
# larger than everything the guest reads.
FILE_BYTES = 1 << 20
SIZES = [1, 16, 4095, 4096, 4097, 20000, 100003]


def arch(bsp):
    return 'riscv' if 'riscv' in bsp else 'aarch64'


@pytest.mark.parametrize('mode', ['legacy', 'modern'])
@pytest.mark.parametrize('bsp', BSPS, ids=arch)
def test_rng_stream_matches_file(boot, tmp_path, bsp, mode):
    path = tmp_path / 'entropy.bin'
    data = random.Random(7).randbytes(FILE_BYTES)
    path.write_bytes(data)
    g = boot(bsp, build(bsp), virtio=mode, wait_prompt=False,
             extra=['-object', f'rng-random,filename={path},id=rng0',
                    '-device', 'virtio-rng-device,rng=rng0'])
    log = g.wait_prompt()
    assert re.search(rf'virtio-rng: mmio {mode} @0x[0-9a-f]+ irq \d+ queue 8 ', log), log

    expected_offset = None
    for n in SIZES:
        out = g.run(f'random {n}', timeout=60)
        m = re.search(r'random: (\d+) bytes at offset (\d+) crc32=([0-9a-f]{8}) first((?: [0-9a-f]{2})+)', out)
        assert m, out
        offset = int(m.group(2))
        # Nothing else reads entropy in this build: the reads follow each other.
        if expected_offset is not None:
            assert offset == expected_offset, out
        expected_offset = offset + n
        chunk = data[offset:offset + n]
        assert int(m.group(1)) == n
        assert int(m.group(3), 16) == zlib.crc32(chunk), (n, offset)
        assert bytes.fromhex(m.group(4).replace(' ', '')) == chunk[:16]
    assert 'usage: random' in g.run('random 0')
