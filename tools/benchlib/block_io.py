"""tools/bench.py --io: wall-clock block I/O on the target (the `iobench`
shell command), WITHOUT -icount, so the figures are host time and follow the
host's load (the CPU reference loop printed beside them says how fast the
host ran the guest).

  tools/bench.py --io [--backend null|file] [--io-seconds S | --io-count N]
                 [--io-size MIB] [--io-dir DIR] [--only NAME] [--json FILE]
                 [--bsp BSP] [--build DIR] [--legacy | --modern | --packed]
                 [--smp N] [--queues N] [--io-jobs N] [--io-transport mmio|pci-modern]
--smp N (tools/bench.py's) boots N CPUs, with multi-threaded TCG (a host
thread per vCPU) for --io;
--queues N gives the disk N request queues (num-queues); --io-jobs N runs
each test in N threads, thread k pinned to CPU k (iobench -j), and the line
sums them. --io-transport pci-modern puts the disk on virtio-pci (modern),
with an MSI-X vector per queue where the board has an MSI controller.

Backends: `null` is QEMU's null-co driver (no data kept, no host I/O: the
cost of the guest and QEMU's virtio path); `file` is a temporary raw file,
written in full first (no holes), with cache=none,aio=threads (O_DIRECT: the host's page cache is bypassed;
the file system of --io-dir must support O_DIRECT, which is checked).
Each test prints one line as it finishes:

  io: <name> <backend> <n> IOPS <n> MB/s <n> kicks/req <n> irqs/req

The depth-1 tests run twice, the second time with polled completions
(`randread-4k-qd1-poll`, `randwrite-4k-qd1-poll`: CONFIG_BLK_POLL, the
waiter spins on the used ring with the queue's interrupts off before it
falls back to the interrupt). Then the targets of the run (checked, not
asserted; see docs/benchmarks.md): depth 32 with EVENT_IDX, and on null-co
the polled depth-1 IOPS against the interrupt-driven ones of the same run.
"""
import json
import mmap
import os
import re
import shlex
import sys
import tempfile
import time

import qemu_cmd

TESTS = ['randread-4k-qd1', 'randread-4k-qd1-poll', 'randread-4k-qd32', 'randwrite-4k-qd1',
         'randwrite-4k-qd1-poll', 'randwrite-4k-qd32', 'seqread-1m', 'seqwrite-1m']
POLL_TARGET = 1.5  # polled QD1 IOPS / interrupt-driven QD1 IOPS on null-co
BACKENDS = {'null': 'null-co', 'file': 'file'}
NUM = r'(\d+(?:\.\d+)?)'
RESULT_RE = re.compile(rf'^io: (\S+) (\S+) (\d+) IOPS {NUM} MB/s {NUM} kicks/req {NUM} irqs/req$')
FAILED_RE = re.compile(r'^io: (\S+) failed \((.*)\)$')
SKIPPED_RE = re.compile(r'^io: (\S+) skipped \((.*)\)$')
RUNNING_RE = re.compile(r'^io: (\S+) running$')
CPU_RE = re.compile(r'^io: cpu-ref (\d+) kloops/s$')
QUEUES_RE = re.compile(r'virtio-blk: .* sectors queues (\d+)')
# The disk's boot line: interface, queue size, and the negotiated features in words.
BOOT_RE = re.compile(r'virtio-blk: (?:mmio|pci) (\w+) \S+ (?:irq|msix) \d+ queue (\d+) ring (\w+) '
                     r'.* features ([a-z0-9_ ]+)')


def add_arguments(p):
    g = p.add_argument_group('wall-clock block I/O (--io)')
    g.add_argument('--io', action='store_true',
                   help='run the wall-clock I/O benchmark (iobench) instead, without -icount')
    g.add_argument('--backend', choices=sorted(BACKENDS), default='null',
                   help='QEMU backend of the disk: null (null-co) or file (raw, cache=none); '
                        'default null')
    amount = g.add_mutually_exclusive_group()
    amount.add_argument('--io-seconds', type=float, metavar='S',
                        help='run each test for S seconds (default 2)')
    amount.add_argument('--io-count', type=int, metavar='N', help='issue N requests per test')
    g.add_argument('--io-size', type=int, default=256, metavar='MIB',
                   help='disk size (default 256 MiB)')
    g.add_argument('--io-dir', metavar='DIR', help='where the file backend\'s image goes '
                   '(default: the temporary directory)')
    g.add_argument('--queues', type=int, default=1, metavar='N',
                   help='request queues of the disk (num-queues; default 1)')
    g.add_argument('--io-transport', choices=('mmio', 'pci-modern'), default='mmio',
                   help='bus of the disk (default mmio)')
    g.add_argument('--io-jobs', type=int, default=1, metavar='N',
                   help='threads per test, thread k pinned to CPU k (iobench -j; default 1)')


