"""tools/bench.py --fs: wall-clock file-system throughput on the target (the
`fsbench` shell command) beside the raw block figures of the same boot
(`iobench`'s seqwrite-1m and seqread-1m on the same disk), WITHOUT -icount:
host time, which follows the host's load.

  tools/bench.py --fs [--fs-size MIB] [--fs-files N] [--io-dir DIR] [--json FILE]
                 [--bsp BSP] [--build DIR] [--legacy | --modern]

Two boots, one per backend, each with a FAT32 volume of 256 MiB (4 KiB
clusters) made by mkfs.fat (through tools/disk.py's tools):
  file     a raw image file, written in full first, cache=none,aio=threads
           (O_DIRECT, as --io's file backend); the volume mounted at /vda.
  null-co  QEMU's null-co driver (keeps nothing, no host I/O) for the data
           area past its first 2 MiB, a raw file for the FATs, directories
           and small files (`fsbench split`; an untimed pad file then moves
           the 16 MiB file past it): the big file's data costs no host I/O
           while everything the file system reads back is kept.
Each prints

  fs: <test> <backend> <value> MB/s | files/s

and the aim: seqread within 80 % of the raw seqread-1m of the same disk. The
file system's read and the raw read alternate 3 times in the boot; the
table shows the medians (the JSON every sample). Beside each seqread, the
reading thread's CPU time per MiB (`cpu ns/MiB`): with --fs-icount the boots
run under -icount shift=0 and that figure is the guest's instructions per MiB
read, which the host's load does not move (the MB/s figures then mean little).
Not sleep=off, as tools/bench.py with a disk (its ICOUNT_IO): while the guest
waits for the host's I/O virtual time must follow real time, or the
driver's request timeouts expire.
"""
import json
import os
import re
import shlex
import struct
import subprocess
import sys
import tempfile
import time

import qemu_cmd

from benchlib import block_io

VOLUME_MIB = 256
ROUNDS = 3  # sequential reads, file system and raw, alternated
META_EXTRA = 2 << 20  # bytes of data area on the metadata file (null-co run): the small files
NUM = r'(\d+(?:\.\d+)?)'
RATE_RE = re.compile(rf'^fs: (seq(?:write|read)-\d+m) (\S+) {NUM} MB/s$')
CREATE_RE = re.compile(r'^fs: create-small (\S+) (\d+) files/s$')
ICOUNT = ['-icount', 'shift=0']  # sleep on: see above
CPU_RE = re.compile(r'^fs: (seq(?:write|read)-\d+m) (\S+) cpu (\d+) ns/MiB$')
FAILED_RE = re.compile(r'^(?:fs|io): (\S+) failed \((.*)\)$')


def add_arguments(p):
    g = p.add_argument_group('wall-clock file system (--fs)')
    g.add_argument('--fs', action='store_true',
                   help='run the file-system benchmark (fsbench) on the null-co and file '
                        'backends, beside the raw block figures, without -icount')
    g.add_argument('--fs-size', type=int, default=16, metavar='MIB',
                   help='size of the sequential file (default 16 MiB)')
    g.add_argument('--fs-files', type=int, default=200, metavar='N',
                   help='small files created (default 200)')
    g.add_argument('--fs-icount', action='store_true',
                   help='boot under -icount: the cpu ns/MiB of seqread is then an instruction '
                        'count per MiB read (the rates are not wall clock)')


def make_image(path, size, fill=True):
    """A FAT32 image of `size` bytes, written in full first (no holes), then
    formatted by mkfs.fat (4 KiB clusters)."""
    chunk = b'\xa5' * (1 << 20)
    with open(path, 'wb') as f:
        for _ in range(size >> 20):
            f.write(chunk)
    r = subprocess.run(['/usr/sbin/mkfs.fat', '-F', '32', '-s', '8', path],
                       capture_output=True, text=True)
    if r.returncode:
        raise ValueError(f'mkfs.fat failed: {r.stderr.strip() or r.stdout.strip()} '
                         '(tools/setup.sh test installs dosfstools)')


