"""FAT on virtio-blk, proven with Debian's own tools on the host.

Images are made by tools/disk.py (mkfs.fat, sfdisk) and filled by mcopy with
random files; the guest's `ls -l` and `crc32` must match the host for every
file; the guest copies, renames, appends and deletes; then mtools reads every
file back byte for byte and fsck.fat -n finds each volume clean. One boot per
(board, virtio mode) covers FAT12 (vda, whole disk), FAT16 in an MBR
partition made by sfdisk (vdb1) and FAT32 (vdc, whole disk), and a disk-full
run. Separate boots: power cuts (QEMU killed during fsync'ed writes; fsck.fat
-a repairs, every file synced before the cut is intact) and, at -smp 4 on
both boards, threads pinned one per CPU writing one directory, and threads
creating, appending, renaming and deleting long-named files in one
directory at once. The SMP boots run without -icount: the vCPUs run in
parallel.

More power cuts than the suite's 5 per board:
  FS_POWER_CUTS=100 python3 -m pytest tests/system/test_fs.py -k power_cut
"""
import os
import random
import re
import subprocess
import sys
import zlib

import pytest
from conftest import BSPS, ROOT, arch_name, build

DISK = [sys.executable, os.path.join(ROOT, 'tools', 'disk.py')]
ENV = dict(os.environ, MTOOLS_SKIP_CHECK='1', LC_ALL='C.UTF-8')
LS_RE = re.compile(r'^([d-]) +(\d+) \S+ \S+ (.*?)(/?)$')


def disk(*args):
    r = subprocess.run(DISK + [str(a) for a in args], capture_output=True, text=True)
    assert r.returncode == 0, r
    return r.stdout


def mtools(*args, check=True):
    r = subprocess.run(list(args), capture_output=True, env=ENV)
    if check:
        assert r.returncode == 0, r
    return r


def fsck(img, offset=0):
    """fsck.fat -n on the image (or a copy of its partition): (clean, report)."""
    path = img
    if offset:
        path = img + '.part'
        with open(img, 'rb') as f, open(path, 'wb') as out:
            f.seek(offset)
            out.write(f.read())
    r = subprocess.run(['/usr/sbin/fsck.fat', '-n', path], capture_output=True, text=True)
    return r.returncode == 0, r.stdout + r.stderr


def pattern(seed, size):
    """fstest's file contents (components/fs/fs_commands.cpp fill_pattern)."""
    x = (seed * 2654435761 + 1) & 0xffffffff
    out = bytearray(size)
    for i in range(size):
        x ^= (x << 13) & 0xffffffff
        x ^= x >> 17
        x ^= (x << 5) & 0xffffffff
        out[i] = x & 0xff
    return bytes(out)


class Volume:
    """An image (or partition) the test fills and checks through mtools."""

    def __init__(self, path, mount, offset=0):
        self.path, self.mount, self.offset = path, mount, offset
        self.files = {}  # path in the volume -> bytes

    @property
    def img(self):
        return f'{self.path}@@{self.offset}' if self.offset else self.path

    def put(self, tmp, name, data):
        src = os.path.join(tmp, 'src.bin')
        with open(src, 'wb') as f:
            f.write(data)
        mtools('mcopy', '-o', '-i', self.img, src, '::' + name)
        self.files[name] = data

    def mkdir(self, name):
        mtools('mmd', '-i', self.img, '::' + name)

    def delete(self, name):
        mtools('mdel', '-i', self.img, '::' + name)
        del self.files[name]

    def read(self, name):
        r = mtools('mcopy', '-n', '-i', self.img, '::' + name, '-', check=False)
        assert r.returncode == 0, (name, r.stderr)
        return r.stdout


