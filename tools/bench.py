#!/usr/bin/python3
"""Run the on-target benchmarks in QEMU and report instructions per operation.

  tools/bench.py [--bsp BSP] [--build DIR] [--legacy | --modern | --packed] [--only NAME]
                 [--disk FILE[,ro] | --disk-size MIB | --no-disk]
                 [--json FILE] [--compare OLD.json] [--from-json FILE]
  tools/bench.py --thread-metric [--period S] [--only NAME] [...]
  tools/bench.py --smp N [--only NAME] [...]
  tools/bench.py --speedup [--smp N] [--repeat R] [...]
  tools/bench.py --check-baseline | --update-baseline [...]
  tools/bench.py --net [--net-size MIB] [--net-requests N] [--only NAME] [...]
  tools/bench.py --fs [--fs-size MIB] [--fs-files N] [--io-dir DIR] [...]

It builds nothing: build the image first (scons BSP=<bsp> [BUILD=<dir>]).
The board is the one the build folder was configured for, as in tools/run.py.
It boots the image under `-icount shift=0` (virtual time advances 1 ns per
guest instruction, so costs are instruction counts, independent of the
host's load; `sleep=off` too when no disk is attached: see ICOUNT_IO),
attaches a scratch disk as vda (a temporary sparse file
unless --disk names one; the write benchmarks overwrite its last MiB), types
`bench` in the shell, parses the `bench: ...` lines and prints a table.
QEMU is always killed; the whole run is limited to --timeout seconds.

--thread-metric types `tm <test>` instead (rtos/bench/thread_metric.cpp,
tools/benchlib/thread_metric.py): the Thread-Metric scores in events per 5
virtual seconds beside FreeRTOS's and the targets. --check-baseline is the
regression gate (tools/benchlib/baseline.py): it compares the run with
tools/bench-baseline/<bsp>.json and fails on a figure more than 2 % worse;
--update-baseline rewrites those files. --net (tools/benchlib/net.py) boots
a build of the network demo without -icount and measures TCP through
virtio-net from the host, in wall-clock time.

--smp N boots N CPUs and runs the benchmarks across CPUs, which `bench`
runs only on request (`bench smp_`: smp_wake_pingpong, smp_ipi_roundtrip,
smp_parallel_work), under -icount as the others. --speedup times
smp_parallel_work (fixed work split over one thread pinned to each CPU)
without -icount, one host thread per vCPU (-accel tcg,thread=multi), at
-smp 1 and at -smp N (default 2) alternately, --repeat times, and prints
the ratio of the medians: the parallel speed-up by wall clock (it depends
on how busy the host is; the load average is printed beside it).

Examples:
  scons BSP=qemu-virt64-riscv && tools/bench.py --json before.json
  # ... change the code, rebuild ...
  scons BSP=qemu-virt64-riscv && tools/bench.py --compare before.json
  tools/bench.py --bsp qemu-virt64-aarch64 --modern --only blk
  tools/bench.py --from-json after.json --compare before.json   # no boot
  tools/bench.py --thread-metric --only interrupt --period 0.1
  tools/bench.py --smp 4 --bsp qemu-virt64-aarch64    # cross-CPU wake-up and IPI
  tools/bench.py --speedup --repeat 5                 # -smp 2 over -smp 1, wall clock
  scons BSP=qemu-virt64-riscv -j2 && scons BSP=qemu-virt64-aarch64 -j2 && tools/bench.py --update-baseline
  scons BSP=qemu-virt64-riscv BUILD=build/net-riscv CONFIG=examples/net/net.conf && tools/bench.py --net --build build/net-riscv
  tools/bench.py --io --backend null --modern     # wall-clock I/O (tools/benchlib/block_io.py)
  tools/bench.py --fs --modern                    # file system (tools/benchlib/fs_bench.py)

Exit status: 0 when every selected benchmark gave a result or was skipped
(no disk, read-only disk) and the gate (if asked) passed, 1 otherwise.
"""
import argparse
import json
import math
import os
import re
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu_cmd  # noqa: E402
from benchlib import baseline, block_io, chart, fs_bench, net, thread_metric  # noqa: E402

