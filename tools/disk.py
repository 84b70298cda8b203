#!/usr/bin/python3
"""Create and inspect the raw disk images the examples and tests use.

  tools/disk.py create FILE SIZE           a sparse image of SIZE zeros (64M, 512K, 1G)
  tools/disk.py inspect FILE [--lba N]     size, what examples/blk wrote (superblocks,
                                           journal records, each checked as the guest
                                           checks it) and the sectors `blk stamp` wrote
  tools/disk.py dump FILE LBA [COUNT]      hex dump of COUNT sectors (default 1) from
                                           LBA, in the format of the shell's `blk read`

FAT images (the guest mounts them at /vda, /vdb1...; docs/filesystem.md). These
call Debian's dosfstools, mtools and sfdisk; this tool never writes FAT
structures itself:
  tools/disk.py mkfat FILE SIZE [--fat 12|16|32] [--label L] [--partition]
                                           a new image formatted by mkfs.fat; with
                                           --partition, an MBR (sfdisk) whose
                                           partition 1 holds the volume
  tools/disk.py put FILE SRC... [--to DIR] copy host files/directories in (mcopy -s)
  tools/disk.py get FILE PATH DEST         copy a file or directory out (mcopy -s)
  tools/disk.py ls FILE [PATH]             list a directory (mdir)
  tools/disk.py check FILE [--repair]      fsck.fat -n (or -a): exit 0 when clean
  (put, get, ls and check take --partition N for a partitioned image)

inspect exits 1 when the persistence state it finds is damaged (a record that
does not verify); an image without any is fine. The on-disk format is
examples/blk/blk_persist.cpp's: at --lba (CONFIG_EXAMPLE_BLK_PERSIST_LBA,
default 0) two superblock copies, then the journal ring, one record a sector.
"""
import argparse
import os
import signal
import struct
import subprocess
import sys
import zlib

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu_cmd  # noqa: E402

SECTOR = 512
SUPER = struct.Struct('<8sIIQQII')   # magic, version, journal_slots, generation, boot_count, reserved, crc
SUPER_MAGIC = b'TERNPST1'
SUPER_CRC_LEN = 36                   # offsetof(Superblock, crc)
RECORD = struct.Struct('<IIQQQ48s')  # magic, crc, seq, boot, uptime_ticks, text; then the pattern
RECORD_MAGIC = 0x4e524a54            # "TJRN"
MAX_SLOTS = 1024                     # CONFIG_EXAMPLE_BLK_PERSIST_JOURNAL's range


def read_sectors(f, lba, count):
    f.seek(lba * SECTOR)
    data = f.read(count * SECTOR)
    return data + b'\0' * (count * SECTOR - len(data))


def hexdump(data, start_offset):
    """Lines as the shell's `blk read` prints them."""
    lines = []
    for off in range(0, len(data), 16):
        row = data[off:off + 16]
        text = ''.join(chr(c) if 0x20 <= c < 0x7f else '.' for c in row)
        lines.append(f'{start_offset + off:08x}: ' + ' '.join(f'{c:02x}' for c in row) + f'  |{text}|')
    return lines


def parse_superblock(sector):
    """The superblock's fields, or None when the sector holds no valid copy."""
    magic, version, slots, generation, boots, _, crc = SUPER.unpack_from(sector)
    if magic != SUPER_MAGIC or version != 1 or zlib.crc32(sector[:SUPER_CRC_LEN]) != crc:
        return None
    return {'journal_slots': slots, 'generation': generation, 'boot_count': boots}


def check_record(sector, seq):
    """None when the record of boot `seq` verifies, else why not (as the guest says)."""
    magic, crc, rseq, boot, _, _ = RECORD.unpack_from(sector)
    if magic != RECORD_MAGIC:
        return 'bad record magic'
    if zlib.crc32(sector[:4] + b'\0\0\0\0' + sector[8:]) != crc:
        return 'record checksum mismatch'
    if rseq != seq or boot != seq + 1:
        return 'record out of sequence'
    pattern = sector[RECORD.size:]
    if any(b != (seq * 131 + i * 7) & 0xff for i, b in enumerate(pattern)):
        return 'record payload corrupted'
    return None


def record_text(sector):
    return RECORD.unpack_from(sector)[5].split(b'\0')[0].decode('ascii', 'replace')