def fill(vol, tmp, rnd, big):
    """Random files: 0 B up to `big`, long and non-ASCII names, nested
    directories, and a file fragmented by deleting and re-adding files."""
    vol.mkdir('docs')
    vol.mkdir('docs/nested deeper')
    sizes = [0, 1, 511, 512, 513, 4096, 65537, rnd.randrange(100000, 300000)]
    names = ['empty.txt', 'A.B', 'sector.bin', 'Exactly One Sector.dat', 'docs/over.bin',
             'docs/été.txt', 'docs/nested deeper/日本語 ファイル名.bin',
             'docs/nested deeper/a rather long file name with spaces, over 13 chars.dat']
    for name, size in zip(names, sizes):
        vol.put(tmp, name, rnd.randbytes(size))
    # Fragmentation: three files, the middle one deleted, a larger one
    # written into its hole and beyond the third.
    vol.put(tmp, 'frag-a.bin', rnd.randbytes(30000))
    vol.put(tmp, 'frag-b.bin', rnd.randbytes(30000))
    vol.put(tmp, 'frag-c.bin', rnd.randbytes(30000))
    vol.delete('frag-b.bin')
    vol.put(tmp, 'fragmented.bin', rnd.randbytes(big))


def guest_listing(g, path):
    """{name: (is_dir, size)} from the guest's ls -l."""
    out = g.run(f'ls -l "{path}"', timeout=60)
    entries = {}
    for line in out.strip().splitlines():
        m = LS_RE.match(line.strip())
        assert m, (path, line)
        entries[m.group(3)] = (m.group(1) == 'd', int(m.group(2)))
    return entries


def guest_crcs(g, path):
    """{name: (crc, size)} from the guest's crc32 of a directory."""
    out = g.run(f'crc32 "{path}"', timeout=120)
    crcs = {}
    for line in out.strip().splitlines():
        m = re.match(r'crc32=([0-9a-f]{8}) size=(\d+) (.*)$', line.strip())
        assert m, (path, out)
        crcs[m.group(3)] = (int(m.group(1), 16), int(m.group(2)))
    return crcs


def check_guest_sees(g, vol):
    dirs = {os.path.dirname(p) for p in vol.files}
    for d in sorted(dirs):
        where = vol.mount + ('/' + d if d else '')
        listing = guest_listing(g, where)
        crcs = guest_crcs(g, where)
        for p, data in vol.files.items():
            if os.path.dirname(p) != d:
                continue
            name = os.path.basename(p)
            assert listing.get(name) == (False, len(data)), (where, name, listing)
            assert crcs.get(name) == (zlib.crc32(data), len(data)), (where, name, crcs)


def check_host_sees(vol):
    for p, data in vol.files.items():
        assert vol.read(p) == data, (vol.mount, p)
    clean, report = fsck(vol.path, vol.offset)
    assert clean, (vol.mount, report)