def check_o_direct(directory):
    """None when an O_DIRECT read works on directory's file system, else why not."""
    path = os.path.join(directory, '.tern-odirect-check')
    try:
        with open(path, 'wb') as f:
            f.write(b'\0' * 4096)
        fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
        try:
            buf = mmap.mmap(-1, 4096)  # page-aligned, as O_DIRECT needs
            os.readv(fd, [buf])
        finally:
            os.close(fd)
        return None
    except OSError as e:
        return f'O_DIRECT does not work in {directory} ({e.strerror}); pick another --io-dir'
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass


def drive_args(a, tmp):
    size = a.io_size << 20
    if a.backend == 'null':
        drive = f'driver=null-co,size={size},if=none,id=io0'
    else:
        directory = a.io_dir or tmp
        if err := check_o_direct(directory):
            raise ValueError(err)
        path = os.path.join(directory if a.io_dir else tmp, 'iobench.img')
        # Written, not sparse: reads of a hole never reach the disk.
        chunk = b'\xa5' * (1 << 20)
        with open(path, 'wb') as f:
            for _ in range(size >> 20):
                f.write(chunk)
            f.truncate(size)
        drive = f'file={path},if=none,format=raw,cache=none,aio=threads,id=io0'
    # Always named: virtio-blk-pci's default is a queue per vCPU.
    device = qemu_cmd.virtio_device('blk', a.io_transport) + f',drive=io0,num-queues={a.queues}'
    accel = ['-accel', 'tcg,thread=multi'] if (a.smp or 1) > 1 else []
    return accel + ['-drive', drive, '-device', device]


def parse(output):
    results, failed, skipped, cpu = {}, {}, {}, None
    for line in output.splitlines():
        line = line.strip()
        if m := RESULT_RE.match(line):
            results[m.group(1)] = {'backend': m.group(2), 'iops': int(m.group(3)),
                                   'mb_s': float(m.group(4)),
                                   'kicks_per_req': float(m.group(5)),
                                   'irqs_per_req': float(m.group(6))}
        elif m := FAILED_RE.match(line):
            failed[m.group(1)] = m.group(2)
        elif m := SKIPPED_RE.match(line):
            skipped[m.group(1)] = m.group(2)
        elif m := CPU_RE.match(line):
            cpu = int(m.group(1))
    return results, failed, skipped, cpu


def targets(data):
    """The issue's targets, as (text, held) pairs; only where they apply."""
    r = data['results']
    out = []
    q1, q32 = r.get('randread-4k-qd1'), r.get('randread-4k-qd32')
    for name in ('randread-4k-qd1', 'randwrite-4k-qd1'):
        if x := r.get(name):
            out.append((f'{name}: kicks/req {x["kicks_per_req"]:.3f} == 1',
                        x['kicks_per_req'] == 1.0))
            out.append((f'{name}: irqs/req {x["irqs_per_req"]:.3f} <= 1', x['irqs_per_req'] <= 1.0))
        polled = r.get(name + '-poll')
        if x and polled and data['backend'] == 'null-co' and x['iops']:
            ratio = polled['iops'] / x['iops']
            out.append((f'{name}-poll: {ratio:.2f}x the interrupt-driven IOPS >= {POLL_TARGET}x',
                        ratio >= POLL_TARGET))
    if q32 and data['backend'] == 'null-co' and data.get('event_idx'):
        out.append((f'randread-4k-qd32: kicks/req {q32["kicks_per_req"]:.3f} <= 0.1',
                    q32['kicks_per_req'] <= 0.1))
        out.append((f'randread-4k-qd32: irqs/req {q32["irqs_per_req"]:.3f} <= 0.25',
                    q32['irqs_per_req'] <= 0.25))
        if q1 and q1['iops']:
            ratio = q32['iops'] / q1['iops']
            out.append((f'randread-4k-qd32: {ratio:.2f}x the QD1 IOPS >= 2.5x', ratio >= 2.5))
    return out