# 1 ns of virtual time per instruction. sleep=off: an idle guest's virtual
# time jumps to its next timer, so no host time counts. Only while no host
# thread works for the guest: with a disk, QEMU does the I/O in host time,
# and a jump while the guest waits for it lands on the driver's request
# timeout (10 s) before the host is done ("read failed"). With a disk the
# idle guest's time follows host time instead (sleep on). Both leave the
# waiting out of the figures, which are the same.
ICOUNT_NO_IO = 'shift=0,sleep=off'
ICOUNT_IO = 'shift=0'
MULTI = ['-accel', 'tcg,thread=multi']  # --speedup: one host thread per vCPU, real time
ON_REQUEST = 'on request'  # `bench -l`: the benchmarks listed after this line run on request
PROMPT = 'msh> '
NUM = r'(\d+(?:\.\d+)?)'
RESULT_RE = re.compile(rf'^bench: (\w+) {NUM} insn/op \(min {NUM}, (\d+) runs(?:, (\d+) B/op)?\)$')
SKIPPED_RE = re.compile(r'^bench: (\w+) skipped \((.*)\)$')
FAILED_RE = re.compile(r'^bench: (\w+) failed \((.*)\)$')
COUNTER_RE = re.compile(r'^bench: counter (\d+) Hz')
SUMMARY_RE = r'bench: (\d+) results, (\d+) skipped, (\d+) failed'
LIST_RE = re.compile(r'^  (\w+)\s')


class BenchError(Exception):
    pass


def parse(output):
    """The `bench` command's output -> (results, skipped, failed, counter_hz)."""
    results, skipped, failed, counter = {}, {}, {}, None
    for line in output.splitlines():
        line = line.strip()
        if m := RESULT_RE.match(line):
            results[m.group(1)] = {'insn_per_op': float(m.group(2)), 'min': float(m.group(3)),
                                   'runs': int(m.group(4)),
                                   'bytes_per_op': int(m.group(5)) if m.group(5) else 0}
        elif m := SKIPPED_RE.match(line):
            skipped[m.group(1)] = m.group(2)
        elif m := FAILED_RE.match(line):
            failed[m.group(1)] = m.group(2)
        elif m := COUNTER_RE.match(line):
            counter = int(m.group(1))
    return results, skipped, failed, counter


class Session:
    """QEMU driven through its serial console, with one deadline for everything."""

    def __init__(self, argv, deadline, log):
        import pexpect  # python3-pexpect; imported here so --from-json works without it
        self.pexpect = pexpect
        self.deadline = deadline
        self.p = pexpect.spawn(argv[0], argv[1:], encoding='utf-8', codec_errors='replace',
                               echo=False, timeout=None)
        self.p.logfile_read = log
        self.p.delaybeforesend = None
        self.at_prompt = False

    def wait_prompt(self, what):
        out = self.expect(re.escape(PROMPT), what)
        self.at_prompt = True
        return out

    def expect(self, pattern, what):
        left = self.deadline - time.monotonic()
        try:
            if left <= 0:
                raise self.pexpect.TIMEOUT('deadline')
            self.p.expect(pattern, timeout=left)
        except self.pexpect.TIMEOUT:
            raise BenchError(f'timed out waiting for {what}; last output:\n'
                             f'{self.p.before[-1500:]}') from None
        except self.pexpect.EOF:
            raise BenchError(f'QEMU exited while waiting for {what}; output:\n'
                             f'{self.p.before[-1500:]}') from None
        return self.p.before

    def run(self, command, what):
        """Types a command; returns its output up to the next prompt."""
        self.at_prompt = False
        self.p.send(command + '\r')
        self.expect(re.escape(command) + r'\r*\n', f'the echo of {command!r}')
        out = self.wait_prompt(what)
        if f'{command.split()[0]}: command not found' in out:
            raise BenchError(f'the image has no `{command.split()[0]}` command: '
                             'build it with CONFIG_RTOS_BENCH=y')
        return re.sub(r'\r+\n', '\n', out)

    def close(self):
        """Powers off a guest waiting at its prompt, then makes sure QEMU is gone."""
        try:
            if self.at_prompt and self.p.isalive():
                self.p.send('poweroff\r')
                self.p.expect(self.pexpect.EOF, timeout=5)
        except Exception:  # noqa: BLE001 (any failure: kill below)
            pass
        finally:
            if self.p.isalive():
                self.p.terminate(force=True)
            self.p.close(force=True)