def guest_operations(g, vol, other):
    """cp, mv, append, rm, mkdir, rmdir on `vol` (and a copy from `other`),
    mirrored in vol.files."""
    m = vol.mount
    out = g.run(f'mkdir {m}/work "{m}/work/sub dir"')
    assert out.strip() == '', out
    assert g.run(f'cp {m}/frag-a.bin "{m}/work/sub dir/copy of a.bin"', timeout=60).strip() == ''
    vol.files['work/sub dir/copy of a.bin'] = vol.files['frag-a.bin']
    assert g.run(f'cp {m}/docs/over.bin {m}/work').strip() == ''  # into a directory
    vol.files['work/over.bin'] = vol.files['docs/over.bin']
    # A file of the other volume (across volumes: mv copies and deletes).
    assert g.run(f'cp {other.mount}/sector.bin {m}/work/from-other.bin').strip() == ''
    vol.files['work/from-other.bin'] = other.files['sector.bin']
    assert g.run(f'mv {m}/frag-c.bin "{m}/work/renamed c.bin"').strip() == ''
    vol.files['work/renamed c.bin'] = vol.files.pop('frag-c.bin')
    assert g.run(f'mv "{m}/work/sub dir" {m}/docs/moved').strip() == ''  # a directory
    vol.files['docs/moved/copy of a.bin'] = vol.files.pop('work/sub dir/copy of a.bin')
    for line in ('first line', 'second "quoted" line'):
        assert g.run(f'append "{m}/work/log file.txt" {line}').strip() == ''
    vol.files['work/log file.txt'] = b'first line\nsecond quoted line\n'
    assert g.run(f'append {m}/A.B more').strip() == ''
    vol.files['A.B'] += b'more\n'
    assert g.run(f'rm {m}/frag-a.bin').strip() == ''
    del vol.files['frag-a.bin']
    assert g.run(f'mkdir {m}/gone').strip() == ''
    assert g.run(f'rmdir {m}/gone').strip() == ''
    # Clear errors.
    assert g.run(f'cat {m}/nothing').strip() == f'cat: {m}/nothing: no such file'
    assert g.run(f'mkdir {m}/A.B/x').strip() == f'mkdir: {m}/A.B/x: not a directory'
    assert g.run(f'rmdir {m}/docs').strip() == f'rmdir: {m}/docs: directory not empty'
    assert g.run(f'mkdir {m}/work').strip() == f'mkdir: {m}/work: file exists'
    out = g.run(f'cat "{m}/work/log file.txt"')
    assert out.replace('\r', '') == 'first line\nsecond quoted line\n', out


def volumes_for(tmp, rnd):
    a, b, c = (os.path.join(tmp, n) for n in ('fat12.img', 'fat16.img', 'fat32.img'))
    disk('mkfat', a, '4M', '--fat', '12')
    disk('mkfat', b, '24M', '--fat', '16', '--partition', '--label', 'PART')
    disk('mkfat', c, '48M', '--fat', '32')
    vols = [Volume(a, '/vda'), Volume(b, '/vdb1', 2048 * 512), Volume(c, '/vdc')]
    work = os.path.join(tmp, 'src')
    os.makedirs(work)
    fill(vols[0], work, rnd, 400000)
    fill(vols[1], work, rnd, 2 << 20)
    fill(vols[2], work, rnd, 8 << 20)
    return vols


@pytest.mark.parametrize('mode', ['legacy', 'modern'])
@pytest.mark.parametrize('bsp', BSPS, ids=arch_name)
def test_fs_against_host_tools(boot, tmp_path, bsp, mode):
    rnd = random.Random(f'{bsp}-{mode}')
    vols = volumes_for(str(tmp_path), rnd)
    g = boot(bsp, build(bsp), virtio=mode, disks=[v.path for v in vols], wait_prompt=False)
    log = g.wait_prompt()
    assert re.search(r'fs: /vda fat12 \d+ KiB, 2048-byte clusters, .* rw \(vda\)', log), log
    assert re.search(r'fs: /vdb1 fat16 \d+ MiB, .* rw \(vdb1\)', log), log
    assert re.search(r'fs: /vdc fat32 \d+ MiB, 512-byte clusters, .* rw \(vdc\)', log), log
    assert [l.rstrip('/') for l in g.run('ls /').split()] == ['vda', 'vdb1', 'vdc']

    for v in vols:
        check_guest_sees(g, v)
    for i, v in enumerate(vols):
        guest_operations(g, v, vols[(i + 1) % 3])
    assert g.run('sync').strip() == ''
    for v in vols:
        check_guest_sees(g, v)

    # Disk full on FAT12: a copy that does not fit fails cleanly.
    out = g.run('cp /vdc/fragmented.bin /vda/too-big.bin', timeout=60)
    assert out.strip() == 'cp: /vda/too-big.bin: no space left', out
    df = g.run('df')
    assert re.search(r'^/vda\s+fat12\s+\d+\s+\d+\s+0$', df, re.M), df
    assert g.run('rm /vda/too-big.bin').strip() == ''
    assert g.run('umount /vda').strip() == 'fs: /vda unmounted'
    assert g.run('ls /vda').strip() == 'ls: /vda: no such file'
    g.send('poweroff\r')
    assert g.wait_exit() == 0
    for v in vols:
        check_host_sees(v)


