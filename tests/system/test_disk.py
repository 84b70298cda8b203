"""tools/disk.py: creates the images the examples use, and reads back from
the host what a guest wrote: the examples/blk persistence state (checked as
the guest checks it), `blk stamp` sectors, and a hex dump that matches the
guest's own `blk read`; FAT images through mkfs.fat, sfdisk and mtools
(the guest's side: test_fs.py)."""
import os
import re
import subprocess
import sys

import pytest
from conftest import ROOT, build

DISK = [sys.executable, os.path.join(ROOT, 'tools', 'disk.py')]


def disk(*args):
    return subprocess.run(DISK + [str(a) for a in args], capture_output=True, text=True)


def test_create_refuses_what_it_should(tmp_path):
    img = tmp_path / 'a.img'
    r = disk('create', img, '1M')
    assert r.returncode == 0 and os.path.getsize(img) == 1 << 20, r
    assert disk('create', img, '1M').returncode == 2  # exists
    assert 'multiple of 512' in disk('create', tmp_path / 'b.img', '1000').stderr
    r = disk('inspect', img)
    assert r.returncode == 0 and 'persist: no state' in r.stdout and 'stamp:' not in r.stdout, r
    r = disk('dump', img, 2047, 2)
    assert r.returncode == 2 and 'not on the disk (2048 sectors)' in r.stderr


@pytest.mark.parametrize('bsp', ['qemu-virt64-riscv', 'qemu-virt64-aarch64'])
def test_inspect_what_the_guest_wrote(boot, tmp_path, bsp):
    arch = 'riscv' if 'riscv' in bsp else 'aarch64'
    out = build(bsp, f'{arch}-blk-persist', ('examples/blk/blk.conf',))
    img = tmp_path / 'persist.img'
    assert disk('create', img, '4M').returncode == 0
    for n in (1, 2):
        g = boot(bsp, out, disks=[str(img)], wait_prompt=False)
        g.expect(rf'vda: boot {n}, {n - 1} earlier journal records verified')
        g.wait_prompt()
        if n == 2:
            g.run('blk stamp 100 4')
            g.run('blk flush')
            guest_dump = g.run('blk read 3 1')
        g.send('poweroff\r')
        assert g.wait_exit() == 0

    r = disk('inspect', img)
    assert r.returncode == 0, r
    assert 'persist: record 0 (lba 2): ok "boot 1 of Tern' in r.stdout, r.stdout
    assert 'persist: record 1 (lba 3): ok "boot 2 of Tern' in r.stdout, r.stdout
    assert 'persist: 2 boots recorded, 2 records kept, all verified' in r.stdout, r.stdout
    assert re.search(r'superblock 0 \(lba 0\): generation 2, 2 boots, 16 slots', r.stdout), r.stdout
    assert "stamp: sectors 100..103 hold blk stamp's pattern" in r.stdout, r.stdout
    # The host's dump of a sector is the guest's, line for line.
    host = disk('dump', img, 3).stdout.strip().splitlines()
    assert host == [l.strip() for l in guest_dump.strip().splitlines()], (host, guest_dump)

    data = bytearray(img.read_bytes())
    data[3 * 512 + 200] ^= 0xff  # a byte of record 1's payload
    img.write_bytes(bytes(data))
    r = disk('inspect', img)
    assert r.returncode == 1 and 'persist: record 1 (lba 3): record checksum mismatch' in r.stdout, r


@pytest.mark.parametrize('fat, partition', [(12, False), (16, True), (32, False)])
def test_fat_images_through_debian_tools(tmp_path, fat, partition):
    img = tmp_path / 'fat.img'
    args = ['mkfat', img, '40M', '--fat', str(fat), '--label', 'TERN']
    r = disk(*(args + (['--partition'] if partition else [])))
    assert r.returncode == 0 and f'FAT{fat} on' in r.stdout, r
    part = ['--partition', '1'] if partition else []
    if partition:
        t = subprocess.run(['/usr/sbin/sfdisk', '--dump', str(img)], capture_output=True, text=True)
        assert 'start=        2048' in t.stdout and {16: 'type=6'}[fat] in t.stdout, t.stdout
    src = tmp_path / 'My Notes.txt'
    src.write_text('notes\n')
    sub = tmp_path / 'dir'
    sub.mkdir()
    (sub / 'inner.bin').write_bytes(bytes(range(256)) * 10)
    assert disk('put', img, src, sub, *part).returncode == 0
    listing = disk('ls', img, '/dir', *part)
    assert listing.returncode == 0 and 'inner' in listing.stdout, listing
    out = tmp_path / 'back.txt'
    assert disk('get', img, 'My Notes.txt', out, *part).returncode == 0
    assert out.read_text() == 'notes\n'
    r = disk('check', img, *part)
    assert r.returncode == 0, r
    assert disk('mkfat', img, '1M').returncode == 2  # exists
    r = disk('get', tmp_path / 'fat.img', 'nothing', tmp_path / 'x', *part)
    assert r.returncode != 0
