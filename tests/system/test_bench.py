"""tools/bench.py and the on-target `bench` and `tm` commands (rtos/bench/):
every benchmark and Thread-Metric test gives a result on both boards, the
block benchmarks skip cleanly without a disk or with a read-only one,
--compare prints ratios, and the regression gate holds: no -icount figure
more than 2 % worse than the committed baseline (tools/bench-baseline/,
tools/benchlib/baseline.py). These figures are instruction counts, not
host time, so the gate does not depend on how loaded the machine is.
About 1.5 s of QEMU per board for `bench`, 8 s for Thread-Metric.
"""
import glob
import json
import os
import re
import subprocess
import sys
import zlib

import pytest
from conftest import BSPS, ROOT, build
from guest import Guest

sys.path.insert(0, os.path.join(ROOT, 'tools'))
import bench as bench_tool  # noqa: E402
import qemu_cmd  # noqa: E402
from benchlib import baseline  # noqa: E402

BENCH = [os.path.join(ROOT, 'tools', 'bench.py')]
PNG = b'\x89PNG\r\n\x1a\n'
LOGS = os.path.join(ROOT, 'build', 'test-logs')


def registered():
    """Every benchmark in the order `bench` runs them: the runner's own table
    (rtos/bench/runner.cpp), then each BENCHMARKS() group beside the code it
    measures (components/, in link order)."""
    def entries(src, start):
        table = src[re.search(start, src, re.M).start():]
        table = table[:table.index('\n};')]
        return re.findall(r'^\s*\{"(\w+)",', table, re.M)

    names = entries(open(os.path.join(ROOT, 'rtos', 'bench', 'runner.cpp')).read(),
                    r'kBenchmarks\[\] = \{')
    for path in sorted(glob.glob(os.path.join(ROOT, 'components', '**', '*.cpp'), recursive=True)):
        src = open(path).read()
        if re.search(r'^BENCHMARKS\(\w+\) = \{', src, re.M):
            names += entries(src, r'^BENCHMARKS\(\w+\) = \{')
    return names


def bench(bsp, *args, log):
    os.makedirs(LOGS, exist_ok=True)
    return subprocess.run(BENCH + ['--bsp', bsp, '--log', os.path.join(LOGS, log + '.log'),
                                   '--timeout', '120', *args],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=180)