def data_start(path):
    """The first sector of the data area, from the boot sector."""
    with open(path, 'rb') as f:
        bs = f.read(512)
    reserved, nfats, fat32 = struct.unpack_from('<H', bs, 14)[0], bs[16], \
        struct.unpack_from('<I', bs, 36)[0]
    return reserved + nfats * fat32


def drive(path, ident):
    return ['-drive', f'file={path},if=none,format=raw,cache=none,aio=threads,id={ident}',
            '-device', f'virtio-blk-device,drive={ident}']


def parse(output, backend):
    """Results (the median of repeated tests), failures."""
    samples, failed = {}, {}
    for line in output.splitlines():
        line = line.strip()
        if m := RATE_RE.match(line):
            samples.setdefault(m.group(1), []).append({'mb_s': float(m.group(3))})
        elif (m := CPU_RE.match(line)) and samples.get(m.group(1)):
            samples[m.group(1)][-1]['cpu_ns_mib'] = int(m.group(3))
        elif m := CREATE_RE.match(line):
            samples.setdefault('create-small', []).append({'files_s': int(m.group(2))})
        elif m := block_io.RESULT_RE.match(line):
            samples.setdefault('raw-' + m.group(1), []).append(
                {'mb_s': float(m.group(4)), 'iops': int(m.group(3))})
        elif m := FAILED_RE.match(line):
            failed[m.group(1)] = m.group(2)
    results = {}
    for name, runs in samples.items():
        key = 'files_s' if 'files_s' in runs[0] else 'mb_s'
        ordered = sorted(runs, key=lambda r: r[key])
        results[name] = dict(ordered[len(ordered) // 2], runs=[r[key] for r in runs])
        cpu = sorted(r['cpu_ns_mib'] for r in runs if 'cpu_ns_mib' in r)
        if cpu:
            results[name]['cpu_ns_mib'] = cpu[len(cpu) // 2]
            results[name]['cpu_runs'] = [r.get('cpu_ns_mib') for r in runs]
    return results, failed


def run_backend(a, backend, tmp, session_class, error_class):
    directory = a.io_dir or tmp
    if err := block_io.check_o_direct(directory):
        raise error_class(err)
    size = VOLUME_MIB << 20
    image = os.path.join(directory, f'fsbench-{backend}.img')
    try:
        make_image(image, size)
        if backend == 'null':
            meta_bytes = data_start(image) * 512 + META_EXTRA
            os.truncate(image, meta_bytes)
            extra = drive(image, 'meta') + [
                '-drive', f'driver=null-co,size={size},read-zeroes=on,if=none,id=data',
                '-device', 'virtio-blk-device,drive=data']
            label, mount, disk = 'null-co', '/nul', 'vdb'
            prepare = ['fsbench split vda vdb /nul']
            pad = f' -p {meta_bytes // 1024}'  # the big file past the metadata disk
        else:
            extra = drive(image, 'vol')
            label, mount, disk = 'file', '/vda', 'vda'
            prepare, pad = [], ''
        if a.fs_icount:
            extra = ICOUNT + extra
        argv = qemu_cmd.command(a.bsp, a.build, virtio=a.virtio, interactive=False, extra=extra)
        print('+ ' + shlex.join(argv), file=sys.stderr, flush=True)
        log = open(a.log + f'.{backend}', 'w') if a.log else None
        s = session_class(argv, time.monotonic() + a.timeout, log)
        out = []
        try:
            s.wait_prompt('the shell prompt')
            # The read and the raw read alternate ROUNDS times (medians): on a
            # busy host a single pair can land in different load; the raw
            # write goes last (it overwrites the volume).
            fs_cmd = f'fsbench -b {label} -s {a.fs_size} -n {a.fs_files}{pad} {mount}'
            commands = prepare + [fs_cmd, f'iobench -d {disk} -b {label} -t 1000 seqread']
            for _ in range(ROUNDS - 1):
                commands += [f'fsbench -r -b {label} -s {a.fs_size} {mount}',
                             f'iobench -d {disk} -b {label} -t 1000 seqread']
            commands.append(f'iobench -d {disk} -b {label} -t 2000 seqwrite')
            for command in commands:
                text = s.run(command, f'the output of {command!r}')
                if 'failed' in text or 'not mounted' in text:
                    print(text, file=sys.stderr)
                out.append(text)
                for line in text.splitlines():
                    if RATE_RE.match(line.strip()) or CREATE_RE.match(line.strip()) or \
                            CPU_RE.match(line.strip()) or block_io.RESULT_RE.match(line.strip()):
                        print(line.strip(), flush=True)
        finally:
            s.close()
            if log:
                log.close()
    finally:
        if os.path.exists(image):
            os.unlink(image)
    results, failed = parse('\n'.join(out), backend)
    return {'backend': label, 'qemu': argv, 'results': results, 'failed': failed}


def target(run, size_mib):
    r = run['results']
    read, raw = r.get(f'seqread-{size_mib}m'), r.get('raw-seqread-1m')
    if not read or not raw or not raw['mb_s']:
        return None
    ratio = read['mb_s'] / raw['mb_s']
    return (f"{run['backend']}: seqread {read['mb_s']:.1f} MB/s is {ratio * 100:.0f} % of the raw "
            f"seqread-1m {raw['mb_s']:.1f} MB/s (aim >= 80 %)", ratio >= 0.8)


def print_table(runs, size_mib):
    cols = [f'seqwrite-{size_mib}m', f'seqread-{size_mib}m', 'create-small', 'raw-seqwrite-1m',
            'raw-seqread-1m']
    print(f"{'backend':<8} " + ' '.join(f'{c:>16}' for c in cols))
    for run in runs:
        cells = []
        for c in cols:
            x = run['results'].get(c)
            if not x:
                cells.append('-')
            elif 'files_s' in x:
                cells.append(f"{x['files_s']} files/s")
            else:
                cells.append(f"{x['mb_s']:.1f} MB/s")
        print(f"{run['backend']:<8} " + ' '.join(f'{c:>16}' for c in cells))


def main(a, session_class, error_class, git_revision):
    """The --fs run of tools/bench.py; returns the exit status."""
    if err := qemu_cmd.missing_elf_message(a.bsp, a.build):
        print(f'bench.py: {err}', file=sys.stderr)
        return 1
    runs = []
    with tempfile.TemporaryDirectory(prefix='tern-fsbench-') as tmp:
        for backend in ('null', 'file'):
            try:
                runs.append(run_backend(a, backend, tmp, session_class, error_class))
            except (error_class, OSError, ValueError) as e:
                print(f'bench.py: {e}', file=sys.stderr)
                return 1
    print(f"{a.bsp} (virtio {a.virtio or 'default'}, FAT32 {VOLUME_MIB} MiB, 4 KiB clusters, "
          f"{'-icount ' + ICOUNT[1] if a.fs_icount else 'no -icount'}, "
          f"git {git_revision() or '?'})")
    print_table(runs, a.fs_size)
    for run in runs:
        if cpu := run['results'].get(f'seqread-{a.fs_size}m', {}).get('cpu_ns_mib'):
            what = 'instructions' if a.fs_icount else 'ns of CPU time'
            print(f"{run['backend']}: seqread costs {cpu} {what} per MiB read")
    status = 0
    targets = []
    for run in runs:
        for name, why in run['failed'].items():
            print(f"fs: {run['backend']} {name} FAILED ({why})")
            status = 1
        if not run['results']:
            status = 1
        if t := target(run, a.fs_size):
            print(f"target: {t[0]}: {'holds' if t[1] else 'MISSED'}")
            targets.append({'target': t[0], 'held': t[1]})
    if a.json:
        with open(a.json, 'w') as f:
            json.dump({'bsp': a.bsp, 'virtio': a.virtio or 'default', 'git': git_revision(),
                       'icount': ICOUNT[1] if a.fs_icount else None,
                       'runs': runs, 'targets': targets}, f, indent=2)
            f.write('\n')
    return status