def run(a, session_class, error_class):
    if err := qemu_cmd.missing_elf_message(a.bsp, a.build):
        raise error_class(err)
    deadline = time.monotonic() + a.timeout
    amount = (f'-n {a.io_count}' if a.io_count else f'-t {int((a.io_seconds or 2) * 1000)}')
    backend = BACKENDS[a.backend]
    jobs = f' -j {a.io_jobs}' if a.io_jobs > 1 else ''
    command = f'iobench -b {backend} {amount}{jobs}' + (f' {a.only}' if a.only else '')
    with tempfile.TemporaryDirectory(prefix='tern-iobench-') as tmp:
        try:
            extra = drive_args(a, tmp)
        except ValueError as e:
            raise error_class(str(e)) from None
        argv = qemu_cmd.command(a.bsp, a.build, virtio=a.virtio, interactive=False, extra=extra,
                                smp=a.smp or 1, transport=a.io_transport)
        print('+ ' + shlex.join(argv), file=sys.stderr, flush=True)
        log = open(a.log, 'w') if a.log else None
        s = session_class(argv, deadline, log)
        try:
            boot = s.wait_prompt('the shell prompt')
            s.at_prompt = False
            s.p.send(command + '\r')
            s.expect(re.escape(command) + r'\r*\n', f'the echo of {command!r}')
            out = []
            while True:  # one line at a time: progress while it runs
                s.expect([r'[^\r\n]*\r*\n', re.escape('msh> ')], 'iobench output')
                line = s.p.match.group(0)
                if not line.endswith('\n'):  # the prompt: done
                    s.at_prompt = True
                    break
                line = line.strip()
                out.append(line)
                if m := RUNNING_RE.match(line):
                    print(f'  {m.group(1)} ...', file=sys.stderr, flush=True)
                elif line.startswith('io: ') or 'command not found' in line:
                    print(line, flush=True)
        finally:
            s.close()
            if log:
                log.close()
    output = '\n'.join(out)
    if 'iobench: command not found' in output:
        raise error_class('the image has no `iobench` command: build it with '
                          'CONFIG_RTOS_BENCH=y and CONFIG_BLOCK=y')
    results, failed, skipped, cpu = parse(output)
    m = BOOT_RE.search(boot)
    features = m.group(4).split() if m else []
    selected = [t for t in TESTS if not a.only or a.only == 'all' or a.only in t]
    for name in selected:
        if name not in results and name not in failed and name not in skipped:
            failed[name] = 'no result line'
    data = {
        'bsp': a.bsp,
        'build': qemu_cmd.build_dir(a.bsp, a.build),
        'virtio': a.virtio or 'default',
        'transport': a.io_transport,
        'ring': m.group(1) if m else None,  # the interface: legacy or modern
        'layout': m.group(3) if m else None,  # split or packed
        'event_idx': 'event_idx' in features,
        'backend': backend,
        'icount': None,
        'amount': amount,
        'smp': a.smp or 1,
        'queues': int(q.group(1)) if (q := QUEUES_RE.search(boot)) else None,
        'jobs': a.io_jobs,
        'qemu': argv,
        'cpu_ref_kloops_per_s': cpu,
        'order': selected,
        'results': results,
        'failed': failed,
        'skipped': skipped,
    }
    return data


def main(a, session_class, error_class, git_revision):
    """The --io run of tools/bench.py; returns the exit status."""
    try:
        data = run(a, session_class, error_class)
    except (error_class, OSError) as e:
        print(f'bench.py: {e}', file=sys.stderr)
        return 1
    data['git'] = git_revision()
    print(f"{data['bsp']} (virtio {data['virtio']}, {data['ring'] or '?'} {data['layout'] or '?'} "
          f"ring over {data['transport']}, EVENT_IDX "
          f"{'on' if data['event_idx'] else 'off'}, backend {data['backend']}, "
          f"{data['amount']}, smp {data['smp']}, queues {data['queues']}, jobs {data['jobs']}, "
          f"no -icount, CPU reference {data['cpu_ref_kloops_per_s']} kloops/s, "
          f"git {data['git'] or '?'})")
    for name, why in data['failed'].items():
        print(f'io: {name} FAILED ({why})')
    data['targets'] = []
    for text, held in targets(data):
        print(f"target: {text}: {'holds' if held else 'MISSED'}")
        data['targets'].append({'target': text, 'held': held})
    if a.json:
        with open(a.json, 'w') as f:
            json.dump(data, f, indent=2)
            f.write('\n')
    return 1 if data['failed'] or not data['results'] else 0