def inspect_persist(f, sectors, base):
    """Lines describing the examples/blk state at `base`; (lines, damaged)."""
    if base + 2 > sectors:
        return [f'persist: lba {base} is beyond the disk'], False
    copies = [parse_superblock(read_sectors(f, base + i, 1)) for i in (0, 1)]
    lines = [f'persist: superblock {i} (lba {base + i}): ' +
             (f'generation {c["generation"]}, {c["boot_count"]} boots, {c["journal_slots"]} slots'
              if c else 'none') for i, c in enumerate(copies)]
    valid = [c for c in copies if c]
    if not valid:
        return lines + ['persist: no state (a new journal starts at the next boot)'], False
    sb = max(valid, key=lambda c: c['generation'])
    slots, boots = sb['journal_slots'], sb['boot_count']
    if not 0 < slots <= MAX_SLOTS or base + 2 + slots > sectors:
        return lines + [f'persist: {slots} journal slots do not fit the disk'], True
    first = max(0, boots - slots)
    damaged = False
    for seq in range(first, boots):
        lba = base + 2 + seq % slots
        sector = read_sectors(f, lba, 1)
        why = check_record(sector, seq)
        damaged |= why is not None
        lines.append(f'persist: record {seq} (lba {lba}): ' + (why or f'ok "{record_text(sector)}"'))
    lines.append(f'persist: {boots} boots recorded, {boots - first} records kept, ' +
                 ('DAMAGED' if damaged else 'all verified'))
    return lines, damaged


def stamped_ranges(f, sectors, limit=1 << 16):
    """LBA ranges whose sectors hold `blk stamp`'s pattern (their LBA, 64 times;
    sector 0's is all zeros, as an unwritten one, so it is never counted); the
    first `limit` sectors are looked at."""
    ranges, start = [], None
    f.seek(0)
    for lba in range(min(sectors, limit)):
        data = f.read(SECTOR)
        if lba and data == struct.pack('<Q', lba) * 64:
            start = lba if start is None else start
        elif start is not None:
            ranges.append((start, lba - 1))
            start = None
    if start is not None:
        ranges.append((start, min(sectors, limit) - 1))
    return ranges


FAT_TYPES = {12: 0x01, 16: 0x06, 32: 0x0c}  # the MBR partition type of each
PART_START = 2048  # sectors: where --partition puts the volume (1 MiB, as fdisk does)


def run_tool(argv, **kw):
    """Runs a host tool; its CompletedProcess (SystemExit with a hint when missing)."""
    env = dict(os.environ, MTOOLS_SKIP_CHECK='1', LC_ALL='C.UTF-8')
    try:
        return subprocess.run(argv, capture_output=True, text=True, env=env, **kw)
    except FileNotFoundError:
        sys.exit(f'disk.py: {argv[0]} not found: tools/setup.sh test installs dosfstools, '
                 'mtools and fdisk')


def partition_offset(image, number):
    """Byte offset of MBR/GPT partition `number` (sfdisk --json), 0 for None."""
    if not number:
        return 0
    r = run_tool(['/usr/sbin/sfdisk', '--json', image])
    if r.returncode:
        sys.exit(f'disk.py: {image}: no partition table ({r.stderr.strip()})')
    import json
    parts = json.loads(r.stdout)['partitiontable'].get('partitions', [])
    if not 1 <= number <= len(parts):
        sys.exit(f'disk.py: {image}: no partition {number} ({len(parts)} partitions)')
    return parts[number - 1]['start'] * SECTOR


def mtools_image(image, number):
    """mtools' -i argument: the image, with @@offset for a partition."""
    off = partition_offset(image, number)
    return f'{image}@@{off}' if off else image