def git_revision():
    try:
        return subprocess.run(['git', 'describe', '--always', '--dirty'], cwd=qemu_cmd.ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                              timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def run_benchmarks(a):
    if err := qemu_cmd.missing_elf_message(a.bsp, a.build):
        raise BenchError(err)
    if a.disk and (err := qemu_cmd.check_disk(
            a.disk, hint='without --disk a temporary scratch disk of --disk-size MiB is used')):
        raise BenchError(err)
    deadline = time.monotonic() + a.timeout
    with tempfile.TemporaryDirectory(prefix='tern-bench-') as tmp:
        disks = []
        if a.disk:
            disks = [a.disk]
        elif not a.no_disk and not a.thread_metric:
            path = os.path.join(tmp, 'scratch.img')
            with open(path, 'wb') as f:
                f.truncate(a.disk_size << 20)
            disks = [path + ',unsafe']
        wall_clock = getattr(a, 'wall_clock', False)
        icount = ICOUNT_IO if disks else ICOUNT_NO_IO
        argv = qemu_cmd.command(a.bsp, a.build, virtio=a.virtio, interactive=False,
                                disks=disks, extra=MULTI if wall_clock else ['-icount', icount],
                                smp=a.smp or 1)
        print('+ ' + shlex.join(argv), file=sys.stderr, flush=True)
        log = open(a.log, 'w') if a.log else None
        s = Session(argv, deadline, log)
        try:
            s.wait_prompt('the shell prompt')
            if a.thread_metric:
                tm = thread_metric.run(s, a, arch_of(a.bsp), BenchError)
                return {'bsp': a.bsp, 'build': qemu_cmd.build_dir(a.bsp, a.build),
                        'arch': arch_of(a.bsp), 'icount': icount, 'git': git_revision(),
                        'qemu': argv, 'thread_metric': tm,
                        'results': {}, 'skipped': {}, 'failed': {}}
            listing = s.run('bench -l', 'the benchmark list')
            kernel_set, _, on_request = listing.partition(ON_REQUEST)
            listed = [m.group(1) for line in kernel_set.splitlines() if (m := LIST_RE.match(line))]
            if not listed:
                raise BenchError('`bench -l` listed no benchmarks')
            # A filter also selects the benchmarks run on request; --smp's default is theirs.
            only = a.only or ('smp_' if a.smp or wall_clock else '')
            if only:
                listed += [m.group(1) for line in on_request.splitlines()
                           if (m := LIST_RE.match(line))]
            selected = [n for n in listed if not only or only in n]
            if not selected:
                raise BenchError(f'no benchmark name contains {only!r}; there are: '
                                 + ', '.join(listed))
            out = s.run('bench ' + only if only else 'bench', 'the benchmark results')
        finally:
            s.close()
            if log:
                log.close()
    if not re.search(SUMMARY_RE, out):
        raise BenchError('no summary line from `bench`; output:\n' + out[-1500:])
    results, skipped, failed, counter = parse(out)
    for name in selected:
        if name not in results and name not in skipped and name not in failed:
            failed[name] = 'no result line'
    return {
        'bsp': a.bsp,
        'build': qemu_cmd.build_dir(a.bsp, a.build),
        'virtio': a.virtio or 'default',
        'icount': 'off' if wall_clock else icount,
        'smp': a.smp or 1,
        'git': git_revision(),
        'counter_hz': counter,
        'qemu': argv,
        'order': selected,
        'results': results,
        'skipped': skipped,
        'failed': failed,
    }


def arch_of(bsp):
    """riscv64 or aarch64, from the board's QEMU binary."""
    return qemu_cmd.bsp_defaults(bsp)['binary'].removeprefix('qemu-system-')


def mib_per_s_at_1gips(r):
    """Bytes per operation over instructions per operation, at 10^9 instructions/s."""
    if not r.get('bytes_per_op') or r['insn_per_op'] <= 0:
        return ''
    return f"{r['bytes_per_op'] / r['insn_per_op'] * 1e9 / (1 << 20):.0f}"


def print_table(data):
    print(f"{data['bsp']} (virtio {data['virtio']}, -icount {data['icount']}, "
          f"-smp {data.get('smp', 1)}, git {data.get('git') or '?'})")
    print(f"{'benchmark':<22} {'insn/op':>10} {'min':>10} {'runs':>5}  {'MiB/s@1Ginsn/s':>14}")
    names = data.get('order') or sorted(set(data['results']) | set(data['skipped'])
                                        | set(data['failed']))
    for name in names:
        if name in data['results']:
            r = data['results'][name]
            print(f"{name:<22} {r['insn_per_op']:>10.1f} {r['min']:>10.1f} {r['runs']:>5}  "
                  f"{mib_per_s_at_1gips(r):>14}")
        elif name in data['skipped']:
            print(f"{name:<22} {'skipped':>10}  ({data['skipped'][name]})")
        else:
            print(f"{name:<22} {'FAILED':>10}  ({data['failed'].get(name, '?')})")


def print_comparison(new, old):
    print(f"\nnew/old ({old.get('bsp', '?')} git {old.get('git') or '?'} -> "
          f"{new.get('bsp', '?')} git {new.get('git') or '?'}); below 1.000 is fewer instructions")
    print(f"{'benchmark':<22} {'old':>10} {'new':>10} {'new/old':>8} {'min new/old':>12}")
    names = list(new.get('order') or sorted(new['results']))
    names += [n for n in sorted(old['results']) if n not in names]
    logs = []
    for name in names:
        o, n = old['results'].get(name), new['results'].get(name)
        if not o or not n:
            print(f"{name:<22} {o['insn_per_op'] if o else '-':>10} "
                  f"{n['insn_per_op'] if n else '-':>10} {'n/a':>8}")
            continue
        ratio = n['insn_per_op'] / o['insn_per_op']
        min_ratio = n['min'] / o['min'] if o['min'] else float('nan')
        logs.append(math.log(ratio))
        print(f"{name:<22} {o['insn_per_op']:>10.1f} {n['insn_per_op']:>10.1f} {ratio:>8.3f} "
              f"{min_ratio:>12.3f}")
    if logs:
        print(f"{'geometric mean':<22} {'':>10} {'':>10} {math.exp(sum(logs) / len(logs)):>8.3f}")


def load(path):
    with open(path) as f:
        data = json.load(f)
    for key in ('results', 'skipped', 'failed'):
        data.setdefault(key, {})
    return data


def remeasure(a, data, base):
    """--check-baseline: a benchmark over the gate's tolerance is run again
    (up to baseline.RETRIES times) and keeps its cheapest run. A few figures
    move from run to run (baseline.py); a real regression stays."""
    for _ in range(baseline.RETRIES):
        names = baseline.regressed(data, base)
        if not names:
            return
        print(f"regression gate: measuring {', '.join(names)} again", file=sys.stderr)
        for name in names:
            b = argparse.Namespace(**vars(a))
            b.only = name
            for n, r in run_benchmarks(b)['results'].items():
                if n in data['results'] and r['min'] < data['results'][n]['min']:
                    data['results'][n]['min'] = r['min']


def speedup(a):
    """--speedup: smp_parallel_work by wall clock at -smp 1 and -smp N,
    alternating, a.repeat times; the speed-up is the ratio of the medians."""
    name = 'smp_parallel_work'
    times = {1: [], a.smp: []}
    loads = []
    for i in range(a.repeat):
        for n in times:
            b = argparse.Namespace(**vars(a))
            b.smp, b.wall_clock, b.only, b.no_disk, b.disk = n, True, name, True, None
            loads.append(os.getloadavg()[0])
            r = run_benchmarks(b)['results'].get(name)
            if not r:
                raise BenchError(f'{name} gave no result at -smp {n}')
            times[n].append(r['insn_per_op'])
            print(f'repetition {i + 1}: -smp {n}: {r["insn_per_op"]:.1f} ns per 1000 iterations '
                  f'(min {r["min"]:.1f}; load average {loads[-1]:.2f})', file=sys.stderr,
                  flush=True)
    med = {n: statistics.median(v) for n, v in times.items()}
    ratio = med[1] / med[a.smp]
    print(f"{a.bsp}: {name} by wall clock (-accel tcg,thread=multi), {a.repeat} boots each, "
          f"git {git_revision() or '?'}")
    for n, v in times.items():
        print(f"  -smp {n}: median {med[n]:.1f} ns per 1000 iterations "
              f"({', '.join(f'{x:.1f}' for x in v)})")
    best = min(times[1]) / min(times[a.smp])
    print(f"  fastest boots: {min(times[1]):.1f} / {min(times[a.smp]):.1f} = {best:.2f}x")
    print(f"  speed-up -smp {a.smp} over -smp 1: {ratio:.2f}x "
          f"(host load average {min(loads):.2f}-{max(loads):.2f} on {os.cpu_count()} CPUs)")
    return {'bsp': a.bsp, 'git': git_revision(), 'benchmark': name, 'smp': a.smp,
            'ns_per_1000': {str(n): v for n, v in times.items()}, 'speedup': ratio,
            'speedup_fastest': best,
            'loadavg': loads}


def update_baseline(p, a):
    """--update-baseline: BENCH_RUNS `bench` runs and a Thread-Metric run per
    board, with the baseline's options, written to tools/bench-baseline/<bsp>.json."""
    if a.from_json or a.only or a.disk or a.no_disk or a.thread_metric or a.compare:
        p.error('--update-baseline takes only --bsp / --build, --timeout and --log')
    if a.bsp or a.build:
        qemu_cmd.resolve_board(p, a)
        boards = [(a.bsp, a.build)]
    else:
        boards = [(b, None) for b in qemu_cmd.known_bsps()]
    rev = git_revision()  # before the first file is written
    for bsp, build in boards:
        runs = []
        for tm in [False] * baseline.BENCH_RUNS + [True]:
            b = argparse.Namespace(**vars(a))
            b.bsp, b.build, b.virtio, b.disk_size = bsp, build, baseline.VIRTIO, baseline.DISK_SIZE_MIB
            b.thread_metric, b.period = tm, baseline.PERIOD_S
            try:
                runs.append(run_benchmarks(b))
            except BenchError as e:
                print(f'bench.py: {bsp}: {e}', file=sys.stderr)
                return 1
        benches, tm = runs[:-1], runs[-1]['thread_metric']
        for bench in benches:
            print_table(bench)
        thread_metric.print_table(tm, arch_of(bsp))
        if any(b['failed'] or b['skipped'] for b in benches) or thread_metric.failed(tm):
            print(f'bench.py: {bsp}: not every figure was measured; baseline not written',
                  file=sys.stderr)
            return 1
        baseline.write(baseline.make(benches, tm, rev))
        print(f'wrote {os.path.relpath(baseline.path(bsp))}\n')
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split('\n', 2)[2])
    qemu_cmd.add_board_arguments(p)
    p.add_argument('--only', metavar='NAME', default='',
                   help='only the benchmarks whose name contains NAME')
    disk = p.add_mutually_exclusive_group()
    disk.add_argument('--disk', metavar='FILE[,ro]',
                      help='use this existing raw image as vda; its last MiB is '
                           'overwritten unless ,ro')
    disk.add_argument('--no-disk', action='store_true',
                      help='no disk: the blk benchmarks are skipped')
    p.add_argument('--disk-size', type=int, default=8, metavar='MIB',
                   help='size of the temporary scratch disk (default 8)')
    p.add_argument('--json', metavar='FILE', help='write the results as JSON')
    p.add_argument('--compare', metavar='OLD.json', help='print new/old ratios against OLD.json')
    p.add_argument('--chart', metavar='FILE.png',
                   help='write a PNG bar chart of the run (with --compare: of the ratios; '
                        'with --thread-metric: scores / FreeRTOS); needs python3-matplotlib')
    p.add_argument('--from-json', metavar='FILE',
                   help='take the results from FILE instead of booting (with --compare)')
    p.add_argument('--timeout', type=float, default=600, help='seconds for the whole run')
    p.add_argument('--log', metavar='FILE', help='write the serial console to FILE')
    p.add_argument('--thread-metric', action='store_true',
                   help='run the Thread-Metric tests (shell command tm) instead of bench; '
                        '--only NAME selects tests')
    gate = p.add_mutually_exclusive_group()
    gate.add_argument('--check-baseline', action='store_true',
                      help='regression gate: compare with tools/bench-baseline/<bsp>.json '
                           '(runs with its options: --modern, 1 MiB disk, --period '
                           f'{baseline.PERIOD_S}); exit 1 on a regression over '
                           f'{baseline.TOLERANCE * 100:g} %%')
    gate.add_argument('--update-baseline', action='store_true',
                      help='rewrite tools/bench-baseline/<bsp>.json (bench and Thread-Metric) '
                           'for --bsp/--build, else for every board from build/<bsp>')
    p.add_argument('--smp', type=int, metavar='N',
                   help='boot N CPUs and run the benchmarks across CPUs (smp_*); with '
                        '--speedup: the CPU count timed against -smp 1 (default 2); with '
                        '--io: the guest\'s CPUs, multi-threaded TCG above 1')
    p.add_argument('--speedup', action='store_true',
                   help='parallel speed-up by wall clock: smp_parallel_work at -smp 1 and '
                        '-smp N without -icount (-accel tcg,thread=multi)')
    p.add_argument('--repeat', type=int, default=3, metavar='R',
                   help='--speedup: boots per CPU count (default 3); the medians are compared')
    p.add_argument('--period', type=float, default=None, metavar='S',
                   help=f'Thread-Metric: {thread_metric.PERIODS} periods of S virtual seconds '
                        '(default 1); scores are scaled to 5 s')
    net.add_arguments(p)
    block_io.add_arguments(p)
    fs_bench.add_arguments(p)
    a = p.parse_args()
    if a.disk_size < 1:
        p.error('--disk-size must be at least 1 MiB')
    a.progress = sys.stderr
    if a.smp is not None and not 1 <= a.smp <= 8:
        p.error('--smp must be 1..8')
    if a.speedup and (a.thread_metric or a.check_baseline or a.update_baseline
                      or a.net or a.io or a.fs):
        p.error('--speedup runs `bench` only: not with --thread-metric, the baseline, --net, '
                '--io or --fs')
    # --io boots its own guest at --smp (block_io.py); the others run `bench` only.
    if a.smp and (a.thread_metric or a.check_baseline or a.update_baseline or a.net or a.fs):
        p.error('--smp runs `bench` or --io only: not with --thread-metric, the baseline, '
                '--net or --fs')
    if a.speedup:
        if a.from_json or a.compare or a.repeat < 1:
            p.error('--speedup boots (no --from-json / --compare) and needs --repeat >= 1')
        a.smp = a.smp or 2
        if a.smp < 2:
            p.error('--speedup compares -smp N (N >= 2) with -smp 1')
        qemu_cmd.resolve_board(p, a)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        try:
            data = speedup(a)
        except BenchError as e:
            print(f'bench.py: {e}', file=sys.stderr)
            return 1
        if a.json:
            with open(a.json, 'w') as f:
                json.dump(data, f, indent=2)
                f.write('\n')
        return 0
    if a.update_baseline:
        return update_baseline(p, a)
    if a.check_baseline and not a.from_json:
        # The baseline's options: a check compares like with like.
        if a.disk or a.no_disk or a.virtio in ('legacy', 'packed') or a.period not in (None, baseline.PERIOD_S):
            p.error('--check-baseline runs with the baseline\'s own options (--modern, a '
                    f'{baseline.DISK_SIZE_MIB} MiB scratch disk, --period {baseline.PERIOD_S})')
        a.virtio, a.disk_size, a.period = baseline.VIRTIO, baseline.DISK_SIZE_MIB, baseline.PERIOD_S
    if a.period is None:
        a.period = 1.0
    if not 0.001 <= a.period <= 600:
        p.error('--period must be 0.001..600 seconds')
    if not a.from_json:
        qemu_cmd.resolve_board(p, a)
    # A SIGTERM (or the timeout of a caller) still runs the finally blocks that kill QEMU.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if a.net:
        return net.main(a, Session, BenchError, git_revision)
    if a.io:
        return block_io.main(a, Session, BenchError, git_revision)
    if a.fs:
        return fs_bench.main(a, Session, BenchError, git_revision)
    try:
        old = load(a.compare) if a.compare else None
        data = load(a.from_json) if a.from_json else run_benchmarks(a)
    except (BenchError, OSError, json.JSONDecodeError) as e:
        print(f'bench.py: {e}', file=sys.stderr)
        return 1
    if 'thread_metric' in data:
        thread_metric.print_table(data['thread_metric'], data['arch'])
    else:
        print_table(data)
    if a.json:
        with open(a.json, 'w') as f:
            json.dump(data, f, indent=2)
            f.write('\n')
    if old and 'thread_metric' in data and 'thread_metric' in old:
        thread_metric.print_comparison(data['thread_metric'], old['thread_metric'])
    elif old:
        print_comparison(data, old)
    if a.chart:
        if why := chart.write(a.chart, data, old):
            print(f'bench.py: no chart: {why}', file=sys.stderr)
        else:
            print(f'chart: {a.chart}')
    if a.check_baseline:
        try:
            base = baseline.load(data['bsp'])
        except (OSError, json.JSONDecodeError) as e:
            print(f'bench.py: no baseline for {data["bsp"]} ({e}); make it with:\n  '
                  f'{baseline.UPDATE_COMMAND}', file=sys.stderr)
            return 1
        if data.get('virtio', baseline.VIRTIO) != baseline.VIRTIO:
            print(f'bench.py: the run used virtio {data["virtio"]}; the baseline '
                  f'{baseline.VIRTIO}', file=sys.stderr)
            return 1
        if not a.from_json:
            try:
                remeasure(a, data, base)
            except BenchError as e:
                print(f'bench.py: {e}', file=sys.stderr)
                return 1
        if baseline.check(data, base):
            return 1
    if 'thread_metric' in data:
        return 1 if thread_metric.failed(data['thread_metric']) else 0
    return 1 if data['failed'] or not (data['results'] or data['skipped']) else 0


if __name__ == '__main__':
    sys.exit(main())