@pytest.mark.parametrize('bsp', BSPS, ids=arch_name)
def test_fs_power_cut(boot, tmp_path, bsp):
    """QEMU killed while files are written and fsync'ed: fsck.fat -a repairs
    the volume, and every file announced as synced is intact."""
    cuts = int(os.environ.get('FS_POWER_CUTS', '5'))
    rnd = random.Random(bsp)
    img = str(tmp_path / 'cut.img')
    disk('mkfat', img, '40M', '--fat', '32')
    out = build(bsp)
    size = 20000
    synced_total = {}
    for cut in range(cuts):
        g = boot(bsp, out, virtio='modern' if cut % 2 else 'legacy', disks=[img])
        g.run(f'mkdir /vda/c{cut}')
        g.send(f'fstest stream /vda/c{cut} 1000 {size}\r')
        target = rnd.randrange(2, 12)
        for i in range(target):
            g.expect(rf'fstest: synced {i}\r*\n', timeout=60)
        g.p.kill(9)  # the power cut: mid-stream, no unmount
        g.close()
        synced_total[cut] = target
        r = subprocess.run(['/usr/sbin/fsck.fat', '-a', img], capture_output=True, text=True)
        assert r.returncode in (0, 1), r.stdout + r.stderr
        clean, report = fsck(img)
        assert clean, report
        for c, n in synced_total.items():
            vol = Volume(img, '/vda')
            for i in range(n):
                assert vol.read(f'c{c}/s{i}.bin') == pattern(i, size), (cut, c, i)


def boot_smp4(boot, bsp, img):
    """A guest with 4 CPUs online at the prompt, img as vda."""
    g = boot(bsp, build(bsp), disks=[img], smp=4, wait_prompt=False)
    log = g.wait_prompt(timeout=90)
    assert re.search(r'^smp: 4 cpus online', log, re.M), log
    return g


def power_off_and_fsck(g, img):
    assert g.run('sync').strip() == ''
    g.send('poweroff\r')
    assert g.wait_exit() == 0
    clean, report = fsck(img)
    assert clean, report


@pytest.mark.parametrize('bsp', BSPS, ids=arch_name)
def test_fs_threads_one_directory(boot, tmp_path, bsp):
    """Threads pinned one per CPU (-smp 4) writing and verifying their own
    files in one directory; every CPU took part; the host checks every
    file."""
    img = str(tmp_path / 'threads.img')
    disk('mkfat', img, '40M', '--fat', '32')
    g = boot_smp4(boot, bsp, img)
    g.run('mkdir /vda/shared')
    threads, files, size = 4, 5, 30000
    out = g.run(f'fstest threads /vda/shared {threads} {files} {size}', timeout=240)
    assert (f'fstest: {threads} threads x {files} files of {size} bytes, 0 errors, '
            'cpus 0xf') in out, out
    power_off_and_fsck(g, img)
    vol = Volume(img, '/vda')
    for t in range(threads):
        for i in range(files):
            assert vol.read(f'shared/t{t}-{i}.bin') == pattern(t * 1000 + i, size), (t, i)


CHURN_TMP = 'a rather long temporary name, several entries.tmp'
CHURN_FINAL = 'renamed to its final and even longer name, with spaces.bin'