@pytest.mark.parametrize('bsp', BSPS)
def test_every_benchmark_gives_a_result(bsp, tmp_path):
    build(bsp)
    names = registered()
    assert len(names) >= 11 and len(names) == len(set(names)), names
    out_json = tmp_path / 'results.json'
    r = bench(bsp, '--modern', '--disk-size', '1', '--json', str(out_json),
              log=f'test_bench_{bsp}')
    assert r.returncode == 0, r.stdout
    data = json.loads(out_json.read_text())
    # With a disk, idle time follows host time (sleep on: docs/benchmarks.md).
    assert data['bsp'] == bsp and data['icount'] == 'shift=0'
    assert data['counter_hz'] and data['counter_hz'] > 0
    assert not data['failed'] and not data['skipped'], r.stdout
    assert list(data['results']) == names, r.stdout
    for name, res in data['results'].items():
        assert res['insn_per_op'] > 0 and res['min'] > 0, (name, res)
        assert res['runs'] >= 4, (name, res)
        if name.startswith('blk_'):
            assert res['bytes_per_op'] in (4096, 65536), (name, res)
        assert re.search(rf'^{name}\s+\d+\.\d\s+\d+\.\d\s+\d+', r.stdout, re.M), r.stdout
    # --compare against itself, without booting: every ratio is 1.
    c = subprocess.run(BENCH + ['--from-json', str(out_json), '--compare', str(out_json)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    assert c.returncode == 0, c.stdout
    for name in names:
        assert re.search(rf'^{name}\s+\S+\s+\S+\s+1\.000\s+1\.000$', c.stdout, re.M), c.stdout
    # The regression gate: a run against the committed baseline (it measures
    # a figure over the tolerance again before it fails).
    g = bench(bsp, '--check-baseline', log=f'test_bench_gate_{bsp}')
    assert g.returncode == 0, g.stdout
    assert 'regression gate passed' in g.stdout, g.stdout


@pytest.mark.parametrize('bsp', BSPS)
def test_thread_metric_scores_and_gate(bsp, tmp_path):
    """Every Thread-Metric test scores (its counters checked on the target)
    and no score falls more than 2 % below the baseline."""
    build(bsp)
    out_json, png = tmp_path / 'tm.json', tmp_path / 'tm.png'
    r = bench(bsp, '--thread-metric', '--check-baseline', '--json', str(out_json),
              '--chart', str(png), log=f'test_bench_tm_{bsp}')
    assert r.returncode == 0, r.stdout
    assert png.read_bytes().startswith(PNG), r.stdout
    tm = json.loads(out_json.read_text())['thread_metric']
    assert tm['order'] == list(baseline.load(bsp)['thread_metric']), r.stdout
    for name, res in tm['results'].items():
        assert res['score'] > 0 and len(res['periods']) == 5 and all(res['periods']), (name, res)
    assert 'regression gate passed' in r.stdout


@pytest.mark.parametrize('bsp', BSPS)
def test_slow_disk_under_the_benchmarks_icount(bsp, tmp_path):
    """Under the -icount mode tools/bench.py boots with a disk (sleep on), a
    device that takes half a second of host time per request still completes
    inside the driver's 10 s timeout, with the right data. With sleep=off
    each of these requests times out at once: virtual time jumps to the
    timeout while the host is still waiting (docs/benchmarks.md)."""
    build(bsp)
    data = bytes(range(256)) * 2 * 8
    img = tmp_path / 'slow.img'
    img.write_bytes(data + bytes((1 << 20) - len(data)))
    drive = f'file={img},if=none,format=raw,id=slow,throttling.iops-total=2'
    g = Guest(bsp, None, log_name=f'test_bench_slow_disk_{bsp}',
              extra=['-icount', bench_tool.ICOUNT_IO, '-drive', drive,
                     '-device', qemu_cmd.virtio_device('blk', 'mmio') + ',drive=slow'])
    try:
        g.wait_prompt()
        for lba in range(4):
            out = g.run(f'blk crc {lba} 1')
            assert f'crc32={zlib.crc32(data[lba * 512:(lba + 1) * 512]):08x}' in out, out
        assert 'timed out' not in g.output(), g.output()
    finally:
        g.close()


def scaled_baseline_run(tmp_path, scale):
    """A saved run: the first board's baseline figures times `scale`."""
    bsp = BSPS[0]
    data = {'bsp': bsp, 'virtio': 'modern', 'icount': 'shift=0,sleep=off', 'skipped': {},
            'failed': {},
            'results': {n: {'insn_per_op': v * scale, 'min': v * scale, 'runs': 16,
                            'bytes_per_op': 0} for n, v in baseline.load(bsp)['bench'].items()}}
    path = tmp_path / f'{scale}.json'
    path.write_text(json.dumps(data))
    return path


def from_json(*args, env=None):
    return subprocess.run(BENCH + ['--from-json', *args], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=60, env=env)


def test_regression_gate_fails_and_says_how_to_update(tmp_path):
    """A figure 3 % over its baseline fails the gate, whose message names the
    command that updates the baseline; 1 % passes. No boot."""
    def check(scale):
        return from_json(str(scaled_baseline_run(tmp_path, scale)), '--check-baseline')

    assert check(1.01).returncode == 0
    r = check(1.03)
    assert r.returncode == 1, r.stdout
    assert 'REGRESSION' in r.stdout and 'regression gate FAILED' in r.stdout, r.stdout
    assert 'tools/bench.py --update-baseline' in r.stdout, r.stdout


def test_block_benchmarks_skip_without_a_writable_disk(tmp_path):
    bsp = BSPS[0]
    build(bsp)
    blk = [n for n in registered() if n.startswith('blk_')]
    r = bench(bsp, '--no-disk', '--only', 'blk_', '--json', str(tmp_path / 'none.json'),
              log='test_bench_no_disk')
    assert r.returncode == 0, r.stdout
    data = json.loads((tmp_path / 'none.json').read_text())
    assert data['skipped'] == {n: 'no block device' for n in blk}, r.stdout
    assert not data['results'] and not data['failed']

    disk = tmp_path / 'ro.img'
    disk.write_bytes(b'\0' * (1 << 20))
    r = bench(bsp, '--disk', f'{disk},ro', '--only', 'blk_', '--json', str(tmp_path / 'ro.json'),
              log='test_bench_read_only')
    assert r.returncode == 0, r.stdout
    data = json.loads((tmp_path / 'ro.json').read_text())
    writes = [n for n in blk if 'write' in n]
    assert writes and data['skipped'] == {n: 'the first disk is read-only' for n in writes}
    assert sorted(data['results']) == sorted(set(blk) - set(writes)), r.stdout
    assert all(v['insn_per_op'] > 0 for v in data['results'].values())


def test_charts_of_a_run_and_of_a_comparison(tmp_path):
    """--chart writes a PNG of a run and of a --compare; without matplotlib
    the run still succeeds and says what to install. No boot."""
    new, old = scaled_baseline_run(tmp_path, 0.9), scaled_baseline_run(tmp_path, 1.0)
    for args in ([], ['--compare', str(old)]):
        png = tmp_path / f'chart{len(args)}.png'
        r = from_json(str(new), *args, '--chart', str(png))
        assert r.returncode == 0, r.stdout
        assert png.read_bytes().startswith(PNG), r.stdout
    # A matplotlib that cannot be imported, ahead of the real one.
    fake = tmp_path / 'fake'
    fake.mkdir()
    (fake / 'matplotlib.py').write_text('raise ImportError("no matplotlib here")\n')
    r = from_json(str(new), '--chart', str(tmp_path / 'none.png'),
                  env={**os.environ, 'PYTHONPATH': str(fake)})
    assert r.returncode == 0, r.stdout
    assert 'python3-matplotlib' in r.stdout and not (tmp_path / 'none.png').exists(), r.stdout


def test_tm_command_runs_again_and_refuses_bad_arguments():
    """`tm` in one boot: the list, repeated runs of the tests whose objects an
    earlier run's suspended thread may have left taken (the pool, the queue,
    the semaphore), and clear errors for a bad test name or period."""
    bsp = BSPS[0]
    build(bsp)
    g = Guest(bsp, None, log_name='test_bench_tm_command', extra=['-icount', 'shift=0,sleep=off'])
    try:
        g.wait_prompt()
        listed = re.findall(r'^  (\w+)\s', g.run('tm -l'), re.M)
        assert listed == ['basic', 'cooperative', 'preemptive', 'interrupt',
                          'interrupt_preemption', 'message', 'synchronization', 'memory']
        for name in ['memory'] * 6 + ['message', 'message', 'synchronization', 'interrupt'] * 2:
            out = g.run(f'tm {name} 5 2')
            assert re.search(rf'^tm: {name} period 2 [1-9]\d*$', out, re.M), out
            assert re.search(rf'^tm: {name} score [1-9]\d* per 5 s \(total \d+ in 10 ms\)$',
                             out, re.M), out
        assert "tm: no test 'nosuch'" in g.run('tm nosuch')
        assert 'usage: tm' in g.run('tm basic 0')
        assert re.search(r'^\s*tm0\s+suspended', g.run('ps'), re.M)
    finally:
        g.close()