def mkfat(a, p):
    size = qemu_cmd.parse_size(a.size)
    if not size or size % SECTOR:
        p.error(f"size '{a.size}': expected a multiple of 512 bytes like 64M")
    if os.path.exists(a.file):
        p.error(f'{a.file} already exists (remove it first)')
    with open(a.file, 'xb') as f:
        f.truncate(size)
    fmt = ['/usr/sbin/mkfs.fat', '-F', str(a.fat)] + (['-n', a.label] if a.label else [])
    if a.partition:
        table = f'label: dos\nstart={PART_START}, type={FAT_TYPES[a.fat]:x}\n'
        r = run_tool(['/usr/sbin/sfdisk', '--quiet', a.file], input=table)
        if r.returncode:
            os.unlink(a.file)
            sys.exit(f'disk.py: sfdisk failed: {r.stderr.strip()}')
        count = size // SECTOR - PART_START
        fmt += ['--offset', str(PART_START), a.file, str(count * SECTOR // 1024)]
    else:
        fmt += [a.file]
    r = run_tool(fmt)
    if r.returncode:
        os.unlink(a.file)
        sys.exit(f'disk.py: mkfs.fat failed: {r.stderr.strip() or r.stdout.strip()}')
    where = f'partition 1 (from sector {PART_START})' if a.partition else 'the whole disk'
    print(f'created {a.file}: {size} bytes, FAT{a.fat} on {where}')
    return 0


def fat_command(a):
    img = mtools_image(a.file, a.partition)
    if a.cmd == 'put':
        dest = '::' + (a.to or '/')
        r = run_tool(['mcopy', '-s', '-o', '-i', img] + a.src + [dest])
    elif a.cmd == 'get':
        r = run_tool(['mcopy', '-s', '-n', '-o', '-i', img, '::' + a.path, a.dest])
    elif a.cmd == 'ls':
        r = run_tool(['mdir', '-i', img, '::' + (a.path or '/')])
    else:  # check: fsck.fat on the image, or on a copy of the partition
        off = partition_offset(a.file, a.partition)
        target = a.file
        if off:
            import tempfile
            tmp = tempfile.NamedTemporaryFile(suffix='.img', delete=False)
            with open(a.file, 'rb') as f:
                f.seek(off)
                while chunk := f.read(1 << 20):
                    tmp.write(chunk)
            tmp.close()
            target = tmp.name
        r = run_tool(['/usr/sbin/fsck.fat', '-a' if a.repair else '-n', target])
        if off:
            if a.repair and r.returncode in (0, 1):
                with open(target, 'rb') as src, open(a.file, 'r+b') as dst:
                    dst.seek(off)
                    while chunk := src.read(1 << 20):
                        dst.write(chunk)
            os.unlink(target)
    sys.stdout.write(r.stdout)
    sys.stderr.write(r.stderr)
    return r.returncode


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split('\n', 2)[2])
    sub = p.add_subparsers(dest='cmd', required=True)
    c = sub.add_parser('create', help='create a sparse image of zeros')
    c.add_argument('file')
    c.add_argument('size', help='64M, 512K, 1G (a multiple of 512 bytes)')
    i = sub.add_parser('inspect', help='describe what the examples and blk stamp wrote')
    i.add_argument('file')
    i.add_argument('--lba', type=int, default=0, help='first sector of the persistence demo')
    d = sub.add_parser('dump', help='hex dump of a sector range')
    d.add_argument('file')
    d.add_argument('lba', type=int)
    d.add_argument('count', type=int, nargs='?', default=1)
    m = sub.add_parser('mkfat', help='a new FAT image (mkfs.fat; sfdisk with --partition)')
    m.add_argument('file')
    m.add_argument('size', help='64M, 1G (a multiple of 512 bytes)')
    m.add_argument('--fat', type=int, choices=sorted(FAT_TYPES), default=32)
    m.add_argument('--label', help='volume label (up to 11 characters)')
    m.add_argument('--partition', action='store_true',
                   help='an MBR with the volume in partition 1')
    for name, text in (('put', 'copy host files in (mcopy)'), ('get', 'copy a file out (mcopy)'),
                       ('ls', 'list a directory (mdir)'), ('check', 'fsck.fat the volume')):
        f = sub.add_parser(name, help=text)
        f.add_argument('file')
        if name == 'put':
            f.add_argument('src', nargs='+')
            f.add_argument('--to', help='directory in the image (default /)')
        elif name == 'get':
            f.add_argument('path')
            f.add_argument('dest')
        elif name == 'ls':
            f.add_argument('path', nargs='?')
        else:
            f.add_argument('--repair', action='store_true', help='fsck.fat -a (repairs)')
        f.add_argument('--partition', type=int, metavar='N', help='partition N of the image')
    a = p.parse_args()
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `disk.py dump ... | head`
    if a.cmd == 'mkfat':
        return mkfat(a, p)
    if a.cmd in ('put', 'get', 'ls', 'check'):
        return fat_command(a)

    if a.cmd == 'create':
        size = qemu_cmd.parse_size(a.size)
        if not size or size % SECTOR:
            p.error(f"size '{a.size}': expected a multiple of 512 bytes like 64M, 512K or 1G")
        try:
            with open(a.file, 'xb') as f:
                f.truncate(size)
        except FileExistsError:
            p.error(f'{a.file} already exists (remove it first)')
        print(f'created {a.file}: {size} bytes, {size // SECTOR} sectors of zeros')
        return 0

    try:
        f = open(a.file, 'rb')
    except OSError as e:
        p.error(f'{a.file}: {e.strerror}')
    with f:
        size = os.fstat(f.fileno()).st_size
        sectors = size // SECTOR
        if a.cmd == 'dump':
            if a.lba < 0 or a.count < 1 or a.lba + a.count > sectors:
                p.error(f'sectors {a.lba}..{a.lba + a.count - 1} are not on the disk '
                        f'({sectors} sectors)')
            print('\n'.join(hexdump(read_sectors(f, a.lba, a.count), a.lba * SECTOR)))
            return 0
        print(f'{a.file}: {size} bytes, {sectors} sectors')
        lines, damaged = inspect_persist(f, sectors, a.lba)
        print('\n'.join(lines))
        for first, last in stamped_ranges(f, sectors):
            print(f'stamp: sectors {first}..{last} hold blk stamp\'s pattern')
        return 1 if damaged else 0


if __name__ == '__main__':
    sys.exit(main())