@pytest.mark.parametrize('bsp', BSPS, ids=arch_name)
def test_fs_churn_one_directory(boot, tmp_path, bsp):
    """Threads pinned one per CPU (-smp 4) creating, appending to, renaming
    and deleting long-named files in one directory at once (fstest churn):
    directory-entry slots freed and taken again by other threads, long-name
    entries crossing sectors, the directory growing by clusters. The host
    finds exactly the files that must remain (none of the temporary names),
    each byte for byte, and fsck.fat -n finds the volume clean."""
    img = str(tmp_path / 'churn.img')
    disk('mkfat', img, '40M', '--fat', '32')
    g = boot_smp4(boot, bsp, img)
    g.run('mkdir /vda/churn')
    threads, rounds = 4, 24
    out = g.run(f'fstest churn /vda/churn {threads} {rounds}', timeout=240)
    assert f'fstest: {threads} threads x {rounds} rounds, 0 errors, cpus 0xf' in out, out
    power_off_and_fsck(g, img)
    want = {}
    for t in range(threads):
        for r in range(rounds):
            if r % 3 == 1 and r + 1 < rounds:
                continue  # deleted in round r + 1
            want[f't{t} r{r} {CHURN_FINAL}'] = (pattern(t * 1000 + r, 700 + 37 * r)
                                               + pattern(t * 1000 + r + 500, 300 + 11 * t))
    r = mtools('mdir', '-b', '-i', img, '::churn')
    listed = sorted(os.path.basename(line.rstrip('/'))
                    for line in r.stdout.decode().splitlines() if line.strip())
    assert listed == sorted(want), sorted(set(listed) ^ set(want))
    vol = Volume(img, '/vda')
    for name, data in want.items():
        assert vol.read(f'churn/{name}') == data, name


@pytest.mark.parametrize('bsp', BSPS, ids=arch_name)
def test_files_example_keeps_a_log_across_boots(boot, tmp_path, bsp):
    """examples/files: the boot log grows by a line a boot; the host reads
    it with mtools (tools/disk.py get) and fsck.fat finds the volume clean."""
    out = build(bsp, f'{arch_name(bsp)}-files', ('examples/files/files.conf',))
    img = str(tmp_path / 'files.img')
    disk('mkfat', img, '40M')
    for n in (1, 2):
        g = boot(bsp, out, disks=[img], wait_prompt=False)
        log = g.wait_prompt()
        lines = ''.join(f'boot {i}\r*\n' for i in range(1, n + 1))
        assert re.search(rf'files: /vda/boot-log.txt holds {n} lines?:\r*\n{lines}'
                         rf'files: boot {n} logged to /vda/boot-log.txt', log), log
        g.p.kill(9)  # no clean shutdown: the fsync'ed line must be there anyway
        g.close()
    clean, report = fsck(img)
    assert clean or 'Dirty bit' in report, report
    assert disk('get', img, 'boot-log.txt', '/dev/stdout') == 'boot 1\nboot 2\n'


def test_fs_refuses_damaged_and_foreign_disks(boot, tmp_path):
    """A damaged FAT volume (its FAT too small for its clusters) and a disk
    of random bytes: each refused at boot with a line saying why, neither
    written (the images are unchanged byte for byte after the guest tried)."""
    bsp = BSPS[0]
    bad = str(tmp_path / 'bad.img')
    disk('mkfat', bad, '16M', '--fat', '16')
    with open(bad, 'r+b') as f:  # BPB FAT size (offset 22) down to 1 sector
        f.seek(22)
        f.write((1).to_bytes(2, 'little'))
    foreign = str(tmp_path / 'foreign.img')
    with open(foreign, 'wb') as f:
        f.write(random.Random(7).randbytes(1 << 20))
    before = [open(p, 'rb').read() for p in (bad, foreign)]
    g = boot(bsp, build(bsp), disks=[bad, foreign], wait_prompt=False)
    log = g.wait_prompt()
    assert 'fs: vda: not mounted: FAT smaller than the cluster count needs' in log, log
    assert 'fs: vdb: no FAT file system or partition table' in log, log
    assert g.run('mount vda').strip() == 'fs: vda: not mounted: FAT smaller than the cluster count needs'
    assert g.run('ls /').strip() == ''
    assert g.run('cat /vda/x').strip() == 'cat: /vda/x: no such file'
    g.send('poweroff\r')
    assert g.wait_exit() == 0
    assert [open(p, 'rb').read() for p in (bad, foreign)] == before
